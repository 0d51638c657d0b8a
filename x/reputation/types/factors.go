package types

import (
	"github.com/repshard/repshard/internal/ppm"
)

// The factor formulas, as pure functions of a profile, the params and the
// current height. Integer arithmetic only; every division floors.

// CompletionPpm is the Beta-prior mean of outcomes:
//
//	(completed + a)·1e6 / (completed + failed + expired + a + b)
//
// with a = completion_prior_successes and b = completion_prior_failures.
func CompletionPpm(p Params, completed, failed, expired uint64) uint32 {
	a, b := uint64(p.CompletionPriorSuccesses), uint64(p.CompletionPriorFailures)
	num := sat(completed, a)
	den := sat(sat(sat(completed, failed), sat(expired, a)), b)
	if den == 0 {
		return uint32(p.DefaultScorePpm)
	}
	return uint32(ppm.MulDiv(num, ppm.Max, den))
}

// DecayRate decays a rate EMA over elapsed blocks with half-life h: it is
// halved once per whole half-life, then decays linearly over the remainder r
// (by the factor 1 − r/(2h), the chord from 1 to ½ across one half-life):
//
//	decay(x, Δ) = ⌊⌊x / 2^⌊Δ/h⌋⌋ · (2h − Δ mod h) / 2h⌋
//
// The chord lies above the true curve 2^(−r/h) by at most 0.043 of the value
// at the start of the half-life; it decays slower than the true exponential.
func DecayRate(ema uint64, elapsed, halfLife uint64) uint64 {
	if elapsed == 0 || ema == 0 {
		return ema
	}
	if halfLife == 0 {
		return 0
	}
	halvings := elapsed / halfLife
	if halvings >= 64 {
		return 0
	}
	x := ema >> halvings
	rem := elapsed % halfLife
	return ppm.MulDiv(x, 2*halfLife-rem, 2*halfLife)
}

// RequestRate converts a (decayed) rate EMA into a request rate, in
// millionths of a request per rate_window_blocks. Under the decay above, a
// requester submitting r requests per block holds the EMA near 2h·r·1e6
// (each block decays it by 1/(2h)), so
//
//	rate = ema · window / (2h)
func RequestRate(p Params, ema uint64) uint64 {
	if p.RateHalfLifeBlocks == 0 {
		return 0
	}
	return ppm.MulDiv(ema, p.RateWindowBlocks, sat(p.RateHalfLifeBlocks, p.RateHalfLifeBlocks))
}

// FrequencyPpm is 1e6 − min(1e6, penalty), where
//
//	excess  = max(0, rate − free_request_rate·1e6)        (millionths of a request per window)
//	penalty = ⌊excess · frequency_penalty_per_request_ppm / 1e6⌋
//	penalty = ⌊penalty · (1e6 − completion) / 1e6⌋         (offset by successful completion)
func FrequencyPpm(p Params, rate uint64, completion uint32) uint32 {
	free := ppm.MulDiv(p.FreeRequestRate, ppm.Max, 1)
	if rate <= free {
		return ppm.Max
	}
	penalty := ppm.MulDiv(rate-free, uint64(p.FrequencyPenaltyPerRequestPpm), ppm.Max)
	if completion > ppm.Max {
		completion = ppm.Max
	}
	penalty = ppm.MulDiv(penalty, ppm.Max-uint64(completion), ppm.Max)
	if penalty >= ppm.Max {
		return 0
	}
	return uint32(ppm.Max - penalty)
}

// ScorePpm is the weighted average Σ wᵢ·fᵢ / Σ wᵢ of the four factors with
// the params' weights (Validate guarantees Σ wᵢ > 0).
func ScorePpm(p Params, completion, frequency, validation, peer uint32) uint32 {
	wc, wf, wv, wp := uint64(p.WeightCompletion), uint64(p.WeightFrequency), uint64(p.WeightValidation), uint64(p.WeightPeer)
	den := wc + wf + wv + wp
	if den == 0 {
		return p.DefaultScorePpm
	}
	num := wc*uint64(completion) + wf*uint64(frequency) + wv*uint64(validation) + wp*uint64(peer)
	return uint32(num / den)
}

func sat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}
