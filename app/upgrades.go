package app

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/app/upgrades"
	v2 "github.com/repshard/repshard/app/upgrades/v2"
)

// Upgrades are the named software upgrades this binary knows, oldest first.
// Every change that adds a store or changes a stored type ships as a new
// entry here (app/upgrades/<name>: its store upgrades and the module
// migrations its handler runs). An entry stays for good: x/upgrade refuses to
// run a binary that lacks the handler of the last upgrade the chain applied.
var Upgrades = []upgrades.Upgrade{
	v2.Upgrade,
}

// RegisteredUpgrades are the upgrades whose handlers this binary sets: all of
// Upgrades, less the newest in a previous_release build (the binary of the
// release before it, which halts at that upgrade's height).
func RegisteredUpgrades() []upgrades.Upgrade {
	if PreviousReleaseBuild && len(Upgrades) > 0 {
		return Upgrades[:len(Upgrades)-1]
	}
	return Upgrades
}

// setUpgrades sets the handler of every registered upgrade on x/upgrade and,
// when the node starts where a plan halted the chain, the store loader that
// applies that upgrade's store upgrades. It runs before the state is loaded.
func (app *App) setUpgrades(homePath string) {
	registered := RegisteredUpgrades()
	if err := upgrades.ValidateRegistry(registered); err != nil {
		panic(fmt.Errorf("upgrade registry: %w", err))
	}
	deps := upgrades.AppDeps{ModuleManager: app.ModuleManager, Configurator: app.configurator}
	for _, u := range registered {
		app.UpgradeKeeper.SetUpgradeHandler(u.Name, u.CreateUpgradeHandler(deps))
	}
	info, err := app.upgradeInfoOnDisk(homePath)
	if err != nil {
		panic(fmt.Errorf("read upgrade info: %w", err))
	}
	if loader := upgrades.StoreLoader(info, app.UpgradeKeeper.IsSkipHeight, registered); loader != nil {
		app.SetStoreLoader(loader)
	}
}

// upgradeInfoOnDisk is the plan x/upgrade wrote to <home>/data/upgrade-info.json
// when it halted the chain, or an empty plan when there is no such file (or no
// home, as in tests and the CLI's throwaway app).
func (app *App) upgradeInfoOnDisk(homePath string) (upgradetypes.Plan, error) {
	if homePath == "" {
		return upgradetypes.Plan{}, nil
	}
	// ReadUpgradeInfoFromDisk creates <home>/data when it is missing: look
	// first, so a home without a node is left as it is.
	if _, err := os.Stat(filepath.Join(homePath, "data", upgradetypes.UpgradeInfoFilename)); os.IsNotExist(err) {
		return upgradetypes.Plan{}, nil
	}
	return app.UpgradeKeeper.ReadUpgradeInfoFromDisk()
}

// genesisVersionMap is the module version map a new chain starts with: each
// module's ConsensusVersion, or, in a previous_release build, the versions
// the release before the newest upgrade had (its VersionsBefore), so the new
// binary's migrations run when the chain takes that upgrade.
func (app *App) genesisVersionMap() module.VersionMap {
	vm := app.ModuleManager.GetVersionMap()
	if PreviousReleaseBuild && len(Upgrades) > 0 {
		newest := Upgrades[len(Upgrades)-1]
		for _, name := range slices.Sorted(maps.Keys(newest.VersionsBefore)) {
			if _, ok := vm[name]; ok {
				vm[name] = newest.VersionsBefore[name]
			}
		}
	}
	return vm
}
