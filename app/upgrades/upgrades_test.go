package upgrades_test

import (
	"context"
	"testing"

	"cosmossdk.io/log"
	"cosmossdk.io/store/metrics"
	"cosmossdk.io/store/rootmulti"
	storetypes "cosmossdk.io/store/types"
	upgradetypes "cosmossdk.io/x/upgrade/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/app/upgrades"
)

func noopHandler(upgrades.AppDeps) upgradetypes.UpgradeHandler {
	return func(_ context.Context, _ upgradetypes.Plan, vm module.VersionMap) (module.VersionMap, error) {
		return vm, nil
	}
}

func TestValidateRejectsIncompleteUpgrades(t *testing.T) {
	ok := upgrades.Upgrade{Name: "v9", CreateUpgradeHandler: noopHandler}
	require.NoError(t, ok.Validate())

	cases := map[string]upgrades.Upgrade{
		"no name":    {CreateUpgradeHandler: noopHandler},
		"no handler": {Name: "v9"},
		"added store without a name": {Name: "v9", CreateUpgradeHandler: noopHandler,
			StoreUpgrades: storetypes.StoreUpgrades{Added: []string{""}}},
		"deleted store without a name": {Name: "v9", CreateUpgradeHandler: noopHandler,
			StoreUpgrades: storetypes.StoreUpgrades{Deleted: []string{""}}},
		"rename without a new name": {Name: "v9", CreateUpgradeHandler: noopHandler,
			StoreUpgrades: storetypes.StoreUpgrades{Renamed: []storetypes.StoreRename{{OldKey: "a"}}}},
	}
	for name, u := range cases {
		require.Error(t, u.Validate(), name)
	}

	require.NoError(t, upgrades.ValidateRegistry([]upgrades.Upgrade{ok, {Name: "v10", CreateUpgradeHandler: noopHandler}}))
	require.ErrorContains(t, upgrades.ValidateRegistry([]upgrades.Upgrade{ok, ok}), "registered twice")
	require.ErrorContains(t, upgrades.ValidateRegistry([]upgrades.Upgrade{ok, {Name: "v10"}}), "no handler")
}

// The store loader is x/upgrade's only when the upgrade info on disk names a
// registered upgrade that has store upgrades and whose height is not skipped.
func TestStoreLoaderDecision(t *testing.T) {
	withStores := upgrades.Upgrade{Name: "v3", CreateUpgradeHandler: noopHandler,
		StoreUpgrades: storetypes.StoreUpgrades{Added: []string{"newmodule"}}}
	withoutStores := upgrades.Upgrade{Name: "v2", CreateUpgradeHandler: noopHandler}
	registered := []upgrades.Upgrade{withoutStores, withStores}
	skipNone := func(int64) bool { return false }

	require.Nil(t, upgrades.StoreLoader(upgradetypes.Plan{}, skipNone, registered), "no upgrade info on disk")
	require.Nil(t, upgrades.StoreLoader(upgradetypes.Plan{Name: "v2", Height: 50}, skipNone, registered),
		"an upgrade without store upgrades loads as usual")
	require.Nil(t, upgrades.StoreLoader(upgradetypes.Plan{Name: "v4", Height: 50}, skipNone, registered),
		"an upgrade this binary does not register")
	require.Nil(t, upgrades.StoreLoader(upgradetypes.Plan{Name: "v3", Height: 50}, func(h int64) bool { return h == 50 }, registered),
		"a skipped upgrade height")
	require.NotNil(t, upgrades.StoreLoader(upgradetypes.Plan{Name: "v3", Height: 50}, skipNone, registered))

	renamed := upgrades.Upgrade{Name: "v5", CreateUpgradeHandler: noopHandler,
		StoreUpgrades: storetypes.StoreUpgrades{Renamed: []storetypes.StoreRename{{OldKey: "a", NewKey: "b"}}}}
	require.NotNil(t, upgrades.StoreLoader(upgradetypes.Plan{Name: "v5", Height: 7}, skipNone, []upgrades.Upgrade{renamed}))
}

// The loader StoreLoader returns adds a store on a real multistore when the
// state is loaded at the height before the plan's, where loading with the new
// store mounted fails without it.
func TestStoreLoaderAddsAStoreAtTheUpgradeHeight(t *testing.T) {
	db := dbm.NewMemDB()
	keyOld := storetypes.NewKVStoreKey("old")
	keyNew := storetypes.NewKVStoreKey("newmodule")

	// The old binary: one store, two committed versions.
	ms := rootmulti.NewStore(db, log.NewNopLogger(), metrics.NewNoOpMetrics())
	ms.MountStoreWithDB(keyOld, storetypes.StoreTypeIAVL, nil)
	require.NoError(t, ms.LoadLatestVersion())
	ms.GetKVStore(keyOld).Set([]byte("k"), []byte("v"))
	ms.Commit()
	ms.Commit()
	require.EqualValues(t, 2, ms.LastCommitID().Version)

	newBinary := func() *rootmulti.Store {
		s := rootmulti.NewStore(db, log.NewNopLogger(), metrics.NewNoOpMetrics())
		s.MountStoreWithDB(keyOld, storetypes.StoreTypeIAVL, nil)
		s.MountStoreWithDB(keyNew, storetypes.StoreTypeIAVL, nil)
		return s
	}
	registered := []upgrades.Upgrade{{Name: "v3", CreateUpgradeHandler: noopHandler,
		StoreUpgrades: storetypes.StoreUpgrades{Added: []string{keyNew.Name()}}}}
	skipNone := func(int64) bool { return false }

	// Without the store upgrade the new store cannot be loaded.
	require.ErrorContains(t, newBinary().LoadLatestVersion(), "new stores should be added using StoreUpgrades")

	// A plan for another height leaves the default loader in place.
	tooLate := upgrades.StoreLoader(upgradetypes.Plan{Name: "v3", Height: 5}, skipNone, registered)
	require.NotNil(t, tooLate)
	require.Error(t, tooLate(newBinary()))

	// The plan halted the chain at height 3: the node loads version 2 and adds the store.
	loader := upgrades.StoreLoader(upgradetypes.Plan{Name: "v3", Height: 3}, skipNone, registered)
	require.NotNil(t, loader)
	s := newBinary()
	require.NoError(t, loader(s))
	require.Equal(t, []byte("v"), s.GetKVStore(keyOld).Get([]byte("k")), "existing state kept")
	s.GetKVStore(keyNew).Set([]byte("n"), []byte("1"))
	s.Commit()
	require.EqualValues(t, 3, s.LastCommitID().Version)

	// Later restarts load both stores with the default loader.
	again := newBinary()
	require.NoError(t, again.LoadLatestVersion())
	require.Equal(t, []byte("1"), again.GetKVStore(keyNew).Get([]byte("n")))
}
