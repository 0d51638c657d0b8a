package keeper_test

import (
	"math/big"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	rewardskeeper "github.com/repshard/repshard/x/rewards/keeper"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	"github.com/repshard/repshard/x/shard/keeper"
	"github.com/repshard/repshard/x/shard/types"
)

// The EndBlock quarantine of x/shard: a bond release, a worker move or a
// shard check that fails max_item_failures blocks in a row is taken out of
// its step, the items behind it go on, and governance retries or drops it.

// breakSettlement makes the x/rewards bond-release hook panic for worker i:
// it has 10 points in the closed epoch 1, and adding its reward to the
// ledger's epoch rewards owed, already at the Int maximum, overflows (the
// corrupted book of TestBondReleasePanicIsRolledBackAndReported). It returns
// a func that repairs the book.
func breakSettlement(t *testing.T, ch chain, i int) (repair func()) {
	t.Helper()
	rk := ch.c.App.RewardsKeeper
	ten := sdkmath.NewInt(10)
	require.NoError(t, rk.OpenEpoch.Set(ch.ctx, rewardstypes.EpochState{Number: 2, StartHeight: ch.ctx.BlockHeight(), TotalPoints: sdkmath.ZeroInt()}))
	require.NoError(t, rk.EpochRecords.Set(ch.ctx, 1, rewardstypes.EpochRecord{
		Number: 1, StartHeight: 1, EndHeight: ch.ctx.BlockHeight() - 1, TotalPoints: ten, Emitted: ten,
		RewardPerPoint: rewardskeeper.RewardPerPointScale, UnsettledPoints: ten, UnsettledAmount: ten,
	}))
	require.NoError(t, rk.WorkerEpochs.Set(ch.ctx, ch.addr(i), rewardstypes.WorkerEpoch{
		Worker: ch.addr(i).String(), Epoch: 1, Points: ten, Attempts: 1, EpochRewardsOwed: sdkmath.ZeroInt(),
	}))
	ledger, err := rk.GetLedger(ch.ctx)
	require.NoError(t, err)
	good := ledger
	good.Unsettled = good.Unsettled.Add(ten)
	bad := good
	bad.EpochRewardsOwed = sdkmath.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), sdkmath.MaxBitLen), big.NewInt(1)))
	require.NoError(t, rk.Ledger.Set(ch.ctx, bad))
	return func() { require.NoError(t, rk.Ledger.Set(ch.ctx, good)) }
}

func (ch chain) quarantine(t *testing.T, step string) []qtypes.QuarantinedItem {
	t.Helper()
	res, err := ch.query.Quarantine(ch.ctx, &types.QueryQuarantineRequest{Step: step})
	require.NoError(t, err)
	return res.Items
}

// releaseSetup registers workers 0 and 1, unregisters both (same release
// height) and breaks worker 0's settlement; max_item_failures is 2.
func releaseSetup(t *testing.T) (chain, int64, func()) {
	ch := newChain(t, 2, func(gs *types.GenesisState) { gs.Params.MaxItemFailures = 2 })
	for i := 0; i < 2; i++ {
		ch.register(t, i, 10, types.ClassHighPriority)
		_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(i).String()})
		require.NoError(t, err)
	}
	repair := breakSettlement(t, ch, 0)
	return ch, ch.worker(t, 0).ReleaseHeight, repair
}

