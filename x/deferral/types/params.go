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

// DefaultGasPerDrain is the store gas one EndBlock drain of a queued request
// costs when metered (measured by TestDrainGasMatchesTheCharge, two drains in
// one block: the drains of a block share the worker and shard writes),
// charged at submission for every deferred request.
const DefaultGasPerDrain = 30_000

// DefaultMaxAssignmentsPerBlock caps the requests one EndBlock drains from
// the queues. At saturation a node includes about 1,000 single requests per
// 900 ms block (more with batched submissions), so the cap is set as high as
// keeps the drain's EndBlock within a quarter of the default block interval:
// 5,000 assignments took 150-160 ms (share 0.17-0.18 of 900 ms), 6,000 about
// 210-230 ms, 10,000 about 350 ms on the 2-core CI machine
// (BenchmarkEndBlockDrainTarget, make bench-drain; docs/BENCHMARKS.md).
const DefaultMaxAssignmentsPerBlock = 5_000

// MaxPerBlockCap bounds every per-block cap so one EndBlock step can never be
// configured to do unbounded work.
const MaxPerBlockCap = paramcheck.MaxPerBlockCap

// Upper bounds of size parameters.
const (
	MaxInlinePayloadLimit = 65_536        // bytes carried in a tx
	MaxComputeUnitsLimit  = 1_000_000_000 // units of one request
	MaxGasPerDrain        = 10_000_000
	// MaxBatchRequestsLimit bounds max_batch_requests: a batch is decided in
	// one message, so its entries are bounded like any per-block step.
	MaxBatchRequestsLimit = 10_000
	// MaxAttemptsLimit bounds max_attempts: each expired attempt adds its
	// worker to the request's excluded_workers, which the record carries and
	// every drain of the request reads.
	MaxAttemptsLimit = 100
	// MaxReplicasLimit bounds max_replicas: a replicated request carries one
	// record per replica and escrows a share for each.
	MaxReplicasLimit = 9
	// MaxDataBytesLimit bounds max_data_bytes (1 TiB).
	MaxDataBytesLimit = 1 << 40
	// MaxUrgencyFeePpm bounds an urgency multiplier (10×).
	MaxUrgencyFeePpm = 10_000_000
	// MaxUnitPrice bounds a price per compute unit or per data megabyte, in
	// urep, so that a fee stays far inside 256-bit integers.
	MaxUnitPrice = 1_000_000_000_000
)

// DefaultRetentionBlocks keeps a finished request's record queryable for
// about a day (86,400 blocks of about one second): long enough for a
// requester to read its outcome and fetch its result. Its events stay in the
// nodes' indexes (and a history store, docs/dataplane.md) after the record is
// pruned.
const DefaultRetentionBlocks = 86_400

// DefaultParams returns the default x/deferral parameters.
//
// A request is deferred when the requester's reputation is above 0.75 (a
// trusted requester can wait for the queue; its record is on chain at once),
// when its shard is more than 75% loaded, or when the whole network is more
// than 90% loaded.
//
// 0.75 is what a completion record alone tends to and never exceeds with
// x/reputation's default weights: a requester above it has completions and
// also proof of work, stake or good reviews (docs/reputation.md,
// "Thresholds", has the counts). It is above x/shard's preferred threshold
// (0.70), so a requester deferred for its reputation is always routed as
// preferred too: the least-loaded shard, preferred_discount_ppm off the fee
// and its reputation in the queue priority.
func DefaultParams() Params {
	return Params{
		DeferReputationThresholdPpm: 750_000,
		DeferLoadThresholdPpm:       750_000,
		DeferNetworkThresholdPpm:    900_000,
		PriorityWeightReputation:    1,
		PriorityWeightUrgency:       4,
		MaxWaitBlocks:               50,
		QueueTtlBlocks:              500,
		AssignmentTimeoutBlocks:     20,
		MaxAttempts:                 3,
		RetentionBlocks:             DefaultRetentionBlocks,
		MaxExpirationsPerBlock:      100,
		MaxAssignmentsPerBlock:      DefaultMaxAssignmentsPerBlock,
		DrainLookahead:              8,
		MaxPrunesPerBlock:           100,
		MaxInlinePayloadBytes:       4_096,
		MaxOpenRequestsPerRequester: 100,
		MaxComputeUnits:             1_000,
		FailureRefundPpm:            500_000,
		GasPerDrain:                 DefaultGasPerDrain,
		UrgencyValueLowPpm:          0,
		UrgencyValueNormalPpm:       200_000,
		UrgencyValueHighPpm:         950_000,
		UrgencyValueCriticalPpm:     1_000_000,
		FailureConfirmations:        2,
		MaxReplicas:                 5,
		MaxTiebreakReplicas:         2,
		DissentSlashPpm:             100_000,
		MaxDataBytes:                1 << 30, // 1 GiB
		PricePerDataMegabyte:        sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000)),
		UrgencyFeeLowPpm:            800_000,
		UrgencyFeeNormalPpm:         1_000_000,
		UrgencyFeeHighPpm:           1_500_000,
		UrgencyFeeCriticalPpm:       2_500_000,
		PreferredDiscountPpm:        100_000,
		CancelWorkerSharePpm:        100_000,
		MaxDeadlineBlocks:           10_000,
		QueueExitFeePpm:             20_000, // 2%
		MaxBatchRequests:            100,
		MaxItemFailures:             quarantine.DefaultMaxItemFailures,
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
		paramcheck.F("queue_exit_fee_ppm", p.QueueExitFeePpm),
		paramcheck.F("cancel_worker_share_ppm", p.CancelWorkerSharePpm),
		paramcheck.F("failure_refund_ppm", p.FailureRefundPpm),
		paramcheck.F("dissent_slash_ppm", p.DissentSlashPpm),
		paramcheck.F("urgency_value_low_ppm", p.UrgencyValueLowPpm),
		paramcheck.F("urgency_value_normal_ppm", p.UrgencyValueNormalPpm),
		paramcheck.F("urgency_value_high_ppm", p.UrgencyValueHighPpm),
		paramcheck.F("urgency_value_critical_ppm", p.UrgencyValueCriticalPpm),
	); err != nil {
		return err
	}
	weights := uint64(p.PriorityWeightReputation) + uint64(p.PriorityWeightUrgency)
	if weights == 0 {
		return errors.New("at least one priority weight must be positive (both are zero)")
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
		paramcheck.F("max_batch_requests", p.MaxBatchRequests),
	); err != nil {
		return err
	}
	if err := paramcheck.CheckAll(paramcheck.AtMost(MaxBatchRequestsLimit), paramcheck.F("max_batch_requests", p.MaxBatchRequests)); err != nil {
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
	if err := quarantine.ValidateMaxItemFailures(p.MaxItemFailures); err != nil {
		return err
	}
	if p.QueueTtlBlocks < p.MaxWaitBlocks {
		return fmt.Errorf("queue_ttl_blocks (%d) must be at least max_wait_blocks (%d), or due requests would expire before their turn",
			p.QueueTtlBlocks, p.MaxWaitBlocks)
	}
	return p.validatePrices()
}

