package types

import (
	"errors"
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/internal/quarantine"
)

// DefaultParams returns the default x/shard parameters: a shard splits when its
// load EMA stays above 80% for 10 blocks and two shards merge below 20%, with
// between 1 and 8 shards per class.
//
// Preferred routing starts at 0.70: with x/reputation's default weights a
// requester reaches it after 16 completions and no failure, without proof
// of work, stake or reviews; neither validation alone (0.625) nor a record
// with half its requests failed (0.5) reaches it (docs/reputation.md,
// "Thresholds").
func DefaultParams() Params {
	return Params{
		MinWorkerBond:                   sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(10_000_000)), // 10 REP
		UnbondingPeriodBlocks:           100,
		MaxWorkersPerShard:              64,
		PreferredReputationThresholdPpm: 700_000, // 16 clean completions
		SplitLoadThresholdPpm:           800_000,
		MergeLoadThresholdPpm:           200_000,
		SustainBlocks:                   10,
		MinShardsPerClass:               1,
		MaxShardsPerClass:               8,
		TopologyCooldownBlocks:          20,
		LoadEmaWeightPpm:                200_000,
		MaxMigrationsPerBlock:           50,
		MaxTopologyChecksPerBlock:       32,
		MaxBondReleasesPerBlock:         50,
		MaxAssignmentCandidates:         16,
		NewWorkerScorePpm:               500_000, // x/reputation's neutral worker score (default priors): tier 5
		// The congestion price: 1,000 urep per compute unit at the floor, up
		// to 100× under sustained overload, moving at most 12.5% per block
		// (EIP-1559's step) toward keeping shards half loaded.
		PriceFloor:         sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000)),
		PriceCeiling:       sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(100_000)),
		PriceTargetLoadPpm: 500_000,
		PriceMaxChangePpm:  125_000,
		MaxItemFailures:    quarantine.DefaultMaxItemFailures,
	}
}

// Validate rejects parameters the shard logic cannot work with.
func (p Params) Validate() error {
	if err := quarantine.ValidateMaxItemFailures(p.MaxItemFailures); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(paramcheck.MaxBlocks),
		paramcheck.F("unbonding_period_blocks", p.UnbondingPeriodBlocks),
		paramcheck.F("sustain_blocks", p.SustainBlocks),
		paramcheck.F("topology_cooldown_blocks", p.TopologyCooldownBlocks),
	); err != nil {
		return err
	}
	if err := p.MinWorkerBond.Validate(); err != nil {
		return fmt.Errorf("min_worker_bond: %w", err)
	}
	if !p.MinWorkerBond.IsPositive() {
		return errors.New("min_worker_bond must be positive")
	}
	if p.MinWorkerBond.Denom != chaincfg.BondDenom {
		return fmt.Errorf("min_worker_bond must be in %s, got %s", chaincfg.BondDenom, p.MinWorkerBond.Denom)
	}
	if err := paramcheck.CheckAll(ppm.Validate,
		paramcheck.F("preferred_reputation_threshold_ppm", p.PreferredReputationThresholdPpm),
		paramcheck.F("split_load_threshold_ppm", p.SplitLoadThresholdPpm),
		paramcheck.F("merge_load_threshold_ppm", p.MergeLoadThresholdPpm),
		paramcheck.F("load_ema_weight_ppm", p.LoadEmaWeightPpm),
		paramcheck.F("new_worker_score_ppm", p.NewWorkerScorePpm),
	); err != nil {
		return err
	}
	if p.SplitLoadThresholdPpm <= p.MergeLoadThresholdPpm {
		return fmt.Errorf("split_load_threshold_ppm (%d) must be greater than merge_load_threshold_ppm (%d)",
			p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm)
	}
	if err := paramcheck.CheckAll(paramcheck.NonZero,
		paramcheck.F("unbonding_period_blocks", p.UnbondingPeriodBlocks),
		paramcheck.F("max_workers_per_shard", p.MaxWorkersPerShard),
		paramcheck.F("sustain_blocks", p.SustainBlocks),
		paramcheck.F("min_shards_per_class", p.MinShardsPerClass),
		paramcheck.F("load_ema_weight_ppm", p.LoadEmaWeightPpm),
		paramcheck.F("max_migrations_per_block", p.MaxMigrationsPerBlock),
		paramcheck.F("max_topology_checks_per_block", p.MaxTopologyChecksPerBlock),
		paramcheck.F("max_bond_releases_per_block", p.MaxBondReleasesPerBlock),
		paramcheck.F("max_assignment_candidates", p.MaxAssignmentCandidates),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(paramcheck.MaxPerBlockCap),
		paramcheck.F("max_workers_per_shard", p.MaxWorkersPerShard),
		paramcheck.F("max_shards_per_class", p.MaxShardsPerClass),
		paramcheck.F("max_migrations_per_block", p.MaxMigrationsPerBlock),
		paramcheck.F("max_topology_checks_per_block", p.MaxTopologyChecksPerBlock),
		paramcheck.F("max_bond_releases_per_block", p.MaxBondReleasesPerBlock),
		paramcheck.F("max_assignment_candidates", p.MaxAssignmentCandidates),
	); err != nil {
		return err
	}
	if p.MaxShardsPerClass < p.MinShardsPerClass {
		return fmt.Errorf("max_shards_per_class (%d) must be at least min_shards_per_class (%d)",
			p.MaxShardsPerClass, p.MinShardsPerClass)
	}
	return p.validatePrice()
}

// validatePrice checks the congestion price params.
func (p Params) validatePrice() error {
	for _, c := range []struct {
		name string
		coin sdk.Coin
	}{{"price_floor", p.PriceFloor}, {"price_ceiling", p.PriceCeiling}} {
		if err := c.coin.Validate(); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if c.coin.Denom != chaincfg.BondDenom {
			return fmt.Errorf("%s must be in %s, got %s", c.name, chaincfg.BondDenom, c.coin.Denom)
		}
	}
	if !p.PriceFloor.IsPositive() {
		return errors.New("price_floor must be positive")
	}
	if p.PriceFloor.Amount.GT(p.PriceCeiling.Amount) {
		return fmt.Errorf("price_floor (%s) must not exceed price_ceiling (%s)", p.PriceFloor, p.PriceCeiling)
	}
	if p.PriceCeiling.Amount.GT(sdkmath.NewInt(MaxUnitPrice)) {
		return fmt.Errorf("price_ceiling must be at most %d, got %s", MaxUnitPrice, p.PriceCeiling.Amount)
	}
	if p.PriceTargetLoadPpm == 0 || p.PriceTargetLoadPpm >= ppm.Max {
		return fmt.Errorf("price_target_load_ppm must be 1..%d, got %d", ppm.Max-1, p.PriceTargetLoadPpm)
	}
	if p.PriceMaxChangePpm == 0 || p.PriceMaxChangePpm > ppm.Max {
		return fmt.Errorf("price_max_change_ppm must be 1..%d (a zero step would freeze the price), got %d", ppm.Max, p.PriceMaxChangePpm)
	}
	return nil
}
