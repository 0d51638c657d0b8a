package types_test

import (
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/shard/types"
)

func urep(n int64) sdk.Coin { return sdk.NewInt64Coin(chaincfg.BondDenom, n) }

// The price params are checked: floor ≤ ceiling, a positive floor, a
// non-zero step, a target strictly inside (0, 100%), the bond denom.
func TestParamsValidateRejectsBadPriceParams(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(p *types.Params)
		want string
	}{
		"floor above ceiling": {func(p *types.Params) { p.PriceFloor, p.PriceCeiling = urep(2), urep(1) }, "must not exceed price_ceiling"},
		"zero floor":          {func(p *types.Params) { p.PriceFloor = urep(0) }, "price_floor must be positive"},
		"zero step":           {func(p *types.Params) { p.PriceMaxChangePpm = 0 }, "price_max_change_ppm"},
		"step above 100%":     {func(p *types.Params) { p.PriceMaxChangePpm = 1_000_001 }, "price_max_change_ppm"},
		"zero target":         {func(p *types.Params) { p.PriceTargetLoadPpm = 0 }, "price_target_load_ppm"},
		"target of 100%":      {func(p *types.Params) { p.PriceTargetLoadPpm = 1_000_000 }, "price_target_load_ppm"},
		"huge ceiling":        {func(p *types.Params) { p.PriceCeiling = urep(types.MaxUnitPrice + 1) }, "price_ceiling must be at most"},
		"floor in another coin": {func(p *types.Params) {
			p.PriceFloor = sdk.NewInt64Coin("uatom", 1)
		}, "price_floor must be in"},
		"ceiling with a bad denom": {func(p *types.Params) {
			p.PriceCeiling = sdk.Coin{Denom: "1x", Amount: sdkmath.NewInt(5)}
		}, "price_ceiling"},
	} {
		p := types.DefaultParams()
		c.edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error mentioning %q, got %v", name, c.want, err)
		}
	}
	p := types.DefaultParams()
	p.PriceFloor, p.PriceCeiling, p.PriceMaxChangePpm, p.PriceTargetLoadPpm = urep(7), urep(7), 1_000_000, 1
	require.NoError(t, p.Validate(), "floor = ceiling, a 100% step and a 1 ppm target are valid")
}

// NextUnitPrice: the direction follows the load against the target, the
// change is at most the step (or 1 urep), and the result stays in bounds.
func TestNextUnitPriceBounds(t *testing.T) {
	p := types.DefaultParams()
	p.PriceFloor, p.PriceCeiling = urep(1), urep(1_000_000)
	p.PriceTargetLoadPpm, p.PriceMaxChangePpm = 600_000, 125_000
	for _, price := range []int64{1, 2, 7, 8, 999, 10_000, 999_999, 1_000_000} {
		cur := sdkmath.NewInt(price)
		for load := uint32(0); load <= 1_000_000; load += 50_000 {
			next := types.NextUnitPrice(p, cur, load)
			require.True(t, next.GTE(p.PriceFloor.Amount) && next.LTE(p.PriceCeiling.Amount), "in bounds")
			diff := next.Sub(cur).Abs()
			require.True(t, diff.MulRaw(8).LTE(cur) || diff.Equal(sdkmath.OneInt()),
				"price %d load %d: %s → %s is more than the step", price, load, cur, next)
			switch {
			case load > p.PriceTargetLoadPpm && price < 1_000_000:
				require.True(t, next.GT(cur), "above target: rises (price %d load %d)", price, load)
			case load < p.PriceTargetLoadPpm:
				require.True(t, next.LTE(cur), "below target: never rises")
			case load == p.PriceTargetLoadPpm:
				require.True(t, next.Equal(cur), "at target: holds")
			}
		}
		// Full load moves by the whole step, an empty shard by the whole step down.
		if price >= 8 && price <= 10_000 { // far from the ceiling
			require.True(t, types.NextUnitPrice(p, cur, 1_000_000).Sub(cur).MulRaw(8).GTE(cur.SubRaw(7)), "full load: about the full step up")
			require.True(t, cur.Sub(types.NextUnitPrice(p, cur, 0)).MulRaw(8).GTE(cur.SubRaw(7)), "no load: about the full step down")
		}
	}
}
