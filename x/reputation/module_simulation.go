package reputation

import (
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	"github.com/repshard/repshard/x/reputation/simulation"
	"github.com/repshard/repshard/x/reputation/types"
)

var _ module.AppModuleSimulation = AppModule{}

// GenerateGenesisState writes a random valid genesis for the simulation.
func (AppModule) GenerateGenesisState(simState *module.SimulationState) {
	simulation.RandomizedGenState(simState)
}

// RegisterStoreDecoder decodes the module's store entries in simulation
// logs (e.g. the diff of an import/export mismatch).
func (am AppModule) RegisterStoreDecoder(sdr simtypes.StoreDecoderRegistry) {
	sdr[types.StoreKey] = simtypes.NewStoreDecoderFuncFromCollectionsSchema(am.keeper.Schema)
}

// WeightedOperations is the legacy operations hook; the simulation uses
// WeightedOperationsX.
func (AppModule) WeightedOperations(module.SimulationState) []simtypes.WeightedOperation { return nil }

// WeightedOperationsX registers the module's weighted msg operations.
func (am AppModule) WeightedOperationsX(weights simsx.WeightSource, reg simsx.Registry) {
	simulation.WeightedOperations(weights, reg, am.keeper)
}

// ProposalMsgsX registers the module's governance proposal msgs.
func (AppModule) ProposalMsgsX(weights simsx.WeightSource, reg simsx.Registry) {
	simulation.ProposalMsgs(weights, reg)
}
