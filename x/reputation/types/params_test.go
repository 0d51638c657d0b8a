package types_test

import (
	"math"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"

	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/x/reputation/types"
)

func TestDefaultParamsValid(t *testing.T) {
	if err := types.DefaultParams().Validate(); err != nil {
		t.Fatalf("default params must be valid: %v", err)
	}
}

// with returns the default params changed by edit.
func with(edit func(*types.Params)) types.Params {
	p := types.DefaultParams()
	edit(&p)
	return p
}

func TestParamsValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		params types.Params
		field  string // the error must mention it
	}{
		{"default score above one", with(func(p *types.Params) { p.DefaultScorePpm = 1_000_001 }), "default_score_ppm"},
		{"frequency penalty above one", with(func(p *types.Params) { p.FrequencyPenaltyPerRequestPpm = 1_000_001 }), "frequency_penalty_per_request_ppm"},
		{"pow ema weight above one", with(func(p *types.Params) { p.PowCreditEmaWeightPpm = 1_000_001 }), "pow_credit_ema_weight_ppm"},
		{"pow ema weight zero", with(func(p *types.Params) { p.PowCreditEmaWeightPpm = 0 }), "pow_credit_ema_weight_ppm"},
		{"peer neutral above one", with(func(p *types.Params) { p.PeerNeutralScorePpm = math.MaxUint32 }), "peer_neutral_score_ppm"},
		{"all weights zero", with(func(p *types.Params) {
			p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 0, 0, 0, 0
		}), "weight"},
		{"weights sum one above one million", with(func(p *types.Params) {
			p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 999_998, 1, 1, 1
		}), "weights"},
		{"weights overflow uint32", with(func(p *types.Params) {
			// In uint32 the sum would wrap around to 1 and pass.
			p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = math.MaxUint32, 0, 0, 2
		}), "weights"},
		{"zero prior successes", with(func(p *types.Params) { p.CompletionPriorSuccesses = 0 }), "completion_prior_successes"},
		{"zero prior failures", with(func(p *types.Params) { p.CompletionPriorFailures = 0 }), "completion_prior_failures"},
		{"zero rate half life", with(func(p *types.Params) { p.RateHalfLifeBlocks = 0 }), "rate_half_life_blocks"},
		{"zero rate window", with(func(p *types.Params) { p.RateWindowBlocks = 0 }), "rate_window_blocks"},
		{"pow min bits above sha256", with(func(p *types.Params) { p.PowMinDifficultyBits = types.MaxPowBits + 1 }), "pow_min_difficulty_bits"},
		{"zero pow full credit bits", with(func(p *types.Params) { p.PowFullCreditBits = 0 }), "pow_full_credit_bits"},
		{"pow bits sum above sha256", with(func(p *types.Params) {
			p.PowMinDifficultyBits, p.PowFullCreditBits = 250, 7
		}), "pow_full_credit_bits"},
		{"pow bits overflow uint32", with(func(p *types.Params) {
			p.PowMinDifficultyBits, p.PowFullCreditBits = 1, math.MaxUint32
		}), "pow_full_credit_bits"},
		{"nil stake reference", with(func(p *types.Params) { p.StakeReferenceAmount = sdkmath.Int{} }), "stake_reference_amount"},
		{"zero stake reference", with(func(p *types.Params) { p.StakeReferenceAmount = sdkmath.ZeroInt() }), "stake_reference_amount"},
		{"negative stake reference", with(func(p *types.Params) { p.StakeReferenceAmount = sdkmath.NewInt(-1) }), "stake_reference_amount"},
		{"worker weights below one million", with(func(p *types.Params) { p.WorkerWeightRatingPpm-- }), "worker_weight"},
		{"worker weights above one million", with(func(p *types.Params) { p.WorkerWeightReliabilityPpm++ }), "worker_weight"},
		{"worker weight above one", with(func(p *types.Params) {
			p.WorkerWeightReliabilityPpm, p.WorkerWeightRatingPpm = 1_000_001, 0
		}), "worker_weight_reliability_ppm"},
		{"worker weights overflow uint32", with(func(p *types.Params) {
			p.WorkerWeightReliabilityPpm, p.WorkerWeightRatingPpm = math.MaxUint32, 1_000_001
		}), "worker_weight"},
		{"zero worker good prior", with(func(p *types.Params) { p.WorkerReliabilityPriorGood = 0 }), "worker_reliability_prior_good"},
		{"zero worker bad prior", with(func(p *types.Params) { p.WorkerReliabilityPriorBad = 0 }), "worker_reliability_prior_bad"},
		{"zero worker rating prior", with(func(p *types.Params) { p.WorkerRatingPriorWeightPpm = 0 }), "worker_rating_prior_weight_ppm"},
		{"huge worker rating prior", with(func(p *types.Params) { p.WorkerRatingPriorWeightPpm = types.MaxPeerPriorWeightPpm + 1 }), "worker_rating_prior_weight_ppm"},
		{"worker rating neutral above one", with(func(p *types.Params) { p.WorkerRatingNeutralPpm = 1_000_001 }), "worker_rating_neutral_ppm"},
		{"min worker score off a tier boundary", with(func(p *types.Params) { p.MinWorkerScorePpm = 350_000 }), "min_worker_score_ppm"},
		{"min worker score above one", with(func(p *types.Params) { p.MinWorkerScorePpm = 1_100_000 }), "min_worker_score_ppm"},
		{"zero worker pause", with(func(p *types.Params) { p.WorkerPauseBlocks = 0 }), "worker_pause_blocks"},
		{"zero worker resumes", with(func(p *types.Params) { p.MaxWorkerResumesPerBlock = 0 }), "max_worker_resumes_per_block"},
		{"unbounded worker resumes", with(func(p *types.Params) { p.MaxWorkerResumesPerBlock = paramcheck.MaxPerBlockCap + 1 }), "max_worker_resumes_per_block"},
		{"zero consecutive expiries", with(func(p *types.Params) { p.MaxConsecutiveExpiries = 0 }), "max_consecutive_expiries"},
		{"unbounded consecutive expiries", with(func(p *types.Params) { p.MaxConsecutiveExpiries = types.MaxConsecutiveExpiriesLimit + 1 }), "max_consecutive_expiries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.params.Validate()
			if err == nil {
				t.Fatal("Validate must reject these params")
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %q must mention %q", err, c.field)
			}
		})
	}
}

