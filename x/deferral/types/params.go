package types

import (
	"errors"
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/internal/ppm"
)

// DefaultGasPerDrain is the store gas one EndBlock drain of a queued request
// costs when metered (measured by TestDrainGasMatchesTheCharge), charged
// at submission for every deferred request.
const DefaultGasPerDrain = 36_000

// MaxPerBlockCap bounds every per-block cap so one EndBlock step can never be
// configured to do unbounded work.
const MaxPerBlockCap = paramcheck.MaxPerBlockCap

// Upper bounds of size parameters.
const (
	MaxInlinePayloadLimit = 65_536        // bytes carried in a tx
	MaxComputeUnitsLimit  = 1_000_000_000 // units of one request
	MaxGasPerDrain        = 10_000_000
	// MaxAttemptsLimit bounds max_attempts: each expired attempt adds its
	// worker to the request's excluded_workers, which the record carries and
	// every drain of the request reads.
	MaxAttemptsLimit = 100
	// MaxReplicasLimit bounds max_replicas: a replicated request carries one
	// record per replica and escrows a share for each.
	MaxReplicasLimit = 9
)

// DefaultParams returns the default x/deferral parameters.
//
// A request is deferred when the requester's reputation is above 0.8 (a
// trusted requester can wait for the queue; its record is on chain at once),
// when its shard is more than 75% loaded, or when the whole network is more
// than 90% loaded.
func DefaultParams() Params {
	return Params{
		DeferReputationThresholdPpm:    800_000,
		DeferLoadThresholdPpm:          750_000,
		DeferNetworkThresholdPpm:       900_000,
		PriorityWeightReputation:       4,
		PriorityWeightUrgency:          4,
		PriorityWeightClass:            2,
		ClassWeightHighPriorityPpm:     1_000_000,
		ClassWeightLowPriorityPpm:      0,
		ClassWeightDataIntensivePpm:    500_000,
		ClassWeightComputeIntensivePpm: 500_000,
		MaxWaitBlocks:                  50,
		QueueTtlBlocks:                 500,
		AssignmentTimeoutBlocks:        20,
		MaxAttempts:                    3,
		RetentionBlocks:                1_000,
		MaxExpirationsPerBlock:         100,
		MaxAssignmentsPerBlock:         200,
		DrainLookahead:                 8,
		MaxPrunesPerBlock:              100,
		MaxInlinePayloadBytes:          4_096,
		MaxOpenRequestsPerRequester:    100,
		MaxComputeUnits:                1_000,
		PricePerComputeUnit:            sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000)),
		FailureRefundPpm:               500_000,
		GasPerDrain:                    DefaultGasPerDrain,
		UrgencyValueLowPpm:             0,
		UrgencyValueNormalPpm:          333_333,
		UrgencyValueHighPpm:            666_666,
		UrgencyValueCriticalPpm:        1_000_000,
		FailureConfirmations:           2,
		MaxReplicas:                    5,
		MaxTiebreakReplicas:            2,
		DissentSlashPpm:                100_000,
	}
}

