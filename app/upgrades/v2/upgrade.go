// Package v2 is the first named software upgrade of repshard, "v2". Its
// handler runs every module migration the modules registered
// (module.Manager.RunMigrations from the versions stored on chain to each
// module's ConsensusVersion). It adds no store.
package v2

import (
	"context"

	storetypes "cosmossdk.io/store/types"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/app/upgrades"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// UpgradeName is the plan name of the upgrade.
const UpgradeName = "v2"

// Upgrade is the "v2" upgrade.
var Upgrade = upgrades.Upgrade{
	Name:                 UpgradeName,
	CreateUpgradeHandler: CreateUpgradeHandler,
	StoreUpgrades:        storetypes.StoreUpgrades{},
	// The first release: every repshard module at version 1.
	VersionsBefore: module.VersionMap{
		deferraltypes.ModuleName:   1,
		reputationtypes.ModuleName: 1,
		rewardstypes.ModuleName:    1,
		shardtypes.ModuleName:      1,
	},
}

// CreateUpgradeHandler returns the handler of "v2": the migrations of every
// module whose stored version is below its ConsensusVersion, in the module
// manager's migration order.
func CreateUpgradeHandler(deps upgrades.AppDeps) upgradetypes.UpgradeHandler {
	return func(ctx context.Context, plan upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
		sdk.UnwrapSDKContext(ctx).Logger().Info("running module migrations", "upgrade", plan.Name)
		return deps.ModuleManager.RunMigrations(ctx, deps.Configurator, fromVM)
	}
}
