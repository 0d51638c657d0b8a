package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// A worker whose daemon stopped loses its work: its expired assignment goes
// to the other, idle worker (never back to it) and its units are free at
// once; after max_consecutive_expiries expiries in a row it gets nothing new,
// even with free capacity and a request waiting, until it sends
// resume-worker itself. Through signed txs on the full app.
func TestDeadWorkerLosesItsWork(t *testing.T) {
	const timeout = 3
	c := newRepChain(t, 4, func(p *deferraltypes.Params) {
		p.AssignmentTimeoutBlocks = timeout
		p.MaxAttempts = 10
	})
	requester, a, b, outsider := c.Accounts[0], c.Accounts[1], c.Accounts[2], c.Accounts[3]
	c.registerWorkers([]apptest.Account{a, b}, sdkmath.NewInt(10_000_000))
	rp, err := c.App.ReputationKeeper.GetParams(c.Context())
	require.NoError(t, err)
	require.Equal(t, uint32(reputationtypes.DefaultMaxConsecutiveExpiries), rp.MaxConsecutiveExpiries)

	first := c.submit(requester, 1)[0]
	require.Equal(t, deferraltypes.StatusAssigned, first.Status)
	dead, alive := a, b
	if first.Worker == b.Address.String() {
		dead, alive = b, a
	}
	inFlight := func(acc apptest.Account) uint64 {
		w, err := c.App.ShardKeeper.GetWorker(c.Context(), acc.Address)
		require.NoError(t, err)
		return w.InFlightUnits
	}
	// expire waits for the request's assignment to dead to expire and returns
	// the request as it is after that block.
	expire := func(id uint64) deferraltypes.Request {
		t.Helper()
		for i := 0; i <= timeout+1; i++ {
			c.NextBlock(t)
			for _, e := range apptest.TypedEvents[*deferraltypes.EventAssignmentExpired](t, c.BlockEvents) {
				if e.RequestId == id {
					require.Equal(t, dead.Address.String(), e.Worker)
					r, err := c.App.DeferralKeeper.GetRequest(c.Context(), id)
					require.NoError(t, err)
					return r
				}
			}
		}
		t.Fatalf("request %d never expired", id)
		return deferraltypes.Request{}
	}

	// 1. expiry with a second idle worker: the request goes to it, at once
	r := expire(first.RequestId)
	require.Equal(t, deferraltypes.StatusAssigned, r.Status)
	require.Equal(t, alive.Address.String(), r.Worker, "re-assigned to the idle worker")
	require.Equal(t, []string{dead.Address.String()}, r.ExcludedWorkers)
	require.Zero(t, inFlight(dead), "the expired assignment's units are released")
	require.Equal(t, uint64(1), inFlight(alive))

	// a worker that is not unresponsive has nothing to resume
	before := c.reputationStore()
	requireCode(t, reputationtypes.ErrWorkerNotUnresponsive,
		c.deliver([]apptest.Account{alive}, &shardtypes.MsgResumeWorker{Worker: alive.Address.String()})[0])
	require.Equal(t, before, c.reputationStore())

	// 2. alive finishes and leaves; dead gets the next requests and lets
	// them expire
	c.complete(byAddress(c.Accounts), []deferraltypes.MsgSubmitRequestResponse{{RequestId: r.Id, Status: r.Status, Worker: r.Worker}})
	c.ok(c.deliver([]apptest.Account{alive}, &shardtypes.MsgUnregisterWorker{Worker: alive.Address.String()}))
	var waiting []uint64
	for n := 2; n <= int(rp.MaxConsecutiveExpiries); n++ {
		next := c.submit(requester, 1)[0]
		require.Equal(t, dead.Address.String(), next.Worker, "only dead has room")
		r := expire(next.RequestId)
		require.Equal(t, deferraltypes.StatusQueued, r.Status, "no other worker and dead is excluded")
		waiting = append(waiting, next.RequestId)
	}
	profile, _, err := c.App.ReputationKeeper.GetWorkerProfile(c.Context(), dead.Address)
	require.NoError(t, err)
	require.True(t, profile.Unresponsive, "after %d expiries in a row", rp.MaxConsecutiveExpiries)
	require.False(t, profile.Paused, "its score alone would not pause it")
	sw, err := c.App.ShardKeeper.GetWorker(c.Context(), dead.Address)
	require.NoError(t, err)
	require.True(t, sw.Paused, "x/shard gives it nothing new")
	require.Zero(t, sw.InFlightUnits)

	// 3. a new request waits although dead has room
	fresh := c.submit(requester, 1)[0]
	require.Equal(t, deferraltypes.StatusQueued, fresh.Status)
	c.NextBlock(t)
	c.NextBlock(t)
	r, err = c.App.DeferralKeeper.GetRequest(c.Context(), fresh.RequestId)
	require.NoError(t, err)
	require.Equal(t, deferraltypes.StatusQueued, r.Status, "an unresponsive worker gets no work")

	// 4. refusals change nothing: an account that is no worker, a worker that
	// left
	before = c.reputationStore()
	requireCode(t, shardtypes.ErrWorkerNotFound,
		c.deliver([]apptest.Account{outsider}, &shardtypes.MsgResumeWorker{Worker: outsider.Address.String()})[0])
	requireCode(t, shardtypes.ErrWorkerNotActive,
		c.deliver([]apptest.Account{alive}, &shardtypes.MsgResumeWorker{Worker: alive.Address.String()})[0])
	require.Equal(t, before, c.reputationStore())

	// 5. dead resumes: it takes the waiting request in the next drain
	res := c.deliver([]apptest.Account{dead}, &shardtypes.MsgResumeWorker{Worker: dead.Address.String()})[0]
	require.Zero(t, res.Code, res.Log)
	var resp shardtypes.MsgResumeWorkerResponse
	c.MsgResponse(t, res, &resp)
	require.True(t, resp.Eligible)
	require.Len(t, apptest.TypedEvents[*reputationtypes.EventWorkerResponsive](t, res.Events), 1)
	c.NextBlock(t)
	r, err = c.App.DeferralKeeper.GetRequest(c.Context(), fresh.RequestId)
	require.NoError(t, err)
	require.Equal(t, deferraltypes.StatusAssigned, r.Status)
	require.Equal(t, dead.Address.String(), r.Worker)
	for _, id := range waiting {
		w, err := c.App.DeferralKeeper.GetRequest(c.Context(), id)
		require.NoError(t, err)
		require.Equal(t, deferraltypes.StatusQueued, w.Status, "request %d never goes back to the worker that let it expire", id)
	}
}
