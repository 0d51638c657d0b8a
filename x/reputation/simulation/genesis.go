// Package simulation is x/reputation's part of the app simulation: a random
// genesis, weighted operations for its own msgs and the governance
// params-update proposal. The operations built from x/deferral's msgs and
// records (proof-of-work submissions, reviews) are in x/deferral's
// simulation: x/reputation imports no other repshard module.
package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/x/reputation/types"
)

// RandomizedGenState writes a genesis with random valid params and no
// profiles (requester or worker).
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesis()
	gs.Params = RandomParams(simState.Rand)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}

// RandomParams returns valid params spread over their range.
func RandomParams(r *rand.Rand) types.Params {
	p := types.DefaultParams()
	p.DefaultScorePpm = uint32(r.Intn(1_000_001))
	p.WeightCompletion = 1 + uint32(r.Intn(8))
	p.WeightFrequency = uint32(r.Intn(8))
	p.WeightValidation = uint32(r.Intn(8))
	p.WeightPeer = uint32(r.Intn(8))
	p.CompletionPriorSuccesses = 1 + uint32(r.Intn(5))
	p.CompletionPriorFailures = 1 + uint32(r.Intn(5))
	p.RateHalfLifeBlocks = 1 + uint64(r.Intn(200))
	p.FreeRequestRate = uint64(r.Intn(50))
	p.RateWindowBlocks = 1 + uint64(r.Intn(200))
	p.FrequencyPenaltyPerRequestPpm = uint32(r.Intn(100_001))
	p.PowMinDifficultyBits = uint32(r.Intn(13))
	p.PowFullCreditBits = 1 + uint32(r.Intn(16))
	p.PowCreditEmaWeightPpm = 1 + uint32(r.Intn(1_000_000))
	p.StakeReferenceAmount = sdkmath.NewInt(1 + r.Int63n(1_000_000_000_000))
	p.PeerNeutralScorePpm = uint32(r.Intn(1_000_001))
	p.InactivityDecayBlocks = uint64(r.Intn(200))
	p.WorkerWeightReliabilityPpm = uint32(r.Intn(1_000_001))
	p.WorkerWeightRatingPpm = 1_000_000 - p.WorkerWeightReliabilityPpm
	p.WorkerReliabilityPriorGood = 1 + uint32(r.Intn(5))
	p.WorkerReliabilityPriorBad = 1 + uint32(r.Intn(5))
	p.WorkerRatingPriorWeightPpm = 1 + uint64(r.Intn(5_000_000))
	p.WorkerRatingNeutralPpm = uint32(r.Intn(1_000_001))
	p.MinWorkerScorePpm = types.WorkerTierWidthPpm * uint32(r.Intn(6)) // 0..500_000: some runs pause workers
	p.WorkerPauseBlocks = 1 + uint64(r.Intn(50))                       // short, so a simulation sees resumes
	p.MaxWorkerResumesPerBlock = 1 + uint32(r.Intn(20))
	p.MaxConsecutiveExpiries = 1 + uint32(r.Intn(5))
	p.MaxItemFailures = 1 + uint32(r.Intn(10))
	return p
}
