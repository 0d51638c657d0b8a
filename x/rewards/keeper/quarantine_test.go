package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/rewards/keeper"
	"github.com/repshard/repshard/x/rewards/types"
)

// The EndBlock quarantine of x/rewards: an epoch close that fails
// max_item_failures blocks in a row is quarantined by closing the epoch
// without emission, so the epochs behind it go on; governance retries the
// emission or drops it. The failure is injected by corrupting the stored
// ledger, which a close reads and the close without emission does not.

// quarantinedEpoch funds the pool with 1 REP, gives the worker 1,000,000
// points in epoch 1, corrupts the ledger and runs the two EndBlocks that
// quarantine epoch 1's close (max_item_failures 2). It returns a func that
// repairs the ledger.
func quarantinedEpoch(t *testing.T, f *appFixture) (repair func()) {
	t.Helper()
	f.setParams(func(p *types.Params) { p.MaxItemFailures = 2 })
	f.fund(f.requester, 1_000_000)
	f.contribute(f.worker, 1_000_000)
	store := f.ctx.KVStore(f.c.App.GetKey(types.StoreKey))
	good := store.Get(types.LedgerKey.Bytes())
	require.NotNil(t, good)
	store.Set(types.LedgerKey.Bytes(), []byte{0xff})

	open, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(t, err)
	end := keeper.EpochEndHeight(open, f.params())
	f.ctx = f.ctx.WithBlockHeight(end).WithEventManager(sdk.NewEventManager())
	require.NoError(t, f.k.EndBlock(f.ctx), "a failing close does not halt the chain")
	require.Len(t, typedEvents[*types.EventEpochCloseFailed](t, f.ctx), 1)
	still, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), still.Number, "below the limit the epoch stays open")

	f.ctx = f.ctx.WithBlockHeight(end + 1).WithEventManager(sdk.NewEventManager())
	require.NoError(t, f.k.EndBlock(f.ctx))
	require.Len(t, typedEvents[*qtypes.EventItemQuarantined](t, f.ctx), 1)
	closed := typedEvents[*types.EventEpochClosedWithoutEmission](t, f.ctx)
	require.Len(t, closed, 1)
	require.Equal(t, uint64(1), closed[0].Number)
	require.Equal(t, "1000000", closed[0].TotalPoints.String())
	return func() { store.Set(types.LedgerKey.Bytes(), good) }
}

func (f *appFixture) quarantined() []qtypes.QuarantinedItem {
	f.t.Helper()
	res, err := f.query.Quarantine(f.ctx, &types.QueryQuarantineRequest{Step: types.StepCloseEpoch})
	require.NoError(f.t, err)
	return res.Items
}

// The quarantined close ends the epoch without emission: the next one
// opens, its workers would settle at zero, the pool keeps its coins, and the
// next epoch closes as usual at its end. Governance then retries the
// emission of epoch 1 for its unsettled points: the worker is owed it and
// the books balance.
func TestQuarantineEpochCloseThenRetry(t *testing.T) {
	f := newAppFixture(t)
	repair := quarantinedEpoch(t, f)
	items := f.quarantined()
	require.Len(t, items, 1)
	require.Equal(t, types.EpochItem(1), items[0].Item)
	require.Equal(t, uint32(2), items[0].Failures)
	open, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), open.Number, "the next epoch is open")
	rec, err := f.k.GetEpochRecord(f.ctx, 1)
	require.NoError(t, err)
	require.True(t, rec.Emitted.IsZero())
	require.True(t, rec.RewardPerPoint.IsZero())
	require.Equal(t, "1000000", rec.UnsettledPoints.String())
	require.Equal(t, "1000000", f.pool().String(), "the pool keeps the emission")

	repair()
	f.requireBooks()
	f.endEpoch() // epoch 2 closes at its end: the epochs go on
	require.Len(t, f.quarantined(), 1)

	_, err = f.msgs.RetryQuarantined(f.ctx, &types.MsgRetryQuarantined{Authority: f.worker.String(), Step: types.StepCloseEpoch, Item: types.EpochItem(1)})
	require.ErrorIs(t, err, types.ErrUnauthorized)
	_, err = f.msgs.RetryQuarantined(f.ctx, &types.MsgRetryQuarantined{Authority: keepertest.Authority(), Step: types.StepCloseEpoch, Item: types.EpochItem(2)})
	require.ErrorIs(t, err, types.ErrQuarantinedItemNotFound)
	_, err = f.msgs.RetryQuarantined(f.ctx, &types.MsgRetryQuarantined{Authority: keepertest.Authority(), Step: types.StepCloseEpoch, Item: types.EpochItem(1)})
	require.NoError(t, err)
	require.Empty(t, f.quarantined())
	rec, err = f.k.GetEpochRecord(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "1000000", rec.Emitted.String(), "min(1 REP scheduled, 1e6 points)")
	require.Equal(t, "0", f.pool().String())
	require.Equal(t, urep(1_000_000), f.pending(f.worker).EpochRewards, "the worker gets the epoch's emission")
	f.requireBooks()
}

// Governance drops the quarantined close: the close without emission stands,
// the worker settles the epoch at zero, and the pool keeps the coins. A
// retry once every worker settled is refused as stale.
func TestQuarantineEpochCloseDrop(t *testing.T) {
	f := newAppFixture(t)
	repair := quarantinedEpoch(t, f)
	repair()
	_, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()}) // settles epoch 1
	require.NoError(t, err)
	_, err = f.msgs.RetryQuarantined(f.ctx, &types.MsgRetryQuarantined{Authority: keepertest.Authority(), Step: types.StepCloseEpoch, Item: types.EpochItem(1)})
	require.ErrorIs(t, err, types.ErrQuarantineStale)

	res, err := f.msgs.DropQuarantined(f.ctx, &types.MsgDropQuarantined{Authority: keepertest.Authority(), Step: types.StepCloseEpoch, Item: types.EpochItem(1)})
	require.NoError(t, err)
	require.Contains(t, res.Outcome, "without emission")
	require.Empty(t, f.quarantined())
	require.Equal(t, "1000000", f.pool().String())
	require.Equal(t, "0", f.pending(f.worker).EpochRewards.Amount.String())
	f.requireBooks()
}

// The 1→2 migration sets max_item_failures to its default and leaves the
// other params as they are.
func TestMigrate1to2SetsMaxItemFailures(t *testing.T) {
	f := newAppFixture(t)
	v1 := types.DefaultParams()
	v1.EpochLengthBlocks = 77
	v1.MaxItemFailures = 0
	require.NoError(t, f.k.Params.Set(f.ctx, v1))
	require.NoError(t, keeper.NewMigrator(f.k).Migrate1to2(f.ctx))
	got, err := f.k.Params.Get(f.ctx)
	require.NoError(t, err)
	want := v1
	want.MaxItemFailures = types.DefaultParams().MaxItemFailures
	require.Equal(t, want, got)
}