// TestParamsValidateAcceptsBounds pins the inclusive bounds, so an off-by-one
// tightening of Validate is caught too.
func TestParamsValidateAcceptsBounds(t *testing.T) {
	cases := map[string]types.Params{
		"ppm exactly one": with(func(p *types.Params) {
			p.DefaultScorePpm, p.FrequencyPenaltyPerRequestPpm, p.PowCreditEmaWeightPpm, p.PeerNeutralScorePpm = 1_000_000, 1_000_000, 1_000_000, 1_000_000
		}),
		"ppm zero where allowed": with(func(p *types.Params) {
			p.DefaultScorePpm, p.FrequencyPenaltyPerRequestPpm, p.PeerNeutralScorePpm = 0, 0, 0
		}),
		"a single positive weight": with(func(p *types.Params) {
			p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 0, 0, 1, 0
		}),
		"weights summing to one million": with(func(p *types.Params) {
			p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 250_000, 250_000, 250_000, 250_000
		}),
		"pow bits summing to 256": with(func(p *types.Params) { p.PowMinDifficultyBits, p.PowFullCreditBits = 240, 16 }),
		"no pow minimum":          with(func(p *types.Params) { p.PowMinDifficultyBits = 0 }),
		"stake reference of one":  with(func(p *types.Params) { p.StakeReferenceAmount = sdkmath.OneInt() }),
		"all worker weight on reliability": with(func(p *types.Params) {
			p.WorkerWeightReliabilityPpm, p.WorkerWeightRatingPpm = 1_000_000, 0
		}),
		"no worker pauses":                  with(func(p *types.Params) { p.MinWorkerScorePpm = 0 }),
		"min worker score of one":           with(func(p *types.Params) { p.MinWorkerScorePpm = 1_000_000 }),
		"worker resumes at the cap":         with(func(p *types.Params) { p.MaxWorkerResumesPerBlock = paramcheck.MaxPerBlockCap }),
		"one expiry marks a worker":         with(func(p *types.Params) { p.MaxConsecutiveExpiries = 1 }),
		"consecutive expiries at the limit": with(func(p *types.Params) { p.MaxConsecutiveExpiries = types.MaxConsecutiveExpiriesLimit }),
		"worker rating prior maximum":       with(func(p *types.Params) { p.WorkerRatingPriorWeightPpm = types.MaxPeerPriorWeightPpm }),
	}
	for name, p := range cases {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: must be valid: %v", name, err)
		}
	}
}

func TestGenesisValidate(t *testing.T) {
	if err := types.DefaultGenesis().Validate(); err != nil {
		t.Fatalf("default genesis must be valid: %v", err)
	}
	gs, def := types.DefaultGenesis(), types.DefaultParams()
	if got, want := gs.Params.String(), def.String(); got != want {
		t.Fatalf("default genesis must carry the default params:\n got %s\nwant %s", got, want)
	}
	if err := (types.GenesisState{}).Validate(); err == nil {
		t.Fatal("a zero genesis (zero params) must be rejected")
	}
	bad := types.GenesisState{Params: with(func(p *types.Params) { p.RateWindowBlocks = 0 })}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "rate_window_blocks") {
		t.Fatalf("genesis with invalid params must be rejected naming the field, got %v", err)
	}
}
