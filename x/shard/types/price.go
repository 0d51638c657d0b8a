package types

import (
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/ppm"
)

// MaxUnitPrice bounds price_ceiling (urep per compute unit), so that every
// fee computed from it stays far inside 256-bit integers.
const MaxUnitPrice = 1_000_000_000_000

// RoutedShard is where a request goes and what a compute unit costs there.
type RoutedShard struct {
	// Shard is the ACTIVE shard the request is routed to.
	Shard Shard
	// Preferred is true when the requester's reputation is at or above
	// preferred_reputation_threshold_ppm (least-loaded routing; x/deferral
	// gives such requesters its preferred discount).
	Preferred bool
	// UnitPrice is the shard's price per compute unit (EffectiveUnitPrice).
	UnitPrice sdk.Coin
}

// EffectiveUnitPrice is the price per compute unit a request pays on shard s:
// its stored unit_price clamped to the current [price_floor, price_ceiling]
// (so a governance change of the bounds applies at once; an unset price is
// the floor).
func EffectiveUnitPrice(p Params, s Shard) sdk.Coin {
	return sdk.NewCoin(p.PriceFloor.Denom, clampPrice(p, s.UnitPrice))
}

func clampPrice(p Params, price sdkmath.Int) sdkmath.Int {
	if price.IsNil() || price.LT(p.PriceFloor.Amount) {
		return p.PriceFloor.Amount
	}
	if price.GT(p.PriceCeiling.Amount) {
		return p.PriceCeiling.Amount
	}
	return price
}

// NextUnitPrice is a shard's price after one more topology check at load
// loadPpm, in the spirit of EIP-1559 but per shard:
//
//	above the target: price + ⌊price · max_change · (load − target) / (1 − target)⌋, at least +1
//	below the target: price − ⌊price · max_change · (target − load) / target⌋
//
// then clamped to [price_floor, price_ceiling]. The change is at most
// price_max_change_ppm of the price (or 1 urep, so a price at a tiny floor
// can still rise), in proportion to the distance from the target.
func NextUnitPrice(p Params, price sdkmath.Int, loadPpm uint32) sdkmath.Int {
	cur := clampPrice(p, price)
	target := uint64(p.PriceTargetLoadPpm)
	load := uint64(min(loadPpm, ppm.Max))
	step := cur.MulRaw(int64(p.PriceMaxChangePpm))
	switch {
	case load > target:
		delta := step.Mul(sdkmath.NewIntFromUint64(load - target)).Quo(sdkmath.NewIntFromUint64((ppm.Max - target) * ppm.Max))
		if !delta.IsPositive() {
			delta = sdkmath.OneInt()
		}
		cur = cur.Add(delta)
	case load < target:
		delta := step.Mul(sdkmath.NewIntFromUint64(target - load)).Quo(sdkmath.NewIntFromUint64(target * ppm.Max))
		cur = cur.Sub(delta)
	}
	return clampPrice(p, cur)
}
