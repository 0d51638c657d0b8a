// Package upgrades holds the named software upgrades of repshard and what
// they need from the app. Each upgrade lives in its own package
// (app/upgrades/<name>) and is listed in the app's registry (app/upgrades.go):
// the app sets its handler on x/upgrade, and when the node starts on the
// height a plan of that name halted the chain at, its store upgrades.
//
// A chain takes an upgrade through governance: a MsgSoftwareUpgrade proposal
// with a plan {name, height} passes, every node halts at that height
// ("UPGRADE NEEDED", x/upgrade writes data/upgrade-info.json), the operators
// start the binary that has the handler of that name, and the handler runs in
// the PreBlock of that height, before anything else of the block
// (docs/operations.md).
package upgrades

import (
	"errors"
	"fmt"

	storetypes "cosmossdk.io/store/types"
	upgradetypes "cosmossdk.io/x/upgrade/types"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/types/module"
)

// AppDeps is what an upgrade handler may use of the app. It grows with the
// upgrades: a handler that must reach a keeper gets a field here.
type AppDeps struct {
	// ModuleManager runs the modules' migrations (RunMigrations).
	ModuleManager *module.Manager
	// Configurator is the one the modules registered their migrations with.
	Configurator module.Configurator
}

// Upgrade is one named software upgrade.
type Upgrade struct {
	// Name is the plan name a governance proposal schedules.
	Name string
	// CreateUpgradeHandler builds the handler x/upgrade runs at the upgrade
	// height: it gets the module versions stored on chain and returns the
	// new ones (module.Manager.RunMigrations does both).
	CreateUpgradeHandler func(AppDeps) upgradetypes.UpgradeHandler
	// StoreUpgrades are the stores the upgrade adds, renames or deletes,
	// applied when the node loads the state at the upgrade height; empty
	// when it only migrates the content of existing stores.
	StoreUpgrades storetypes.StoreUpgrades
	// VersionsBefore are the consensus versions of the modules the upgrade
	// migrates, as the release before it had them. A binary built with the
	// previous_release tag (app/release_previous.go) stands for that release:
	// it starts a new chain at these versions, so the upgrade's migrations
	// have something to do in the end-to-end test.
	VersionsBefore module.VersionMap
}

// Validate checks that the upgrade has a name and a handler and that its
// store upgrades name stores.
func (u Upgrade) Validate() error {
	if u.Name == "" {
		return errors.New("upgrade without a name")
	}
	if u.CreateUpgradeHandler == nil {
		return fmt.Errorf("upgrade %q has no handler", u.Name)
	}
	for _, name := range u.StoreUpgrades.Added {
		if name == "" {
			return fmt.Errorf("upgrade %q adds a store without a name", u.Name)
		}
	}
	for _, name := range u.StoreUpgrades.Deleted {
		if name == "" {
			return fmt.Errorf("upgrade %q deletes a store without a name", u.Name)
		}
	}
	for _, r := range u.StoreUpgrades.Renamed {
		if r.OldKey == "" || r.NewKey == "" {
			return fmt.Errorf("upgrade %q renames a store without both names", u.Name)
		}
	}
	return nil
}

// ValidateRegistry checks every upgrade and that no name is used twice.
func ValidateRegistry(list []Upgrade) error {
	seen := make(map[string]bool, len(list))
	for _, u := range list {
		if err := u.Validate(); err != nil {
			return err
		}
		if seen[u.Name] {
			return fmt.Errorf("upgrade %q is registered twice", u.Name)
		}
		seen[u.Name] = true
	}
	return nil
}

// HasStoreUpgrades reports whether the upgrade adds, renames or deletes a store.
func (u Upgrade) HasStoreUpgrades() bool {
	s := u.StoreUpgrades
	return len(s.Added) > 0 || len(s.Renamed) > 0 || len(s.Deleted) > 0
}

// StoreLoader decides how the node loads its state, from the upgrade info
// x/upgrade wrote to disk when a plan halted the chain (an empty plan when
// there is none). When the plan names a registered upgrade with store
// upgrades and its height is not skipped (--unsafe-skip-upgrades), it returns
// x/upgrade's UpgradeStoreLoader, which applies them when the state is loaded
// at the height before the plan's; otherwise nil: the default loader.
func StoreLoader(info upgradetypes.Plan, isSkipHeight func(int64) bool, registered []Upgrade) baseapp.StoreLoader {
	if info.Name == "" || isSkipHeight(info.Height) {
		return nil
	}
	for _, u := range registered {
		if u.Name != info.Name {
			continue
		}
		if !u.HasStoreUpgrades() {
			return nil
		}
		storeUpgrades := u.StoreUpgrades
		return upgradetypes.UpgradeStoreLoader(info.Height, &storeUpgrades)
	}
	return nil
}
