package reputation

import (
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/simulation"
	"github.com/repshard/repshard/x/reputation/types"
)

var (
	_ module.AppModuleSimulation   = AppModule{}
	_ simsx.HasWeightedOperationsX = AppModule{}
	_ simsx.HasProposalMsgsX       = AppModule{}
)

// sims is the module's simulation side, built from its simulation package;
// the simulation hooks below forward to it (see simsutil.Module).
func (am AppModule) sims() simsutil.Module[keeper.Keeper] {
	return simsutil.Module[keeper.Keeper]{
		StoreKey:     types.StoreKey,
		Schema:       am.keeper.Schema,
		Keeper:       am.keeper,
		GenState:     simulation.RandomizedGenState,
		Operations:   simulation.WeightedOperations,
		ProposalMsgs: simulation.ProposalMsgs,
	}
}

// GenerateGenesisState writes a random valid genesis for the simulation.
func (am AppModule) GenerateGenesisState(s *module.SimulationState) {
	am.sims().GenerateGenesisState(s)
}

// RegisterStoreDecoder decodes the module's store entries in simulation logs.
func (am AppModule) RegisterStoreDecoder(sdr simtypes.StoreDecoderRegistry) {
	am.sims().RegisterStoreDecoder(sdr)
}

// WeightedOperations is the legacy operations hook (none); the simulation
// uses WeightedOperationsX.
func (am AppModule) WeightedOperations(s module.SimulationState) []simtypes.WeightedOperation {
	return am.sims().WeightedOperations(s)
}

// WeightedOperationsX registers the module's weighted msg operations.
func (am AppModule) WeightedOperationsX(w simsx.WeightSource, reg simsx.Registry) {
	am.sims().WeightedOperationsX(w, reg)
}

// ProposalMsgsX registers the module's governance proposal msgs.
func (am AppModule) ProposalMsgsX(w simsx.WeightSource, reg simsx.Registry) {
	am.sims().ProposalMsgsX(w, reg)
}
