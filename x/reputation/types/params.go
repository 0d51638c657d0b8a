package types

import (
	"errors"
	"fmt"

	sdkmath "cosmossdk.io/math"

	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/internal/quarantine"
)

// MaxPowBits is the number of bits of a sha256 digest: no proof of work can
// have more leading zero bits.
const MaxPowBits = 256

// MaxPeerPriorWeightPpm bounds peer_prior_weight_ppm (a million full-weight
// reviews): larger priors would make reviews meaningless.
const MaxPeerPriorWeightPpm = 1_000_000 * 1_000_000

// DefaultMaxConsecutiveExpiries is how many assignments in a row a worker may
// let expire before it is marked unresponsive: one expiry can be bad luck
// (a restart, a slow block), three in a row is a stopped daemon.
const DefaultMaxConsecutiveExpiries = 3

// MaxConsecutiveExpiriesLimit bounds max_consecutive_expiries.
const MaxConsecutiveExpiriesLimit = 1_000

// DefaultParams returns the default x/reputation parameters: a new
// requester starts neutral (0.5) and one outcome moves the completion factor
// only part of the way thanks to the Beta(2,2) prior.
//
// The weights 8/2/2/4 (Σ 16) are chosen with x/shard's
// preferred_reputation_threshold_ppm (0.70) and x/deferral's
// defer_reputation_threshold_ppm (0.75); docs/reputation.md, "Thresholds",
// has the table (TestReputationThresholdsAtDefaults measures it):
//   - completion weighs as much as the three other factors together, so a
//     clean record alone, no proof of work, stake or review, scores
//     0.25 + completion/2: 0.70 — preferred routing — after 16 completions,
//     and tends to 0.75 without reaching it;
//   - frequency and validation weigh the same, so a fresh profile scores
//     exactly the default 0.5; full validation without completions gives
//     0.625, below 0.70: preferred routing needs completions;
//   - peer weighs twice validation, so good reviews, like proof of work or
//     stake, take a good record above 0.75.
func DefaultParams() Params {
	return Params{
		DefaultScorePpm:          500_000,
		WeightCompletion:         8,
		WeightFrequency:          2,
		WeightValidation:         2,
		WeightPeer:               4,
		CompletionPriorSuccesses: 2,
		CompletionPriorFailures:  2,
		RateHalfLifeBlocks:       100,
		FreeRequestRate:          20,
		RateWindowBlocks:         100,
		// Each request per window above the free rate costs 40_000 ppm of the
		// frequency factor (× (1 − completion)), i.e. 2/16 · 40_000 = 5_000
		// ppm of the score.
		FrequencyPenaltyPerRequestPpm: 40_000,
		PowMinDifficultyBits:          8,
		PowFullCreditBits:             16,
		PowCreditEmaWeightPpm:         200_000,
		StakeReferenceAmount:          sdkmath.NewInt(1_000_000_000), // 1,000 REP
		PeerNeutralScorePpm:           500_000,
		InactivityDecayBlocks:         0,
		PeerPriorWeightPpm:            2_000_000,                   // the prior counts as two full-weight reviews
		PeerBondReferenceAmount:       sdkmath.NewInt(100_000_000), // 100 REP of worker bond weighs fully (10× the minimum worker bond)

		// Worker score: a new worker is neutral (Beta(2,2) reliability, a
		// neutral rating prior worth two full-weight ratings): 500_000, tier 5.
		WorkerWeightReliabilityPpm: 700_000,
		WorkerWeightRatingPpm:      300_000,
		WorkerReliabilityPriorGood: 2,
		WorkerReliabilityPriorBad:  2,
		WorkerRatingPriorWeightPpm: 2_000_000,
		WorkerRatingNeutralPpm:     500_000,
		MinWorkerScorePpm:          300_000,
		WorkerPauseBlocks:          600,
		MaxWorkerResumesPerBlock:   50,
		MaxConsecutiveExpiries:     DefaultMaxConsecutiveExpiries,
		MaxItemFailures:            quarantine.DefaultMaxItemFailures,
	}
}

