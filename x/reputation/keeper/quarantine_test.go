package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// The EndBlock quarantine of x/reputation: the resume check of a paused
// worker that fails max_item_failures times in a row leaves the resume
// queue, the other checks go on, and governance retries or drops it. The
// failure is injected through the expected-keeper interface: x/shard (the
// standing listener) refuses the worker (failingStanding).

// quarantineFixture pauses "bad" and "good" at height 1 with
// max_item_failures 2, arms the failure for "bad", and runs the two checks
// that quarantine it. It returns the fixture, the failing listener and the
// resume height of the first check.
func quarantineFixture(t *testing.T) (fixture, *failingStanding, int64) {
	t.Helper()
	s := keepertest.NewStore(t, types.StoreKey)
	f := newFixture(t)
	fs := &failingStanding{fail: testAddr("bad")}
	f.keeper = keeper.NewKeeper(f.cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), noStake{}, noBonds{}, fs)
	f.store, f.ctx, f.standing = s, s.Ctx, &fs.standingLog
	f.msgs, f.query = keeper.NewMsgServerImpl(f.keeper), keeper.NewQueryServerImpl(f.keeper)
	f = f.withDefaults(t)
	f.setParams(t, func(p *types.Params) {
		p.MaxItemFailures = 2
		// The workers are paused by their expiries; the unresponsive mark
		// that many expiries in a row also set is not what these tests are about.
		p.MaxConsecutiveExpiries = types.MaxConsecutiveExpiriesLimit
	})
	params := f.params(t)
	bad, good := testAddr("bad"), testAddr("good")
	f.pauseByExpiries(t, f.at(1), bad)
	f.pauseByExpiries(t, f.at(1), good)
	resume := int64(1 + params.WorkerPauseBlocks)
	fs.armed = true

	ctx := f.at(resume)
	require.NoError(t, f.keeper.EndBlocker(ctx))
	g, _ := f.worker(t, ctx, good)
	require.False(t, g.Paused, "the other check goes through")
	require.Len(t, eventsOf[*types.EventWorkerResumeFailed](t, ctx), 1, "below the limit: rescheduled")
	require.Empty(t, f.quarantined(t))

	ctx = f.at(resume + int64(params.WorkerPauseBlocks))
	require.NoError(t, f.keeper.EndBlocker(ctx))
	require.Len(t, eventsOf[*qtypes.EventItemQuarantined](t, ctx), 1)
	return f, fs, resume
}

func (f fixture) quarantined(t *testing.T) []qtypes.QuarantinedItem {
	t.Helper()
	res, err := f.query.Quarantine(f.ctx, &types.QueryQuarantineRequest{})
	require.NoError(t, err)
	return res.Items
}

// Quarantined at the second failure: out of the resume queue, still paused,
// no longer checked; once x/shard takes the worker again, governance retries
// the check and the next EndBlock runs it (the bad counters halved).
func TestQuarantineWorkerResumeThenRetry(t *testing.T) {
	f, fs, resume := quarantineFixture(t)
	bad := testAddr("bad")
	items := f.quarantined(t)
	require.Len(t, items, 1)
	require.Equal(t, types.StepResumeWorker, items[0].Step)
	require.Equal(t, types.WorkerItem(bad), items[0].Item)
	require.Equal(t, uint32(2), items[0].Failures)
	require.Contains(t, items[0].Error, "x/shard is down")
	require.Empty(t, f.queued(t), "out of the resume queue")
	b, _ := f.worker(t, f.ctx, bad)
	require.True(t, b.Paused, "still paused")

	later := f.at(b.ResumeHeight + 10_000)
	require.NoError(t, f.keeper.EndBlocker(later))
	require.Empty(t, eventsOf[*types.EventWorkerResumeFailed](t, later), "no longer retried")

	_, err := f.msgs.RetryQuarantined(f.ctx, &types.MsgRetryQuarantined{Authority: testAddr("anyone").String(), Step: types.StepResumeWorker, Item: items[0].Item})
	require.ErrorIs(t, err, types.ErrUnauthorized)
	_, err = f.msgs.DropQuarantined(f.ctx, &types.MsgDropQuarantined{Authority: keepertest.Authority(), Step: types.StepResumeWorker, Item: types.WorkerItem(testAddr("good"))})
	require.ErrorIs(t, err, types.ErrQuarantinedItemNotFound)

	fs.armed = false
	_, err = f.msgs.RetryQuarantined(f.ctx, &types.MsgRetryQuarantined{Authority: keepertest.Authority(), Step: types.StepResumeWorker, Item: items[0].Item})
	require.NoError(t, err)
	require.Empty(t, f.quarantined(t))
	require.Equal(t, []collections.Pair[int64, sdk.AccAddress]{collections.Join(b.ResumeHeight, bad)}, f.queued(t))
	ctx := f.at(resume + 20_000)
	require.NoError(t, f.keeper.EndBlocker(ctx))
	after, _ := f.worker(t, ctx, bad)
	require.Equal(t, b.Expiries/2, after.Expiries, "the retried check ran")
}

// Governance drops the quarantined check: the worker is resumed without it,
// and x/shard is told it may be assigned again.
func TestQuarantineWorkerResumeDrop(t *testing.T) {
	f, fs, _ := quarantineFixture(t)
	bad := testAddr("bad")
	b0, _ := f.worker(t, f.ctx, bad)
	fs.armed = false
	res, err := f.msgs.DropQuarantined(f.ctx, &types.MsgDropQuarantined{Authority: keepertest.Authority(), Step: types.StepResumeWorker, Item: types.WorkerItem(bad)})
	require.NoError(t, err)
	require.Contains(t, res.Outcome, "resumed without its check")
	b, _ := f.worker(t, f.ctx, bad)
	require.False(t, b.Paused)
	require.Zero(t, b.ResumeHeight)
	require.Equal(t, b0.Expiries, b.Expiries, "its record is left as it is")
	require.Equal(t, standing{worker: bad, score: b.Score, eligible: true}, f.standing.last())
	require.Empty(t, f.quarantined(t))
	require.Empty(t, f.queued(t))
}
