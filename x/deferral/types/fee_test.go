package types_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/deferral/types"
)

// ComputeFee's structural properties over a grid of inputs: a fee is a
// whole number of equal shares (each replica is paid one), at least 1 urep,
// never above the gross; a higher urgency never costs less; more units or
// more data never cost less; the discount never exceeds its rate.
func TestComputeFeeProperties(t *testing.T) {
	p := types.DefaultParams()
	p.PreferredDiscountPpm = 333_333
	urgencies := []types.Urgency{types.UrgencyLow, types.UrgencyNormal, types.UrgencyHigh, types.UrgencyCritical}
	for _, price := range []int64{1, 7, 1_000, 99_999} {
		for _, units := range []uint64{1, 3, 1_000} {
			for _, data := range []uint64{0, 1, 999_999, 1_000_001} {
				for _, replicas := range []uint32{0, 1, 2, 3, 5} {
					for _, preferred := range []bool{false, true} {
						prev := sdkmath.ZeroInt()
						for _, u := range urgencies {
							in := types.FeeInputs{
								UnitPrice: sdk.NewInt64Coin(chaincfg.BondDenom, price), Preferred: preferred,
								ComputeUnits: units, DataBytes: data, Urgency: u, Replicas: replicas,
							}
							q := types.ComputeFee(p, in)
							fee := q.Fee.Amount
							require.True(t, fee.IsPositive(), "%+v", in)
							require.True(t, fee.LTE(q.Gross.Amount))
							require.True(t, fee.ModRaw(int64(q.Shares)).IsZero(), "fee %s is not %d equal shares (%+v)", fee, q.Shares, in)
							require.True(t, q.Discount.Amount.MulRaw(1_000_000).LTE(q.Gross.Amount.MulRaw(int64(p.PreferredDiscountPpm))))
							if !preferred {
								require.True(t, q.Discount.Amount.IsZero())
							}
							require.True(t, fee.GTE(prev), "a higher urgency never costs less (%+v)", in)
							prev = fee
							more := in
							more.ComputeUnits++
							more.DataBytes += 1_000_000
							require.True(t, types.ComputeFee(p, more).Fee.Amount.GT(fee), "more work costs more")
						}
					}
				}
			}
		}
	}
}
