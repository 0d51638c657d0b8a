// Package simulation is x/rewards' part of the app simulation: a random
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
	"github.com/repshard/repshard/x/rewards/types"
)

// RandomizedGenState writes a genesis with random valid params and nothing
// owed or pooled.
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesis()
	gs.Params = RandomParams(simState.Rand)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}

// RandomParams returns valid params spread over their range, with short
// epochs so a simulation sees several.
func RandomParams(r *rand.Rand) types.Params {
	p := types.DefaultParams()
	p.ProtocolFeeSharePpm = uint32(r.Intn(1_000_001))
	p.EpochLengthBlocks = 1 + uint64(r.Intn(30))
	if r.Intn(2) == 0 {
		p.EpochEmissionFixed = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(r.Int63n(2_000_000)))
		p.EpochEmissionFractionPpm = 0
	} else {
		p.EpochEmissionFixed = sdk.NewCoin(chaincfg.BondDenom, sdkmath.ZeroInt())
		p.EpochEmissionFractionPpm = uint32(r.Intn(1_000_001))
	}
	p.ExpirySlashPpm = uint32(r.Intn(1_000_001))
	p.FailureRateThresholdPpm = uint32(r.Intn(1_000_001))
	p.FailureSlashPpm = uint32(r.Intn(1_000_001))
	p.MaxItemFailures = 1 + uint32(r.Intn(10))
	return p
}