// A bond release that fails in every attempt is rescheduled, then
// quarantined at its second failure: its unbonding-queue entry goes, the
// worker keeps its bond, UNBONDING, and nothing is retried any more; the
// other worker due in the same block gets its bond at once. Once the
// x/rewards book is repaired, governance retries the release and the next
// EndBlock returns the bond.
func TestQuarantineBondReleaseThenRetry(t *testing.T) {
	ch, due, repair := releaseSetup(t)
	period := int64(types.DefaultParams().UnbondingPeriodBlocks)
	bond := ch.worker(t, 0).Bond.Amount

	first := ch.atHeight(due)
	require.NoError(t, first.k.EndBlocker(first.ctx))
	_, err := ch.k.GetWorker(ch.ctx, ch.addr(1))
	require.ErrorIs(t, err, types.ErrWorkerNotFound, "the other release goes on: worker 1 is paid and gone")
	require.Len(t, typedEvents[*types.EventBondReleaseFailed](t, first.ctx), 1)
	require.Equal(t, due+period, ch.worker(t, 0).ReleaseHeight, "below the limit: rescheduled")
	require.Empty(t, ch.quarantine(t, ""))

	second := ch.atHeight(due + period)
	require.NoError(t, second.k.EndBlocker(second.ctx))
	require.Len(t, typedEvents[*qtypes.EventItemQuarantined](t, second.ctx), 1)
	items := ch.quarantine(t, types.StepReleaseBond)
	require.Len(t, items, 1)
	require.Equal(t, types.WorkerItem(ch.addr(0)), items[0].Item)
	require.Equal(t, uint32(2), items[0].Failures)
	require.Contains(t, items[0].Error, "panic")
	w := ch.worker(t, 0)
	require.Equal(t, types.WorkerUnbonding, w.Status)
	require.Equal(t, due+period, w.ReleaseHeight, "the worker keeps its release height, out of the queue")
	has, err := ch.k.UnbondingQueue.Has(ch.ctx, collections.Join(w.ReleaseHeight, ch.addr(0)))
	require.NoError(t, err)
	require.False(t, has)
	require.Equal(t, bond.String(), ch.balance(moduleAddr()).String(), "the bond is still held")

	later := ch.atHeight(due + 3*period)
	require.NoError(t, later.k.EndBlocker(later.ctx))
	require.Empty(t, typedEvents[*types.EventBondReleaseFailed](t, later.ctx), "no longer retried")

	// Refused: anyone but governance, an unknown item, a drop of a check.
	_, err = ch.msgs.RetryQuarantined(ch.ctx, &types.MsgRetryQuarantined{Authority: ch.addr(1).String(), Step: types.StepReleaseBond, Item: items[0].Item})
	require.ErrorIs(t, err, types.ErrUnauthorized)
	_, err = ch.msgs.RetryQuarantined(ch.ctx, &types.MsgRetryQuarantined{Authority: types.GovAuthority(), Step: types.StepReleaseBond, Item: types.WorkerItem(ch.addr(1))})
	require.ErrorIs(t, err, types.ErrQuarantinedItemNotFound)

	repair()
	_, err = ch.msgs.RetryQuarantined(ch.ctx, &types.MsgRetryQuarantined{Authority: types.GovAuthority(), Step: types.StepReleaseBond, Item: items[0].Item})
	require.NoError(t, err)
	require.Empty(t, ch.quarantine(t, ""))
	workerBefore := ch.balance(ch.addr(0))
	next := ch.atHeight(due + 3*period + 1)
	require.NoError(t, next.k.EndBlocker(next.ctx))
	_, err = ch.k.GetWorker(ch.ctx, ch.addr(0))
	require.ErrorIs(t, err, types.ErrWorkerNotFound, "released after the retry")
	require.Equal(t, workerBefore.Add(bond).String(), ch.balance(ch.addr(0)).String())
	require.True(t, ch.balance(moduleAddr()).IsZero())
}

// Governance drops a quarantined bond release: the bond is paid out without
// the x/rewards hook that kept failing, and the worker is deleted; the coins
// only move from the module account to the worker.
func TestQuarantineBondReleaseDrop(t *testing.T) {
	ch, due, _ := releaseSetup(t)
	period := int64(types.DefaultParams().UnbondingPeriodBlocks)
	for _, h := range []int64{due, due + period} {
		c := ch.atHeight(h)
		require.NoError(t, c.k.EndBlocker(c.ctx))
	}
	require.Len(t, ch.quarantine(t, types.StepReleaseBond), 1)
	bond := ch.worker(t, 0).Bond.Amount
	workerBefore, moduleBefore := ch.balance(ch.addr(0)), ch.balance(moduleAddr())

	res, err := ch.msgs.DropQuarantined(ch.ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepReleaseBond, Item: types.WorkerItem(ch.addr(0))})
	require.NoError(t, err)
	require.Contains(t, res.Outcome, "without the x/rewards settlement")
	_, err = ch.k.GetWorker(ch.ctx, ch.addr(0))
	require.ErrorIs(t, err, types.ErrWorkerNotFound)
	require.Equal(t, workerBefore.Add(bond).String(), ch.balance(ch.addr(0)).String())
	require.Equal(t, moduleBefore.Sub(bond).String(), ch.balance(moduleAddr()).String())
	require.Empty(t, ch.quarantine(t, ""))
	require.Len(t, typedEvents[*qtypes.EventQuarantinedItemDropped](t, ch.ctx), 1)
}