// Validate rejects parameters the deferral service cannot work with.
func (p Params) Validate() error {
	if err := paramcheck.CheckAll(paramcheck.AtMost(paramcheck.MaxBlocks),
		paramcheck.F("max_wait_blocks", p.MaxWaitBlocks),
		paramcheck.F("queue_ttl_blocks", p.QueueTtlBlocks),
		paramcheck.F("assignment_timeout_blocks", p.AssignmentTimeoutBlocks),
		paramcheck.F("retention_blocks", p.RetentionBlocks),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(ppm.Validate,
		paramcheck.F("defer_reputation_threshold_ppm", p.DeferReputationThresholdPpm),
		paramcheck.F("defer_load_threshold_ppm", p.DeferLoadThresholdPpm),
		paramcheck.F("defer_network_threshold_ppm", p.DeferNetworkThresholdPpm),
		paramcheck.F("class_weight_high_priority_ppm", p.ClassWeightHighPriorityPpm),
		paramcheck.F("class_weight_low_priority_ppm", p.ClassWeightLowPriorityPpm),
		paramcheck.F("class_weight_data_intensive_ppm", p.ClassWeightDataIntensivePpm),
		paramcheck.F("class_weight_compute_intensive_ppm", p.ClassWeightComputeIntensivePpm),
		paramcheck.F("failure_refund_ppm", p.FailureRefundPpm),
		paramcheck.F("dissent_slash_ppm", p.DissentSlashPpm),
		paramcheck.F("urgency_value_low_ppm", p.UrgencyValueLowPpm),
		paramcheck.F("urgency_value_normal_ppm", p.UrgencyValueNormalPpm),
		paramcheck.F("urgency_value_high_ppm", p.UrgencyValueHighPpm),
		paramcheck.F("urgency_value_critical_ppm", p.UrgencyValueCriticalPpm),
	); err != nil {
		return err
	}
	weights := uint64(p.PriorityWeightReputation) + uint64(p.PriorityWeightUrgency) + uint64(p.PriorityWeightClass)
	if weights == 0 {
		return errors.New("at least one priority weight must be positive (all three are zero)")
	}
	if weights > ppm.Max {
		return fmt.Errorf("the priority weights must sum to at most %d, got %d", ppm.Max, weights)
	}
	if err := paramcheck.CheckAll(paramcheck.NonZero,
		paramcheck.F("max_wait_blocks", p.MaxWaitBlocks),
		paramcheck.F("queue_ttl_blocks", p.QueueTtlBlocks),
		paramcheck.F("assignment_timeout_blocks", p.AssignmentTimeoutBlocks),
		paramcheck.F("max_attempts", p.MaxAttempts),
		paramcheck.F("retention_blocks", p.RetentionBlocks),
		paramcheck.F("max_expirations_per_block", p.MaxExpirationsPerBlock),
		paramcheck.F("max_assignments_per_block", p.MaxAssignmentsPerBlock),
		paramcheck.F("max_prunes_per_block", p.MaxPrunesPerBlock),
		paramcheck.F("max_inline_payload_bytes", p.MaxInlinePayloadBytes),
		paramcheck.F("max_open_requests_per_requester", p.MaxOpenRequestsPerRequester),
		paramcheck.F("max_compute_units", p.MaxComputeUnits),
		paramcheck.F("gas_per_drain", p.GasPerDrain),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(MaxPerBlockCap),
		paramcheck.F("max_expirations_per_block", p.MaxExpirationsPerBlock),
		paramcheck.F("max_assignments_per_block", p.MaxAssignmentsPerBlock),
		paramcheck.F("drain_lookahead", p.DrainLookahead),
		paramcheck.F("max_prunes_per_block", p.MaxPrunesPerBlock),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(MaxInlinePayloadLimit), paramcheck.F("max_inline_payload_bytes", p.MaxInlinePayloadBytes)); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(MaxAttemptsLimit), paramcheck.F("max_attempts", p.MaxAttempts)); err != nil {
		return err
	}
	if p.MaxReplicas == 0 || p.MaxReplicas > MaxReplicasLimit {
		return fmt.Errorf("max_replicas must be 1..%d, got %d", MaxReplicasLimit, p.MaxReplicas)
	}
	if p.MaxTiebreakReplicas > p.MaxReplicas {
		return fmt.Errorf("max_tiebreak_replicas (%d) must be at most max_replicas (%d)", p.MaxTiebreakReplicas, p.MaxReplicas)
	}
	if p.FailureConfirmations == 0 || p.FailureConfirmations > p.MaxAttempts {
		return fmt.Errorf("failure_confirmations must be 1..max_attempts (%d), got %d: a request can only collect as many reports as it has attempts",
			p.MaxAttempts, p.FailureConfirmations)
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(MaxComputeUnitsLimit), paramcheck.F("max_compute_units", p.MaxComputeUnits)); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(MaxGasPerDrain), paramcheck.F("gas_per_drain", p.GasPerDrain)); err != nil {
		return err
	}
	if !(p.UrgencyValueLowPpm <= p.UrgencyValueNormalPpm && p.UrgencyValueNormalPpm <= p.UrgencyValueHighPpm &&
		p.UrgencyValueHighPpm <= p.UrgencyValueCriticalPpm) {
		return errors.New("urgency values must not decrease from low to normal to high to critical")
	}
	if p.QueueTtlBlocks < p.MaxWaitBlocks {
		return fmt.Errorf("queue_ttl_blocks (%d) must be at least max_wait_blocks (%d), or due requests would expire before their turn",
			p.QueueTtlBlocks, p.MaxWaitBlocks)
	}
	if err := p.PricePerComputeUnit.Validate(); err != nil {
		return fmt.Errorf("price_per_compute_unit: %w", err)
	}
	if p.PricePerComputeUnit.Denom != chaincfg.BondDenom {
		return fmt.Errorf("price_per_compute_unit must be in %s, got %s", chaincfg.BondDenom, p.PricePerComputeUnit.Denom)
	}
	return nil
}
