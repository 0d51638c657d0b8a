package keeper_test

import (
	"fmt"
	"testing"

	storetypes "cosmossdk.io/store/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/rewards/keeper"
)

// benchChain is an app whose rewards state has `workers` workers that
// contributed in epoch 1, followed by `elapsed` closed epochs in which one
// other worker contributed (so every epoch emitted).
type benchChain struct {
	ctx    sdk.Context
	k      keeper.Keeper
	worker sdk.AccAddress
}

func newBenchChain(b *testing.B, workers, elapsed int) benchChain {
	b.Helper()
	c := apptest.New(b, 2, nil)
	k := c.App.RewardsKeeper
	ctx := c.Context()
	p, err := k.GetParams(ctx)
	require.NoError(b, err)
	p.EpochLengthBlocks = 1
	p.EpochEmissionFixed = urep(1_000_000_000)
	p.FailureSlashPpm = 0
	require.NoError(b, k.Params.Set(ctx, p))
	_, err = k.FundPool(ctx, c.Accounts[0].Address, urep(100_000_000_000))
	require.NoError(b, err)
	addr := func(i int) sdk.AccAddress { return sdk.AccAddress(fmt.Sprintf("bench-worker-%07d", i)) }
	// Each completion pays a fee whose protocol share (5%) is its points.
	pay := func(ctx sdk.Context, worker sdk.AccAddress, fee int64) {
		require.NoError(b, k.EscrowFee(ctx, c.Accounts[0].Address, urep(fee)))
		require.NoError(b, k.PayCompletion(ctx, worker, urep(fee), 1, 0))
	}
	for i := 0; i < workers; i++ {
		pay(ctx, addr(i), int64(20_000*(1+i%5)))
	}
	other := c.Accounts[1].Address
	for e := 0; e < elapsed; e++ {
		open, err := k.GetOpenEpoch(ctx)
		require.NoError(b, err)
		ctx = ctx.WithBlockHeight(open.StartHeight)
		if e > 0 {
			pay(ctx, other, 20_000)
		}
		require.NoError(b, k.EndBlock(ctx))
	}
	ctx = ctx.WithBlockHeight(ctx.BlockHeight() + 1)
	require.NoError(b, k.CheckAccounting(ctx))
	return benchChain{ctx: ctx, k: k, worker: addr(workers / 2)}
}

// benchSettle measures one worker's settlement: MsgClaimRewards' keeper call,
// which settles its epoch-1 points and pays it, on a fresh cache of the same
// state each time. It reports the gas the store metered (deterministic).
func benchSettle(b *testing.B, workers, elapsed int) {
	bc := newBenchChain(b, workers, elapsed)
	pending, err := bc.k.PendingEpochRewards(bc.ctx, bc.worker)
	require.NoError(b, err)
	require.True(b, pending.IsPositive(), "the measured worker has epoch rewards to settle")
	var gas uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cache, _ := bc.ctx.CacheContext()
		cache = cache.WithGasMeter(storetypes.NewInfiniteGasMeter())
		paid, _, epochRewards, err := bc.k.Claim(cache, bc.worker)
		if err != nil || !epochRewards.Amount.Equal(pending) || paid.IsZero() {
			b.Fatalf("claim: %v, paid %s, epoch rewards %s, want %s", err, paid, epochRewards, pending)
		}
		gas = cache.GasMeter().GasConsumed()
	}
	b.ReportMetric(float64(gas), "gas/op")
}

// BenchmarkSettle: settlement cost against epochs elapsed since the worker
// contributed and against the number of workers (make bench-rewards).
func BenchmarkSettle(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("epochs=%d", n), func(b *testing.B) { benchSettle(b, 10, n) })
	}
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) { benchSettle(b, n, 10) })
	}
}