// validatePrices checks the fee params: the data price, the urgency
// multipliers, the discount and the deadline bound.
func (p Params) validatePrices() error {
	if err := p.PricePerDataMegabyte.Validate(); err != nil {
		return fmt.Errorf("price_per_data_megabyte: %w", err)
	}
	if p.PricePerDataMegabyte.Denom != chaincfg.BondDenom {
		return fmt.Errorf("price_per_data_megabyte must be in %s, got %s", chaincfg.BondDenom, p.PricePerDataMegabyte.Denom)
	}
	if p.PricePerDataMegabyte.Amount.GT(sdkmath.NewIntFromUint64(MaxUnitPrice)) {
		return fmt.Errorf("price_per_data_megabyte must be at most %d, got %s", MaxUnitPrice, p.PricePerDataMegabyte.Amount)
	}
	if p.MaxDataBytes > MaxDataBytesLimit {
		return fmt.Errorf("max_data_bytes must be at most %d, got %d", uint64(MaxDataBytesLimit), p.MaxDataBytes)
	}
	if err := paramcheck.CheckAll(func(name string, v uint64) error {
		if v == 0 || v > MaxUrgencyFeePpm {
			return fmt.Errorf("%s must be 1..%d (a multiplier in ppm, at most %d×), got %d", name, MaxUrgencyFeePpm, MaxUrgencyFeePpm/ppm.Max, v)
		}
		return nil
	},
		paramcheck.F("urgency_fee_low_ppm", p.UrgencyFeeLowPpm),
		paramcheck.F("urgency_fee_normal_ppm", p.UrgencyFeeNormalPpm),
		paramcheck.F("urgency_fee_high_ppm", p.UrgencyFeeHighPpm),
		paramcheck.F("urgency_fee_critical_ppm", p.UrgencyFeeCriticalPpm),
	); err != nil {
		return err
	}
	if !(p.UrgencyFeeLowPpm <= p.UrgencyFeeNormalPpm && p.UrgencyFeeNormalPpm <= p.UrgencyFeeHighPpm &&
		p.UrgencyFeeHighPpm <= p.UrgencyFeeCriticalPpm) {
		return errors.New("urgency fee multipliers must not decrease from low to normal to high to critical: a higher urgency is a higher bid")
	}
	if p.PreferredDiscountPpm >= ppm.Max {
		return fmt.Errorf("preferred_discount_ppm must be below %d (a discount below 100%%), got %d", ppm.Max, p.PreferredDiscountPpm)
	}
	if p.MaxDeadlineBlocks == 0 || p.MaxDeadlineBlocks > paramcheck.MaxBlocks {
		return fmt.Errorf("max_deadline_blocks must be 1..%d, got %d", uint64(paramcheck.MaxBlocks), p.MaxDeadlineBlocks)
	}
	return nil
}
