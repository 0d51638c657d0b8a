package types

import (
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/internal/quarantine"
)

// DefaultParams returns the default x/rewards parameters: 5% of each fee to the
// community pool (and as many contribution points), 100-block epochs
// scheduled to emit 1 REP each from the pool (at most the epoch's points), 1%
// of the bond slashed per expired assignment.
func DefaultParams() Params {
	return Params{
		ProtocolFeeSharePpm:      50_000,
		EpochLengthBlocks:        100,
		EpochEmissionFixed:       sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000_000)),
		EpochEmissionFractionPpm: 0,
		ExpirySlashPpm:           10_000,
		FailureRateThresholdPpm:  500_000,
		FailureSlashPpm:          50_000,
		FailureSlashMinAttempts:  5,
		MaxItemFailures:          quarantine.DefaultMaxItemFailures,
	}
}

// Validate rejects parameters the rewards accounting cannot work with.
func (p Params) Validate() error {
	if err := quarantine.ValidateMaxItemFailures(p.MaxItemFailures); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(paramcheck.MaxBlocks),
		paramcheck.F("epoch_length_blocks", p.EpochLengthBlocks),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(ppm.Validate,
		paramcheck.F("protocol_fee_share_ppm", p.ProtocolFeeSharePpm),
		paramcheck.F("epoch_emission_fraction_ppm", p.EpochEmissionFractionPpm),
		paramcheck.F("expiry_slash_ppm", p.ExpirySlashPpm),
		paramcheck.F("failure_rate_threshold_ppm", p.FailureRateThresholdPpm),
		paramcheck.F("failure_slash_ppm", p.FailureSlashPpm),
	); err != nil {
		return err
	}
	if err := paramcheck.NonZero("epoch_length_blocks", p.EpochLengthBlocks); err != nil {
		return err
	}
	if err := p.EpochEmissionFixed.Validate(); err != nil {
		return fmt.Errorf("epoch_emission_fixed: %w", err)
	}
	if p.EpochEmissionFixed.Denom != chaincfg.BondDenom {
		return fmt.Errorf("epoch_emission_fixed must be in %s, got %s", chaincfg.BondDenom, p.EpochEmissionFixed.Denom)
	}
	if p.EpochEmissionFixed.IsPositive() && p.EpochEmissionFractionPpm > 0 {
		return fmt.Errorf("set either epoch_emission_fixed or epoch_emission_fraction_ppm, not both")
	}
	return nil
}
