// Package simulation is x/shard's part of the app simulation: a random
// genesis (genesis.go) and the simsx msg factories (msg_factory.go) of its
// weighted operations, for every msg in valid and invalid variants, and of
// the governance params-update proposal.
package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/shard/types"
)

// RandomizedGenState writes a genesis with random valid params and the
// default topology (one ACTIVE shard per class, no workers).
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesis()
	gs.Params = RandomParams(simState.Rand)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}

// RandomParams returns valid params spread over their range, small enough
// that a simulation of a few hundred blocks sees bonds released, shards
// full of workers and topology changes.
func RandomParams(r *rand.Rand) types.Params {
	p := types.DefaultParams()
	p.MinWorkerBond = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1+r.Int63n(1_000_000)))
	p.UnbondingPeriodBlocks = 1 + uint64(r.Intn(30))
	p.MaxWorkersPerShard = 1 + uint32(r.Intn(16))
	p.PreferredReputationThresholdPpm = uint32(r.Intn(1_000_001))
	p.MergeLoadThresholdPpm = uint32(r.Intn(500_000))
	p.SplitLoadThresholdPpm = p.MergeLoadThresholdPpm + 1 + uint32(r.Intn(int(1_000_000-p.MergeLoadThresholdPpm)))
	p.SustainBlocks = 1 + uint64(r.Intn(10))
	// The shard count bounds stay at their defaults (1..8): the app's
	// invariant requires every class's ACTIVE shard count within them at
	// every block, and neither genesis nor a params change moves the
	// topology into new bounds (raising the minimum above the genesis
	// topology, or lowering the maximum below the shards split so far, is
	// reported as a broken invariant).
	p.TopologyCooldownBlocks = uint64(r.Intn(20))
	p.LoadEmaWeightPpm = 1 + uint32(r.Intn(1_000_000))
	p.MaxMigrationsPerBlock = 1 + uint32(r.Intn(50))
	p.MaxTopologyChecksPerBlock = 1 + uint32(r.Intn(16))
	p.MaxBondReleasesPerBlock = 1 + uint32(r.Intn(50))
	p.MaxAssignmentCandidates = 1 + uint32(r.Intn(32))
	p.NewWorkerScorePpm = uint32(r.Intn(1_000_001))
	p.MaxItemFailures = 1 + uint32(r.Intn(10))
	return p
}
