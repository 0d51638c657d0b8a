// Package simulation is x/deferral's part of the app simulation: a random
// genesis, weighted operations for every msg (valid and invalid variants),
// including x/reputation's checks that need x/deferral's msgs or records
// (proof-of-work submissions, reviews of finished requests), and the
// governance params-update proposal.
package simulation

import (
	"math/rand"
	"slices"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/deferral/types"
)

// RandomizedGenState writes a genesis with random valid params and no requests.
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesis()
	gs.Params = RandomParams(simState.Rand)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}

func ppmN(r *rand.Rand) uint32 { return uint32(r.Intn(1_000_001)) }

// RandomParams returns valid params spread over their range, with short
// waits, timeouts and retention so a simulation of a few hundred blocks
// drains queues, expires assignments and prunes records.
func RandomParams(r *rand.Rand) types.Params {
	p := types.DefaultParams()
	p.DeferReputationThresholdPpm = ppmN(r)
	p.DeferLoadThresholdPpm = ppmN(r)
	p.DeferNetworkThresholdPpm = ppmN(r)
	p.PriorityWeightReputation = uint32(r.Intn(8))
	p.PriorityWeightUrgency = uint32(r.Intn(8))
	if p.PriorityWeightReputation+p.PriorityWeightUrgency == 0 {
		p.PriorityWeightUrgency = 1
	}
	p.MaxWaitBlocks = 1 + uint64(r.Intn(30))
	p.QueueTtlBlocks = p.MaxWaitBlocks + uint64(r.Intn(60))
	p.AssignmentTimeoutBlocks = 1 + uint64(r.Intn(15))
	p.MaxAttempts = 1 + uint32(r.Intn(4))
	p.RetentionBlocks = 1 + uint64(r.Intn(40))
	p.MaxExpirationsPerBlock = 1 + uint32(r.Intn(50))
	p.MaxAssignmentsPerBlock = 1 + uint32(r.Intn(100))
	p.DrainLookahead = uint32(r.Intn(16))
	p.MaxPrunesPerBlock = 1 + uint32(r.Intn(50))
	p.MaxInlinePayloadBytes = 1 + uint32(r.Intn(4_096))
	p.MaxOpenRequestsPerRequester = 1 + uint32(r.Intn(50))
	p.MaxComputeUnits = 1 + uint64(r.Intn(2_000))
	p.PricePerDataMegabyte = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(r.Int63n(2_000)))
	p.PreferredDiscountPpm = uint32(r.Intn(500_001))
	p.CancelWorkerSharePpm = ppmN(r)
	p.QueueExitFeePpm = uint32(r.Intn(100_001))
	p.MaxDeadlineBlocks = 1 + uint64(r.Intn(100))
	p.FailureRefundPpm = ppmN(r)
	p.FailureConfirmations = 1 + uint32(r.Intn(int(p.MaxAttempts)))
	p.MaxReplicas = 1 + uint32(r.Intn(5))
	p.MaxTiebreakReplicas = uint32(r.Intn(int(p.MaxReplicas) + 1))
	p.DissentSlashPpm = uint32(r.Intn(300_001))
	urgency := []uint32{ppmN(r), ppmN(r), ppmN(r), ppmN(r)}
	slices.Sort(urgency)
	p.UrgencyValueLowPpm, p.UrgencyValueNormalPpm, p.UrgencyValueHighPpm, p.UrgencyValueCriticalPpm =
		urgency[0], urgency[1], urgency[2], urgency[3]
	fees := []uint32{1 + uint32(r.Intn(3_000_000)), 1 + uint32(r.Intn(3_000_000)), 1 + uint32(r.Intn(3_000_000)), 1 + uint32(r.Intn(3_000_000))}
	slices.Sort(fees)
	p.UrgencyFeeLowPpm, p.UrgencyFeeNormalPpm, p.UrgencyFeeHighPpm, p.UrgencyFeeCriticalPpm = fees[0], fees[1], fees[2], fees[3]
	p.MaxItemFailures = 1 + uint32(r.Intn(10))
	return p
}
