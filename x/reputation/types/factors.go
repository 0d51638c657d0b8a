package types

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	sdkmath "cosmossdk.io/math"

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

// PowDigest is sha256(requester ‖ payloadHash ‖ u64be(submission) ‖ nonce),
// the hash a proof of work is judged by (requester as its address bytes).
// submission is the number of the submission the proof is attached to (the
// requester's submitted counter once that submission is recorded; the
// profile query shows it as next_pow_submission), so a nonce proves work for
// one submission only: attached to any other, it is judged on a different
// digest.
func PowDigest(requester, payloadHash []byte, submission uint64, nonce []byte) [32]byte {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], submission)
	h := sha256.New()
	h.Write(requester)
	h.Write(payloadHash)
	h.Write(n[:])
	h.Write(nonce)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// LeadingZeroBits counts the leading zero bits of a digest (0..256).
func LeadingZeroBits(digest [32]byte) uint32 {
	var n uint32
	for _, b := range digest {
		if b == 0 {
			n += 8
			continue
		}
		return n + uint32(bits.LeadingZeros8(b))
	}
	return n
}

// PowCreditPpm is the credit of one proof with the given leading zero bits
// (at least the minimum): the bits above pow_min_difficulty_bits, against
// pow_full_credit_bits, capped at 1e6:
//
//	credit = min(1e6, (bits − min)·1e6 / full)
func PowCreditPpm(p Params, zeroBits uint32) uint32 {
	if zeroBits <= p.PowMinDifficultyBits || p.PowFullCreditBits == 0 {
		return 0
	}
	above := uint64(zeroBits - p.PowMinDifficultyBits)
	if above >= uint64(p.PowFullCreditBits) {
		return ppm.Max
	}
	return uint32(ppm.MulDiv(above, ppm.Max, uint64(p.PowFullCreditBits)))
}

// PowEma moves the proof-of-work credit EMA toward credit by weight α =
// pow_credit_ema_weight_ppm:
//
//	ema' = (ema·(1e6 − α) + credit·α) / 1e6
func PowEma(p Params, ema, credit uint32) uint32 {
	alpha := uint64(p.PowCreditEmaWeightPpm)
	if alpha > ppm.Max {
		alpha = ppm.Max
	}
	return uint32((uint64(ema)*(ppm.Max-alpha) + uint64(credit)*alpha) / ppm.Max)
}

// StakeCreditPpm is bonded / stake_reference_amount in ppm, capped at 1e6.
func StakeCreditPpm(p Params, bonded sdkmath.Int) uint32 {
	return ratioPpm(bonded, p.StakeReferenceAmount)
}

// ValidationPpm is the larger of the proof-of-work and the stake credit.
func ValidationPpm(powCredit, stakeCredit uint32) uint32 {
	return min(max(powCredit, stakeCredit), ppm.Max)
}

// RatingPpm maps a 1..5 rating onto 0..1e6: 1 → 0, 3 → 500_000, 5 → 1e6.
func RatingPpm(rating uint32) uint32 {
	if rating < MinRating {
		return 0
	}
	if rating > MaxRating {
		rating = MaxRating
	}
	return (rating - MinRating) * (ppm.Max / (MaxRating - MinRating))
}

// ReviewWeightPpm is the weight of a review (EigenTrust-style: a rater counts
// by its own standing): the reviewer's bond against
// peer_bond_reference_amount (capped at 1e6) times the reviewer's score:
//
//	w = min(1e6, bond·1e6/ref) · score / 1e6
func ReviewWeightPpm(p Params, bond sdkmath.Int, reviewerScore uint32) uint32 {
	return uint32(ppm.MulDiv(uint64(ratioPpm(bond, p.PeerBondReferenceAmount)), uint64(min(reviewerScore, ppm.Max)), ppm.Max))
}

// PeerPpm is the weighted mean of ratings with a neutral prior:
//
//	peer = (Σ wᵣ·ratingᵣ + neutral·prior) / (Σ wᵣ + prior)
//
// ratingSum = Σ wᵣ·ratingᵣ (ppm·ppm), ratingWeight = Σ wᵣ (ppm). With no
// reviews it is peer_neutral_score_ppm.
func PeerPpm(p Params, ratingSum, ratingWeight sdkmath.Int) uint32 {
	if ratingSum.IsNil() {
		ratingSum = sdkmath.ZeroInt()
	}
	if ratingWeight.IsNil() {
		ratingWeight = sdkmath.ZeroInt()
	}
	prior := sdkmath.NewIntFromUint64(p.PeerPriorWeightPpm)
	num := ratingSum.Add(prior.MulRaw(int64(p.PeerNeutralScorePpm)))
	den := ratingWeight.Add(prior)
	if !den.IsPositive() {
		return p.PeerNeutralScorePpm
	}
	v := num.Quo(den)
	if v.GT(sdkmath.NewInt(ppm.Max)) {
		return ppm.Max
	}
	return uint32(v.Uint64())
}

// DecayedScore applies inactivity decay: after inactivity_decay_blocks
// without a write the score moves linearly toward default_score_ppm, reaching
// it after another inactivity_decay_blocks:
//
//	idle ≤ D:      score
//	idle ≥ 2D:     default
//	otherwise:     score + (default − score)·(idle − D)/D
//
// D = 0 disables the decay.
func DecayedScore(p Params, score uint32, idle uint64) uint32 {
	d := p.InactivityDecayBlocks
	if d == 0 || idle <= d {
		return score
	}
	def := uint64(p.DefaultScorePpm)
	if idle-d >= d {
		return p.DefaultScorePpm
	}
	s := uint64(score)
	if def >= s {
		return uint32(s + ppm.MulDiv(def-s, idle-d, d))
	}
	return uint32(s - ppm.MulDiv(s-def, idle-d, d))
}

// ratioPpm is min(1e6, a·1e6/b) for a ≥ 0, b > 0.
func ratioPpm(a, b sdkmath.Int) uint32 {
	if a.IsNil() || !a.IsPositive() || b.IsNil() || !b.IsPositive() {
		return 0
	}
	if a.GTE(b) {
		return ppm.Max
	}
	return uint32(a.MulRaw(ppm.Max).Quo(b).Uint64())
}
