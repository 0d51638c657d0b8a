package types_test

import (
	"math"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/shard/types"
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
		{"bond with invalid denom", with(func(p *types.Params) { p.MinWorkerBond = sdk.Coin{Denom: "1x", Amount: sdkmath.NewInt(5)} }), "min_worker_bond"},
		{"bond with empty denom", with(func(p *types.Params) { p.MinWorkerBond = sdk.Coin{Amount: sdkmath.NewInt(5)} }), "min_worker_bond"},
		{"bond with nil amount", with(func(p *types.Params) { p.MinWorkerBond = sdk.Coin{Denom: chaincfg.BondDenom} }), "min_worker_bond"},
		{"negative bond", with(func(p *types.Params) {
			p.MinWorkerBond = sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(-1)}
		}), "min_worker_bond"},
		{"zero bond", with(func(p *types.Params) { p.MinWorkerBond = sdk.NewCoin(chaincfg.BondDenom, sdkmath.ZeroInt()) }), "min_worker_bond"},
		{"preferred threshold above one", with(func(p *types.Params) { p.PreferredReputationThresholdPpm = 1_000_001 }), "preferred_reputation_threshold_ppm"},
		{"split threshold above one", with(func(p *types.Params) { p.SplitLoadThresholdPpm = 1_000_001 }), "split_load_threshold_ppm"},
		{"merge threshold above one", with(func(p *types.Params) { p.MergeLoadThresholdPpm = math.MaxUint32 }), "merge_load_threshold_ppm"},
		{"load ema weight above one", with(func(p *types.Params) { p.LoadEmaWeightPpm = 1_000_001 }), "load_ema_weight_ppm"},
		{"load ema weight zero", with(func(p *types.Params) { p.LoadEmaWeightPpm = 0 }), "load_ema_weight_ppm"},
		{"split equal to merge", with(func(p *types.Params) { p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = 500_000, 500_000 }), "split_load_threshold_ppm"},
		{"split below merge", with(func(p *types.Params) { p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = 200_000, 800_000 }), "merge_load_threshold_ppm"},
		{"zero unbonding period", with(func(p *types.Params) { p.UnbondingPeriodBlocks = 0 }), "unbonding_period_blocks"},
		{"zero max workers", with(func(p *types.Params) { p.MaxWorkersPerShard = 0 }), "max_workers_per_shard"},
		{"zero sustain blocks", with(func(p *types.Params) { p.SustainBlocks = 0 }), "sustain_blocks"},
		{"zero min shards", with(func(p *types.Params) { p.MinShardsPerClass = 0 }), "min_shards_per_class"},
		{"zero migrations per block", with(func(p *types.Params) { p.MaxMigrationsPerBlock = 0 }), "max_migrations_per_block"},
		{"zero topology checks per block", with(func(p *types.Params) { p.MaxTopologyChecksPerBlock = 0 }), "max_topology_checks_per_block"},
		{"zero bond releases per block", with(func(p *types.Params) { p.MaxBondReleasesPerBlock = 0 }), "max_bond_releases_per_block"},
		{"max shards below min", with(func(p *types.Params) { p.MinShardsPerClass, p.MaxShardsPerClass = 5, 4 }), "max_shards_per_class"},
		{"zero max shards", with(func(p *types.Params) { p.MaxShardsPerClass = 0 }), "max_shards_per_class"},
		{"zero assignment candidates", with(func(p *types.Params) { p.MaxAssignmentCandidates = 0 }), "max_assignment_candidates"},
		{"new worker score above one", with(func(p *types.Params) { p.NewWorkerScorePpm = 1_000_001 }), "new_worker_score_ppm"},
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
			p.PreferredReputationThresholdPpm, p.SplitLoadThresholdPpm, p.LoadEmaWeightPpm = 1_000_000, 1_000_000, 1_000_000
		}),
		"split just above merge":   with(func(p *types.Params) { p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = 1, 0 }),
		"max shards equal to min":  with(func(p *types.Params) { p.MinShardsPerClass, p.MaxShardsPerClass = 3, 3 }),
		"no topology cooldown":     with(func(p *types.Params) { p.TopologyCooldownBlocks = 0 }),
		"bond of one":              with(func(p *types.Params) { p.MinWorkerBond = sdk.NewCoin(chaincfg.BondDenom, sdkmath.OneInt()) }),
		"one assignment candidate": with(func(p *types.Params) { p.MaxAssignmentCandidates = 1 }),
		"candidates at the cap":    with(func(p *types.Params) { p.MaxAssignmentCandidates = 10_000 }),
		"new workers in tier 0":    with(func(p *types.Params) { p.NewWorkerScorePpm = 0 }),
		"new workers in tier 10":   with(func(p *types.Params) { p.NewWorkerScorePpm = 1_000_000 }),
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
	bad := types.GenesisState{Params: with(func(p *types.Params) { p.MinShardsPerClass, p.MaxShardsPerClass = 2, 1 })}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "max_shards_per_class") {
		t.Fatalf("genesis with invalid params must be rejected naming the field, got %v", err)
	}
}