// A merge whose draining shard holds a stale workers-by-shard entry (an
// address with no worker): its move fails in every block and is quarantined
// while the real worker moves; the stale entry keeps the draining shard from
// retiring until governance drops the move, which removes the entry — and
// the shard retires at its next check. A shard check cannot be dropped.
func TestQuarantineWorkerMoveUnblocksRetirement(t *testing.T) {
	ch := newChain(t, 3, func(gs *types.GenesisState) {
		p := &gs.Params
		p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = 1_000_000, 999_999
		p.SustainBlocks, p.TopologyCooldownBlocks, p.LoadEmaWeightPpm = 1, 0, 1_000_000
		p.MinShardsPerClass, p.MaxShardsPerClass = 1, 2
		p.MaxItemFailures = 2
		withShards(types.ClassHighPriority)(gs)
	})
	a := ch.register(t, 0, 10, types.ClassHighPriority)
	b := ch.register(t, 1, 10, types.ClassHighPriority)
	require.NotEqual(t, a, b, "one worker in each shard of the class")
	draining := max(a, b) // equal capacity and workers: the higher id drains
	ghost := ch.addr(2)   // no worker record
	require.NoError(t, ch.k.WorkersByShard.Set(ch.ctx, collections.Join(draining, ghost)))

	h := ch.ctx.BlockHeight()
	for i := int64(1); i <= 3; i++ {
		c := ch.atHeight(h + i)
		_, err := c.k.PlanTopology(c.ctx)
		require.NoError(t, err)
		if i < 2 {
			require.Empty(t, ch.quarantine(t, ""), "block %d", i)
		}
	}
	require.Equal(t, types.ShardDraining, ch.shard(t, draining).Status)
	require.Zero(t, ch.shard(t, draining).WorkerCount, "the real worker moved")
	items := ch.quarantine(t, types.StepMoveWorker)
	require.Len(t, items, 1)
	require.Equal(t, types.WorkerItem(ghost), items[0].Item)

	c := ch.atHeight(h + 4)
	_, err := c.k.PlanTopology(c.ctx)
	require.NoError(t, err)
	require.Empty(t, typedEvents[*types.EventTopologyItemFailed](t, c.ctx), "the quarantined move is passed over")
	require.Equal(t, types.ShardDraining, ch.shard(t, draining).Status, "the stale entry keeps the shard from retiring")

	res, err := ch.msgs.DropQuarantined(ch.ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepMoveWorker, Item: items[0].Item})
	require.NoError(t, err)
	require.Contains(t, res.Outcome, "stale entry")
	c = ch.atHeight(h + 5)
	_, err = c.k.PlanTopology(c.ctx)
	require.NoError(t, err)
	require.Equal(t, types.ShardRetired, ch.shard(t, draining).Status)

	// A shard check holds nothing to release: only a retry.
	require.NoError(t, ch.k.ItemQuarantine.Items.Set(ch.ctx, collections.Join(types.StepCheckShard, types.ShardItem(1)),
		qtypes.QuarantinedItem{Step: types.StepCheckShard, Item: types.ShardItem(1), Failures: 2}))
	_, err = ch.msgs.DropQuarantined(ch.ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepCheckShard, Item: types.ShardItem(1)})
	require.ErrorIs(t, err, types.ErrNotDroppable)
	_, err = ch.msgs.RetryQuarantined(ch.ctx, &types.MsgRetryQuarantined{Authority: types.GovAuthority(), Step: types.StepCheckShard, Item: types.ShardItem(1)})
	require.NoError(t, err)
	require.Empty(t, ch.quarantine(t, ""))
}

// The 1→2 migration sets max_item_failures to its default and leaves the
// other params as they are.
func TestMigrate1to2SetsMaxItemFailures(t *testing.T) {
	ch := newChain(t, 1, nil)
	v1 := types.DefaultParams()
	v1.UnbondingPeriodBlocks = 77
	v1.MaxItemFailures = 0
	require.NoError(t, ch.k.Params.Set(ch.ctx, v1))
	require.NoError(t, keeper.NewMigrator(ch.k).Migrate1to2(ch.ctx))
	got, err := ch.k.Params.Get(ch.ctx)
	require.NoError(t, err)
	want := v1
	want.MaxItemFailures = types.DefaultParams().MaxItemFailures
	require.Equal(t, want, got)
}
