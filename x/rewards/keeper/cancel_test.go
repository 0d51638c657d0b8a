package keeper_test

import (
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/rewards/types"
)

// A cancellation owes each worker ⌊worker fee·share⌋ through Owed, without
// points, epoch attempt or protocol share, and refunds the rest: the
// requester's refund and the workers' shares add up to the fee.
func TestPayCancellation(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(10_007)))
	s := f.snap()
	// Two replicas' workers of a fee of 10_007 in 7 shares of 1_429 (and 4
	// of dust): each is owed ⌊1_429·100_000/1e6⌋ = 142.
	paid, refunded, err := f.k.PayCancellation(f.ctx, f.requester, []sdk.AccAddress{f.worker, f.worker2}, urep(10_007), urep(1_429), 100_000)
	require.NoError(t, err)
	require.Equal(t, urep(284), paid)
	require.Equal(t, urep(10_007-284), refunded)
	require.Equal(t, int64(-10_007), f.delta(s, f.escrow), "the escrow releases the whole fee")
	require.Equal(t, int64(10_007-284), f.delta(s, f.requester))
	require.Equal(t, int64(284), f.delta(s, f.rwds))
	require.Equal(t, "142", f.owed(f.worker).String())
	require.Equal(t, "142", f.owed(f.worker2).String())
	require.Equal(t, "284", f.totalOwed().String())
	require.Equal(t, s.community, f.communityPool(), "no protocol share")
	require.Equal(t, s.contribution, mustContribution(t, f, f.worker), "no contribution points")
	has, err := f.k.WorkerEpochs.Has(f.ctx, f.worker)
	require.NoError(t, err)
	require.False(t, has, "no attempt counted in the epoch")
	require.Equal(t, s.supply, f.supply())
	require.NoError(t, f.k.CheckAccounting(f.ctx))
	f.requireSolvent()

	// No workers (a queued request): the whole fee goes back.
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester2, urep(500)))
	s = f.snap()
	paid, refunded, err = f.k.PayCancellation(f.ctx, f.requester2, nil, urep(500), urep(0), 100_000)
	require.NoError(t, err)
	require.True(t, paid.IsZero())
	require.Equal(t, urep(500), refunded)
	require.Equal(t, int64(500), f.delta(s, f.requester2))
	require.True(t, f.bal(f.escrow).IsZero())
	f.requireSolvent()
}

func mustContribution(t *testing.T, f *appFixture, w sdk.AccAddress) types.Contribution {
	t.Helper()
	c, err := f.k.GetContribution(f.ctx, w)
	require.NoError(t, err)
	return c
}

// Bad input is refused with a typed error before anything moves.
func TestPayCancellationBadInput(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_000)))
	workers := []sdk.AccAddress{f.worker, f.worker2}
	cases := map[string]struct {
		fee, workerFee sdk.Coin
		share          uint32
		want           *errorsmod.Error
	}{
		"fee in the wrong denom":    {sdk.NewInt64Coin("uatom", 1_000), urep(100), 100_000, types.ErrInvalidFee},
		"negative worker fee":       {urep(1_000), sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(-1)}, 100_000, types.ErrInvalidFee},
		"worker fees above the fee": {urep(1_000), urep(501), 100_000, types.ErrInvalidFee},
		"share above one":           {urep(1_000), urep(500), 1_000_001, types.ErrInvalidRefund},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := f.snap()
			events := len(f.ctx.EventManager().Events())
			_, _, err := f.k.PayCancellation(f.ctx, f.requester, workers, tc.fee, tc.workerFee, tc.share)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, s, f.snap(), "a refused cancellation changes nothing")
			require.Len(t, f.ctx.EventManager().Events(), events)
		})
	}
}