// Validate rejects parameters the reputation formulas cannot work with.
func (p Params) Validate() error {
	if err := quarantine.ValidateMaxItemFailures(p.MaxItemFailures); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(paramcheck.MaxBlocks),
		paramcheck.F("rate_half_life_blocks", p.RateHalfLifeBlocks),
		paramcheck.F("rate_window_blocks", p.RateWindowBlocks),
		paramcheck.F("inactivity_decay_blocks", p.InactivityDecayBlocks),
		paramcheck.F("worker_pause_blocks", p.WorkerPauseBlocks),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(ppm.Validate,
		paramcheck.F("default_score_ppm", p.DefaultScorePpm),
		paramcheck.F("frequency_penalty_per_request_ppm", p.FrequencyPenaltyPerRequestPpm),
		paramcheck.F("pow_credit_ema_weight_ppm", p.PowCreditEmaWeightPpm),
		paramcheck.F("peer_neutral_score_ppm", p.PeerNeutralScorePpm),
	); err != nil {
		return err
	}
	weights := uint64(p.WeightCompletion) + uint64(p.WeightFrequency) + uint64(p.WeightValidation) + uint64(p.WeightPeer)
	if weights == 0 {
		return errors.New("at least one factor weight must be positive (all four weights are zero)")
	}
	if weights > ppm.Max {
		return fmt.Errorf("the factor weights must sum to at most %d, got %d", ppm.Max, weights)
	}
	if p.CompletionPriorSuccesses == 0 || p.CompletionPriorFailures == 0 {
		return errors.New("completion_prior_successes and completion_prior_failures must be positive")
	}
	if err := paramcheck.CheckAll(paramcheck.NonZero,
		paramcheck.F("rate_half_life_blocks", p.RateHalfLifeBlocks),
		paramcheck.F("rate_window_blocks", p.RateWindowBlocks),
		paramcheck.F("pow_credit_ema_weight_ppm", p.PowCreditEmaWeightPpm),
	); err != nil {
		return err
	}
	if p.PowMinDifficultyBits > MaxPowBits {
		return fmt.Errorf("pow_min_difficulty_bits must be at most %d, got %d", MaxPowBits, p.PowMinDifficultyBits)
	}
	if p.PowFullCreditBits == 0 || uint64(p.PowMinDifficultyBits)+uint64(p.PowFullCreditBits) > MaxPowBits {
		return fmt.Errorf("pow_full_credit_bits must be positive and pow_min_difficulty_bits + pow_full_credit_bits at most %d", MaxPowBits)
	}
	if p.StakeReferenceAmount.IsNil() || !p.StakeReferenceAmount.IsPositive() {
		return errors.New("stake_reference_amount must be positive")
	}
	if p.PeerPriorWeightPpm == 0 || p.PeerPriorWeightPpm > MaxPeerPriorWeightPpm {
		return fmt.Errorf("peer_prior_weight_ppm must be 1..%d, got %d", uint64(MaxPeerPriorWeightPpm), p.PeerPriorWeightPpm)
	}
	if p.PeerBondReferenceAmount.IsNil() || !p.PeerBondReferenceAmount.IsPositive() {
		return errors.New("peer_bond_reference_amount must be positive")
	}
	return p.validateWorker()
}

// validateWorker checks the worker-score params.
func (p Params) validateWorker() error {
	if err := paramcheck.CheckAll(ppm.Validate,
		paramcheck.F("worker_weight_reliability_ppm", p.WorkerWeightReliabilityPpm),
		paramcheck.F("worker_weight_rating_ppm", p.WorkerWeightRatingPpm),
		paramcheck.F("worker_rating_neutral_ppm", p.WorkerRatingNeutralPpm),
		paramcheck.F("min_worker_score_ppm", p.MinWorkerScorePpm),
	); err != nil {
		return err
	}
	if sum := uint64(p.WorkerWeightReliabilityPpm) + uint64(p.WorkerWeightRatingPpm); sum != ppm.Max {
		return fmt.Errorf("worker_weight_reliability_ppm + worker_weight_rating_ppm must be exactly %d, got %d", ppm.Max, sum)
	}
	if p.WorkerReliabilityPriorGood == 0 || p.WorkerReliabilityPriorBad == 0 {
		return errors.New("worker_reliability_prior_good and worker_reliability_prior_bad must be positive")
	}
	if p.WorkerRatingPriorWeightPpm == 0 || p.WorkerRatingPriorWeightPpm > MaxPeerPriorWeightPpm {
		return fmt.Errorf("worker_rating_prior_weight_ppm must be 1..%d, got %d", uint64(MaxPeerPriorWeightPpm), p.WorkerRatingPriorWeightPpm)
	}
	if p.MinWorkerScorePpm%WorkerTierWidthPpm != 0 {
		return fmt.Errorf("min_worker_score_ppm must be a multiple of %d (an assignment tier boundary), got %d", WorkerTierWidthPpm, p.MinWorkerScorePpm)
	}
	if err := paramcheck.CheckAll(paramcheck.NonZero,
		paramcheck.F("worker_pause_blocks", p.WorkerPauseBlocks),
		paramcheck.F("max_worker_resumes_per_block", p.MaxWorkerResumesPerBlock),
		paramcheck.F("max_consecutive_expiries", p.MaxConsecutiveExpiries),
	); err != nil {
		return err
	}
	if p.MaxConsecutiveExpiries > MaxConsecutiveExpiriesLimit {
		return fmt.Errorf("max_consecutive_expiries must be at most %d, got %d", MaxConsecutiveExpiriesLimit, p.MaxConsecutiveExpiries)
	}
	return paramcheck.CheckAll(paramcheck.AtMost(paramcheck.MaxPerBlockCap),
		paramcheck.F("max_worker_resumes_per_block", p.MaxWorkerResumesPerBlock),
	)
}
