package app_test

import (
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// x/reputation's word on a worker reaches x/shard's assignment through the
// hook wired in app.go: a worker paused by its outcomes is never found, even
// as the best fit and the only candidate, and is found again once the
// x/reputation EndBlock at its resume height finds its score recovered, yet
// ranks below a new worker that fits worse.
func TestPausedWorkerIsNeverAssignedUntilItRecovers(t *testing.T) {
	// the score pause alone: no run of expiries marks the worker unresponsive
	c := apptest.New(t, 3, func(g app.GenesisState) {
		apptest.EditGenesis(t, g, reputationtypes.ModuleName, &reputationtypes.GenesisState{}, func(gs *reputationtypes.GenesisState) {
			gs.Params.MaxConsecutiveExpiries = reputationtypes.MaxConsecutiveExpiriesLimit
		})
	})
	ctx := c.Context()
	flaky, steady, stranger := c.Accounts[0].Address, c.Accounts[1].Address, c.Accounts[2].Address
	msgs := shardkeeper.NewMsgServerImpl(c.App.ShardKeeper)
	sp, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	for _, w := range []struct {
		addr     sdk.AccAddress
		capacity uint64
	}{{flaky, 10}, {steady, 100}} {
		resp, err := msgs.RegisterWorker(ctx, &shardtypes.MsgRegisterWorker{
			Worker: w.addr.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: w.capacity, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
		})
		require.NoError(t, err)
		require.Equal(t, uint64(1), resp.ShardId)
	}
	find := func(ctx sdk.Context, units uint64, excluded ...sdk.AccAddress) sdk.AccAddress {
		addr, ok, err := c.App.ShardKeeper.FindWorker(ctx, 1, units, 100, excluded)
		require.NoError(t, err)
		if !ok {
			return nil
		}
		return addr
	}
	require.Equal(t, flaky, find(ctx, 5), "both new: the best fit")

	rep := c.App.ReputationKeeper
	var p reputationtypes.WorkerProfile
	for i := 0; !p.Paused; i++ {
		require.Less(t, i, 100, "expiries must pause the worker")
		require.NoError(t, rep.RecordWorkerOutcome(ctx, flaky, outcome.WorkerExpired))
		p, _, err = rep.GetWorkerProfile(ctx, flaky)
		require.NoError(t, err)
		w, err := c.App.ShardKeeper.GetWorker(ctx, flaky)
		require.NoError(t, err)
		require.Equal(t, p.Score, w.ScorePpm, "x/shard holds the score x/reputation computed")
		require.Equal(t, p.Paused, w.Paused)
	}
	require.Equal(t, steady, find(ctx, 5), "the paused best fit is passed over")
	require.Nil(t, find(ctx, 5, steady), "a paused worker is never found, even alone")
	free, err := c.App.ShardKeeper.MaxFreeCapacity(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, uint64(100), free, "a paused worker's free units do not count")

	// not yet at the resume height: still paused
	rp, err := rep.GetParams(ctx)
	require.NoError(t, err)
	early := ctx.WithBlockHeight(p.ResumeHeight - 1)
	require.NoError(t, rep.EndBlocker(early))
	require.Nil(t, find(early, 5, steady))

	due := ctx.WithBlockHeight(p.ResumeHeight)
	require.NoError(t, rep.EndBlocker(due))
	after, _, err := rep.GetWorkerProfile(due, flaky)
	require.NoError(t, err)
	require.GreaterOrEqual(t, after.Score, rp.MinWorkerScorePpm)
	require.False(t, after.Paused)
	require.Equal(t, flaky, find(due, 5, steady), "recovered: found again")

	// recovered, but with a score below a new worker's: the steady worker,
	// never rated (new_worker_score_ppm), ranks above it although the flaky
	// one fits better
	fw, err := c.App.ShardKeeper.GetWorker(due, flaky)
	require.NoError(t, err)
	require.Less(t, shardtypes.WorkerTier(fw.ScorePpm), shardtypes.WorkerTier(sp.NewWorkerScorePpm))
	require.Equal(t, steady, find(due, 5))

	// a worker outcome of an account that is not a worker (or no longer is)
	// is counted by x/reputation and ignored by x/shard
	require.NoError(t, rep.RecordWorkerOutcome(due, stranger, outcome.WorkerCompleted))
	_, err = c.App.ShardKeeper.GetWorker(due, stranger)
	require.ErrorIs(t, err, shardtypes.ErrWorkerNotFound)
}

// rate-worker through the whole app: only the requester of a request its
// worker completed rates it, once, 1..5; every refusal is a typed error that
// changes no reputation state; the rating moves the worker's rating factor.
func TestRateWorkerThroughTheApp(t *testing.T) {
	c := newRepChain(t, 4, nil)
	requester, worker, other := c.Accounts[1], c.Accounts[2], c.Accounts[3]
	c.registerWorkers([]apptest.Account{worker}, sdkmath.NewInt(10_000_000))

	done := c.submit(requester, 1)[0]
	require.Equal(t, worker.Address.String(), done.Worker)
	c.complete(byAddress(c.Accounts), []deferraltypes.MsgSubmitRequestResponse{done})
	open := c.submit(requester, 1)[0]
	require.Equal(t, deferraltypes.StatusAssigned, open.Status)

	rate := func(from apptest.Account, id uint64, rating uint32) *reputationtypes.MsgRateWorker {
		return &reputationtypes.MsgRateWorker{Requester: from.Address.String(), RequestId: id, Rating: rating}
	}
	before := c.reputationStore()
	for _, tc := range []struct {
		name string
		from apptest.Account
		msg  *reputationtypes.MsgRateWorker
		want *errorsmod.Error
	}{
		{"rating 0", requester, rate(requester, done.RequestId, 0), reputationtypes.ErrInvalidRating},
		{"rating 6", requester, rate(requester, done.RequestId, 6), reputationtypes.ErrInvalidRating},
		{"unknown request", requester, rate(requester, 999, 3), reputationtypes.ErrRequestNotFound},
		{"not completed", requester, rate(requester, open.RequestId, 3), reputationtypes.ErrRequestNotCompleted},
		{"not the requester", other, rate(other, done.RequestId, 1), reputationtypes.ErrNotRequester},
		{"the worker", worker, rate(worker, done.RequestId, 5), reputationtypes.ErrNotRequester},
	} {
		res := c.deliver([]apptest.Account{tc.from}, tc.msg)[0]
		requireCode(t, tc.want, res)
		require.Equal(t, before, c.reputationStore(), "%s: no state change", tc.name)
	}

	prior, _, err := c.App.ReputationKeeper.GetWorkerProfile(c.Context(), worker.Address)
	require.NoError(t, err)
	standing := c.score(requester.Address)
	res := c.deliver([]apptest.Account{requester}, rate(requester, done.RequestId, 5))[0]
	var resp reputationtypes.MsgRateWorkerResponse
	c.MsgResponse(t, res, &resp)
	require.Equal(t, worker.Address.String(), resp.Worker)
	require.Equal(t, standing, resp.WeightPpm, "weighed by the requester's own score")
	events := apptest.TypedEvents[*reputationtypes.EventWorkerRated](t, res.Events)
	require.Len(t, events, 1)
	p, found, err := c.App.ReputationKeeper.GetWorkerProfile(c.Context(), worker.Address)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, prior.RatingsReceived+1, p.RatingsReceived)
	require.Greater(t, p.RatingPpm, prior.RatingPpm)
	w, err := c.App.ShardKeeper.GetWorker(c.Context(), worker.Address)
	require.NoError(t, err)
	require.Equal(t, p.Score, w.ScorePpm, "x/shard is told the new score")

	after := c.reputationStore()
	requireCode(t, reputationtypes.ErrDuplicateRating, c.deliver([]apptest.Account{requester}, rate(requester, done.RequestId, 1))[0])
	require.Equal(t, after, c.reputationStore(), "second rating: no state change")
}
