package simsutil

import (
	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
)

// Module is the simulation side of a repshard module, built from its
// simulation package: each module's AppModule forwards its
// module.AppModuleSimulation and simsx hooks to one.
type Module[K any] struct {
	// StoreKey is the module's store key and Schema its keeper's collections
	// schema, used to decode store entries in simulation logs.
	StoreKey string
	Schema   collections.Schema
	// Keeper is passed to Operations.
	Keeper K
	// GenState writes a random valid genesis (simulation.RandomizedGenState).
	GenState func(*module.SimulationState)
	// Operations registers the weighted msg operations
	// (simulation.WeightedOperations).
	Operations func(simsx.WeightSource, simsx.Registry, K)
	// ProposalMsgs registers the governance proposal msgs
	// (simulation.ProposalMsgs).
	ProposalMsgs func(simsx.WeightSource, simsx.Registry)
}

var (
	_ module.AppModuleSimulation   = Module[struct{}]{}
	_ simsx.HasWeightedOperationsX = Module[struct{}]{}
	_ simsx.HasProposalMsgsX       = Module[struct{}]{}
)

// GenerateGenesisState writes a random valid genesis for the simulation.
func (m Module[K]) GenerateGenesisState(simState *module.SimulationState) {
	m.GenState(simState)
}

// RegisterStoreDecoder decodes the module's store entries in simulation
// logs (e.g. the diff of an import/export mismatch).
func (m Module[K]) RegisterStoreDecoder(sdr simtypes.StoreDecoderRegistry) {
	sdr[m.StoreKey] = simtypes.NewStoreDecoderFuncFromCollectionsSchema(m.Schema)
}

// WeightedOperations is the legacy operations hook; the simulation uses
// WeightedOperationsX.
func (Module[K]) WeightedOperations(module.SimulationState) []simtypes.WeightedOperation {
	return nil
}

// WeightedOperationsX registers the module's weighted msg operations.
func (m Module[K]) WeightedOperationsX(weights simsx.WeightSource, reg simsx.Registry) {
	m.Operations(weights, reg, m.Keeper)
}

// ProposalMsgsX registers the module's governance proposal msgs.
func (m Module[K]) ProposalMsgsX(weights simsx.WeightSource, reg simsx.Registry) {
	m.ProposalMsgs(weights, reg)
}
