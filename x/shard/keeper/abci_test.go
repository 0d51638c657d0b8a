package keeper_test

import (
	"math/big"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	rewardskeeper "github.com/repshard/repshard/x/rewards/keeper"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	"github.com/repshard/repshard/x/shard/types"
)

// A bond release that panics does not halt the chain: everything it wrote is
// rolled back, the release is rescheduled one unbonding period later and it
// is reported with EventBondReleaseFailed. Here the panic comes from the
// bond-release hook (x/rewards) on a corrupted book: settling the worker's
// last epoch writes the epoch record, then adding its reward to the ledger's
// epoch rewards owed, already at the Int maximum, overflows.
func TestBondReleasePanicIsRolledBackAndReported(t *testing.T) {
	ch := newChain(t, 1, nil)
	period := int64(types.DefaultParams().UnbondingPeriodBlocks)
	ch.register(t, 0, 10, types.ClassHighPriority)
	_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(0).String()})
	require.NoError(t, err)
	w := ch.worker(t, 0)
	require.Equal(t, ch.ctx.BlockHeight()+period, w.ReleaseHeight)

	// x/rewards: the worker has 10 points in epoch 1, which has closed.
	rk := ch.c.App.RewardsKeeper
	ten := sdkmath.NewInt(10)
	require.NoError(t, rk.OpenEpoch.Set(ch.ctx, rewardstypes.EpochState{Number: 2, StartHeight: ch.ctx.BlockHeight(), TotalPoints: sdkmath.ZeroInt()}))
	record := rewardstypes.EpochRecord{
		Number: 1, StartHeight: 1, EndHeight: ch.ctx.BlockHeight() - 1, TotalPoints: ten, Emitted: ten,
		RewardPerPoint: rewardskeeper.RewardPerPointScale, UnsettledPoints: ten, UnsettledAmount: ten,
	}
	require.NoError(t, rk.EpochRecords.Set(ch.ctx, 1, record))
	require.NoError(t, rk.WorkerEpochs.Set(ch.ctx, ch.addr(0), rewardstypes.WorkerEpoch{
		Worker: ch.addr(0).String(), Epoch: 1, Points: ten, Attempts: 1, EpochRewardsOwed: sdkmath.ZeroInt(),
	}))
	ledger, err := rk.GetLedger(ch.ctx)
	require.NoError(t, err)
	ledger.Unsettled = ledger.Unsettled.Add(ten)
	ledger.EpochRewardsOwed = sdkmath.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), sdkmath.MaxBitLen), big.NewInt(1)))
	require.NoError(t, rk.Ledger.Set(ch.ctx, ledger))

	due := ch.atHeight(w.ReleaseHeight)
	workerBalance, moduleBalance := due.balance(ch.addr(0)), due.balance(moduleAddr())
	require.NotPanics(t, func() { require.NoError(t, due.k.EndBlocker(due.ctx)) })

	// Rolled back: the bond is still held and x/rewards' settlement is undone.
	require.Equal(t, workerBalance, due.balance(ch.addr(0)), "no bond returned")
	require.Equal(t, moduleBalance, due.balance(moduleAddr()))
	got, err := rk.GetEpochRecord(due.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, ten.String(), got.UnsettledPoints.String(), "the epoch record written before the panic is rolled back")
	we, err := rk.WorkerEpochs.Get(due.ctx, ch.addr(0))
	require.NoError(t, err)
	require.Equal(t, uint64(1), we.Epoch, "the worker is not settled")
	require.Empty(t, typedEvents[*types.EventBondReturned](t, due.ctx))
	require.Empty(t, typedEvents[*rewardstypes.EventEpochRewardsSettled](t, due.ctx))

	// Rescheduled and reported.
	after := due.worker(t, 0)
	require.Equal(t, types.WorkerUnbonding, after.Status)
	require.Equal(t, w.ReleaseHeight+period, after.ReleaseHeight)
	failed := typedEvents[*types.EventBondReleaseFailed](t, due.ctx)
	require.Len(t, failed, 1)
	require.Equal(t, w.Address, failed[0].Worker)
	require.Equal(t, after.ReleaseHeight, failed[0].RetryHeight)
	require.Contains(t, failed[0].Error, "panic")
}
