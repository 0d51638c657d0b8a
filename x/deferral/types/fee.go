package types

import (
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/ppm"
)

// bytesPerMegabyte is the unit price_per_data_megabyte is quoted in.
const bytesPerMegabyte = 1_000_000

// FeeInputs are what sets a request's fee: where it is routed and what it
// asks for.
type FeeInputs struct {
	ShardID       uint64
	UnitPrice     sdk.Coin // the shard's price per compute unit
	Preferred     bool     // routed as preferred: the discount applies
	ReputationPpm uint32
	ComputeUnits  uint64
	DataBytes     uint64
	Urgency       Urgency
	Replicas      uint32 // 0 or 1: not replicated
}

// UrgencyFeePpm is the fee multiplier of an urgency, in ppm (1_000_000 =
// 1×). An unspecified urgency counts as normal.
func UrgencyFeePpm(p Params, u Urgency) uint32 {
	switch u {
	case UrgencyLow:
		return p.UrgencyFeeLowPpm
	case UrgencyHigh:
		return p.UrgencyFeeHighPpm
	case UrgencyCritical:
		return p.UrgencyFeeCriticalPpm
	default:
		return p.UrgencyFeeNormalPpm
	}
}

// FeeShares is how many shares of the fee a request escrows: one, or for a
// replicated request one per replica and per possible tie-break replica
// (the unused ones are refunded when it ends).
func FeeShares(p Params, replicas uint32) uint32 {
	if replicas > 1 {
		return replicas + p.MaxTiebreakReplicas
	}
	return 1
}

// ComputeFee is the fee of a request and its parts (FeeQuote):
//
//	share    = ⌈units · unit price · urgency multiplier⌉ + ⌈data bytes · price per MB / 10^6⌉
//	gross    = share · shares
//	discount = ⌊share · preferred_discount_ppm / 10^6⌋ · shares when routed as preferred
//	fee      = gross − discount
//
// The discount is taken per share, so a replicated request's fee is still a
// whole number of equal shares (each replica is paid one).
//
// Every part rounds against the requester except the discount, so a fee is
// never below what its parts cost; with a positive price floor and a
// discount below 100% every fee is at least 1 urep.
func ComputeFee(p Params, in FeeInputs) FeeQuote {
	denom := in.UnitPrice.Denom
	mult := UrgencyFeePpm(p, in.Urgency)
	compute := ceilDiv(in.UnitPrice.Amount.Mul(sdkmath.NewIntFromUint64(in.ComputeUnits)).MulRaw(int64(mult)), ppm.Max)
	data := ceilDiv(p.PricePerDataMegabyte.Amount.Mul(sdkmath.NewIntFromUint64(in.DataBytes)), bytesPerMegabyte)
	shares := FeeShares(p, in.Replicas)
	gross := compute.Add(data).MulRaw(int64(shares))
	q := FeeQuote{
		ShardId:              in.ShardID,
		UnitPrice:            in.UnitPrice,
		UrgencyMultiplierPpm: mult,
		ComputeFee:           sdk.NewCoin(denom, compute),
		DataFee:              sdk.NewCoin(denom, data),
		Shares:               shares,
		Gross:                sdk.NewCoin(denom, gross),
		Preferred:            in.Preferred,
		Discount:             sdk.NewCoin(denom, sdkmath.ZeroInt()),
		ReputationPpm:        in.ReputationPpm,
	}
	if in.Preferred {
		q.DiscountPpm = p.PreferredDiscountPpm
		q.Discount.Amount = compute.Add(data).MulRaw(int64(p.PreferredDiscountPpm)).QuoRaw(ppm.Max).MulRaw(int64(shares))
	}
	q.Fee = sdk.NewCoin(denom, gross.Sub(q.Discount.Amount))
	return q
}

// ceilDiv is ⌈a / d⌉ for a ≥ 0.
func ceilDiv(a sdkmath.Int, d int64) sdkmath.Int {
	return a.AddRaw(d - 1).QuoRaw(d)
}
