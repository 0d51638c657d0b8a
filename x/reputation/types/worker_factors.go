package types

import (
	sdkmath "cosmossdk.io/math"

	"github.com/repshard/repshard/internal/ppm"
)

// The worker-score formulas, as pure functions of a worker profile's counters
// and sums and the params. Integer arithmetic only; every division floors.

// WorkerGoodBad splits a worker's outcomes into good (completions, quorum
// agreements, confirmed failure reports) and bad (expiries, contradicted
// failure reports, quorum disagreements). Saturating sums.
func WorkerGoodBad(w WorkerProfile) (good, bad uint64) {
	good = sat(sat(w.Completions, w.QuorumAgreements), w.FailuresConfirmed)
	bad = sat(sat(w.Expiries, w.FailuresContradicted), w.QuorumDisagreements)
	return good, bad
}

// WorkerReliabilityPpm is the mean of a Beta(a, b) prior updated by the
// worker's outcomes:
//
//	reliability = (good + a)·1e6 / (good + bad + a + b)
//
// with a = worker_reliability_prior_good, b = worker_reliability_prior_bad;
// a new worker has a/(a+b) (500_000 with the default Beta(2,2)).
func WorkerReliabilityPpm(p Params, good, bad uint64) uint32 {
	a, b := uint64(p.WorkerReliabilityPriorGood), uint64(p.WorkerReliabilityPriorBad)
	num := sat(good, a)
	den := sat(sat(good, bad), sat(a, b))
	if den == 0 {
		return ppm.Max / 2
	}
	return uint32(ppm.MulDiv(num, ppm.Max, den))
}

// WorkerRatingPpm is the weighted mean of requesters' ratings with a neutral
// prior:
//
//	rating = (Σ wᵣ·ratingᵣ + neutral·prior) / (Σ wᵣ + prior)
//
// ratingSum = Σ wᵣ·ratingᵣ (ppm·ppm), ratingWeight = Σ wᵣ (ppm), prior =
// worker_rating_prior_weight_ppm, neutral = worker_rating_neutral_ppm.
func WorkerRatingPpm(p Params, ratingSum, ratingWeight sdkmath.Int) uint32 {
	return smoothedMeanPpm(ratingSum, ratingWeight, p.WorkerRatingPriorWeightPpm, p.WorkerRatingNeutralPpm)
}

// WorkerScorePpm is the weighted sum of the two factors with weights that sum
// to 1e6:
//
//	score = (w_reliability·reliability + w_rating·rating) / 1e6
func WorkerScorePpm(p Params, reliability, rating uint32) uint32 {
	num := uint64(p.WorkerWeightReliabilityPpm)*uint64(min(reliability, ppm.Max)) +
		uint64(p.WorkerWeightRatingPpm)*uint64(min(rating, ppm.Max))
	return uint32(min(num/ppm.Max, ppm.Max))
}

// RatingWeightPpm is the weight of a requester's rating of a worker: the
// requester's own score (EigenTrust-style: a rater counts by its standing),
// capped at 1e6.
func RatingWeightPpm(raterScore uint32) uint32 { return min(raterScore, ppm.Max) }

// WorkerTier is the assignment tier of a score: score / 100_000 (0..10).
func WorkerTier(score uint32) uint32 { return min(score, ppm.Max) / WorkerTierWidthPpm }

// smoothedMeanPpm is (sum + neutral·prior) / (weight + prior), capped at 1e6;
// neutral when the denominator is not positive.
func smoothedMeanPpm(sum, weight sdkmath.Int, priorWeight uint64, neutral uint32) uint32 {
	if sum.IsNil() {
		sum = sdkmath.ZeroInt()
	}
	if weight.IsNil() {
		weight = sdkmath.ZeroInt()
	}
	prior := sdkmath.NewIntFromUint64(priorWeight)
	num := sum.Add(prior.MulRaw(int64(neutral)))
	den := weight.Add(prior)
	if !den.IsPositive() {
		return neutral
	}
	v := num.Quo(den)
	if v.GT(sdkmath.NewInt(ppm.Max)) {
		return ppm.Max
	}
	if v.IsNegative() {
		return 0
	}
	return uint32(v.Uint64())
}
