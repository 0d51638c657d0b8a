package types_test

import (
	"math"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/deferral/types"
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

type invalidCase struct {
	name   string
	params types.Params
	field  string // the error must mention it
}

func checkRejected(t *testing.T, cases []invalidCase) {
	t.Helper()
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

// ppmFields are the parameters that must be at most 1_000_000.
var ppmFields = map[string]func(*types.Params, uint32){
	"defer_reputation_threshold_ppm": func(p *types.Params, v uint32) { p.DeferReputationThresholdPpm = v },
	"defer_load_threshold_ppm":       func(p *types.Params, v uint32) { p.DeferLoadThresholdPpm = v },
	"defer_network_threshold_ppm":    func(p *types.Params, v uint32) { p.DeferNetworkThresholdPpm = v },
	"dissent_slash_ppm":              func(p *types.Params, v uint32) { p.DissentSlashPpm = v },
	"cancel_worker_share_ppm":        func(p *types.Params, v uint32) { p.CancelWorkerSharePpm = v },
	"queue_exit_fee_ppm":             func(p *types.Params, v uint32) { p.QueueExitFeePpm = v },
	"failure_refund_ppm":             func(p *types.Params, v uint32) { p.FailureRefundPpm = v },
	"urgency_value_low_ppm":          func(p *types.Params, v uint32) { p.UrgencyValueLowPpm = v },
	"urgency_value_normal_ppm":       func(p *types.Params, v uint32) { p.UrgencyValueNormalPpm = v },
	"urgency_value_high_ppm":         func(p *types.Params, v uint32) { p.UrgencyValueHighPpm = v },
	"urgency_value_critical_ppm":     func(p *types.Params, v uint32) { p.UrgencyValueCriticalPpm = v },
}

// perBlockCaps are the EndBlock work caps that must be at most MaxPerBlockCap.
var perBlockCaps = map[string]func(*types.Params, uint32){
	"max_expirations_per_block": func(p *types.Params, v uint32) { p.MaxExpirationsPerBlock = v },
	"max_assignments_per_block": func(p *types.Params, v uint32) { p.MaxAssignmentsPerBlock = v },
	"drain_lookahead":           func(p *types.Params, v uint32) { p.DrainLookahead = v },
	"max_prunes_per_block":      func(p *types.Params, v uint32) { p.MaxPrunesPerBlock = v },
}

// nonZeroFields are the parameters that must be positive.
var nonZeroFields = map[string]func(*types.Params){
	"max_wait_blocks":                 func(p *types.Params) { p.MaxWaitBlocks = 0 },
	"queue_ttl_blocks":                func(p *types.Params) { p.QueueTtlBlocks = 0 },
	"assignment_timeout_blocks":       func(p *types.Params) { p.AssignmentTimeoutBlocks = 0 },
	"max_attempts":                    func(p *types.Params) { p.MaxAttempts = 0 },
	"retention_blocks":                func(p *types.Params) { p.RetentionBlocks = 0 },
	"max_expirations_per_block":       func(p *types.Params) { p.MaxExpirationsPerBlock = 0 },
	"max_assignments_per_block":       func(p *types.Params) { p.MaxAssignmentsPerBlock = 0 },
	"max_prunes_per_block":            func(p *types.Params) { p.MaxPrunesPerBlock = 0 },
	"max_inline_payload_bytes":        func(p *types.Params) { p.MaxInlinePayloadBytes = 0 },
	"max_open_requests_per_requester": func(p *types.Params) { p.MaxOpenRequestsPerRequester = 0 },
	"max_compute_units":               func(p *types.Params) { p.MaxComputeUnits = 0 },
	"gas_per_drain":                   func(p *types.Params) { p.GasPerDrain = 0 },
}

func TestParamsValidateRejectsPpmAboveOne(t *testing.T) {
	var cases []invalidCase
	for field, set := range ppmFields {
		cases = append(cases,
			invalidCase{field + " = 1_000_001", with(func(p *types.Params) { set(p, 1_000_001) }), field},
			invalidCase{field + " = MaxUint32", with(func(p *types.Params) { set(p, math.MaxUint32) }), field})
	}
	checkRejected(t, cases)
}

func TestParamsValidateRejectsZero(t *testing.T) {
	var cases []invalidCase
	for field, zero := range nonZeroFields {
		cases = append(cases, invalidCase{field + " = 0", with(zero), field})
	}
	checkRejected(t, cases)
}

func TestParamsValidateRejectsPerBlockCapAboveMax(t *testing.T) {
	var cases []invalidCase
	for field, set := range perBlockCaps {
		cases = append(cases,
			invalidCase{field + " = MaxPerBlockCap+1", with(func(p *types.Params) { set(p, types.MaxPerBlockCap+1) }), field},
			invalidCase{field + " = MaxUint32", with(func(p *types.Params) { set(p, math.MaxUint32) }), field})
	}
	checkRejected(t, cases)
}

func TestParamsValidateRejectsOther(t *testing.T) {
	checkRejected(t, []invalidCase{
		{"all priority weights zero", with(func(p *types.Params) {
			p.PriorityWeightReputation, p.PriorityWeightUrgency = 0, 0
		}), "priority weight"},
		{"priority weights sum one above one million", with(func(p *types.Params) {
			p.PriorityWeightReputation, p.PriorityWeightUrgency = 999_999, 2
		}), "priority weights"},
		{"priority weights overflow uint32", with(func(p *types.Params) {
			// In uint32 the sum would wrap around to 1 and pass.
			p.PriorityWeightReputation, p.PriorityWeightUrgency = math.MaxUint32, 2
		}), "priority weights"},
		{"queue ttl below max wait", with(func(p *types.Params) { p.MaxWaitBlocks, p.QueueTtlBlocks = 50, 49 }), "queue_ttl_blocks"},
		{"no failure confirmation", with(func(p *types.Params) { p.FailureConfirmations = 0 }), "failure_confirmations"},
		{"no replica", with(func(p *types.Params) { p.MaxReplicas = 0 }), "max_replicas"},
		{"replicas above the limit", with(func(p *types.Params) { p.MaxReplicas = types.MaxReplicasLimit + 1 }), "max_replicas"},
		{"more tie-break replicas than replicas", with(func(p *types.Params) { p.MaxReplicas, p.MaxTiebreakReplicas = 3, 4 }), "max_tiebreak_replicas"},
		{"more failure confirmations than attempts", with(func(p *types.Params) { p.MaxAttempts, p.FailureConfirmations = 3, 4 }), "failure_confirmations"},
		{"data price with invalid denom", with(func(p *types.Params) {
			p.PricePerDataMegabyte = sdk.Coin{Denom: "1x", Amount: sdkmath.NewInt(5)}
		}), "price_per_data_megabyte"},
		{"data price with empty denom", with(func(p *types.Params) { p.PricePerDataMegabyte = sdk.Coin{Amount: sdkmath.NewInt(5)} }), "price_per_data_megabyte"},
		{"data price with nil amount", with(func(p *types.Params) { p.PricePerDataMegabyte = sdk.Coin{Denom: chaincfg.BondDenom} }), "price_per_data_megabyte"},
		{"negative data price", with(func(p *types.Params) {
			p.PricePerDataMegabyte = sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(-1)}
		}), "price_per_data_megabyte"},
	})
}

// TestParamsValidateAcceptsBounds pins the inclusive bounds, so an off-by-one
// tightening of Validate is caught too.
func TestParamsValidateAcceptsBounds(t *testing.T) {
	cases := map[string]types.Params{
		"ppm exactly one": with(func(p *types.Params) {
			for _, set := range ppmFields {
				set(p, 1_000_000)
			}
		}),
		"ppm zero": with(func(p *types.Params) {
			for _, set := range ppmFields {
				set(p, 0)
			}
		}),
		"per-block caps at MaxPerBlockCap": with(func(p *types.Params) {
			for _, set := range perBlockCaps {
				set(p, types.MaxPerBlockCap)
			}
		}),
		"a single positive priority weight": with(func(p *types.Params) {
			p.PriorityWeightReputation, p.PriorityWeightUrgency = 0, 1
		}),
		"priority weights summing to one million": with(func(p *types.Params) {
			p.PriorityWeightReputation, p.PriorityWeightUrgency = 500_000, 500_000
		}),
		"queue ttl equal to max wait":       with(func(p *types.Params) { p.MaxWaitBlocks, p.QueueTtlBlocks = 77, 77 }),
		"one failure report is final":       with(func(p *types.Params) { p.FailureConfirmations = 1 }),
		"as many confirmations as attempts": with(func(p *types.Params) { p.MaxAttempts, p.FailureConfirmations = 4, 4 }),
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
	bad := types.GenesisState{Params: with(func(p *types.Params) { p.MaxAssignmentsPerBlock = types.MaxPerBlockCap + 1 })}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "max_assignments_per_block") {
		t.Fatalf("genesis with invalid params must be rejected naming the field, got %v", err)
	}
}
