package rewards

import (
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/rewards/keeper"
	"github.com/repshard/repshard/x/rewards/simulation"
	"github.com/repshard/repshard/x/rewards/types"
)

var (
	_ module.AppModuleSimulation   = AppModule{}
	_ simsx.HasWeightedOperationsX = AppModule{}
	_ simsx.HasProposalMsgsX       = AppModule{}
)

// simulationModule is the module's simulation side, built from its
// simulation package; AppModule embeds it, so its hooks are the module's.
func simulationModule(k keeper.Keeper) simsutil.Module[keeper.Keeper] {
	return simsutil.Module[keeper.Keeper]{
		StoreKey:     types.StoreKey,
		Schema:       k.Schema,
		Keeper:       k,
		GenState:     simulation.RandomizedGenState,
		Operations:   simulation.WeightedOperations,
		ProposalMsgs: simulation.ProposalMsgs,
	}
}
