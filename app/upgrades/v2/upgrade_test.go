package v2_test

import (
	"fmt"
	"testing"

	storetypes "cosmossdk.io/store/types"
	upgradetypes "cosmossdk.io/x/upgrade/types"
	gwruntime "github.com/grpc-ecosystem/grpc-gateway/runtime"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/repshard/repshard/app/upgrades"
	v2 "github.com/repshard/repshard/app/upgrades/v2"
)

// versionedModule is a module at a given ConsensusVersion that registers a
// migration from each version in migrateFrom; each migration writes
// "<name>: from->to" to the store and appends it to ran.
type versionedModule struct {
	name        string
	version     uint64
	migrateFrom []uint64
	key         *storetypes.KVStoreKey
	ran         *[]string
}

func (m versionedModule) Name() string                                                { return m.name }
func (versionedModule) IsOnePerModuleType()                                           {}
func (versionedModule) IsAppModule()                                                  {}
func (versionedModule) RegisterLegacyAminoCodec(*codec.LegacyAmino)                   {}
func (versionedModule) RegisterInterfaces(codectypes.InterfaceRegistry)               {}
func (versionedModule) RegisterGRPCGatewayRoutes(client.Context, *gwruntime.ServeMux) {}
func (m versionedModule) ConsensusVersion() uint64                                    { return m.version }
func (m versionedModule) RegisterServices(cfg module.Configurator) {
	for _, from := range m.migrateFrom {
		step := fmt.Sprintf("%s: %d->%d", m.name, from, from+1)
		if err := cfg.RegisterMigration(m.name, from, func(ctx sdk.Context) error {
			ctx.KVStore(m.key).Set([]byte(step), []byte{1})
			*m.ran = append(*m.ran, step)
			return nil
		}); err != nil {
			panic(err)
		}
	}
}

var (
	_ module.AppModule           = versionedModule{}
	_ module.HasServices         = versionedModule{}
	_ module.HasConsensusVersion = versionedModule{}
)

func setup(t *testing.T, mods ...versionedModule) (sdk.Context, upgradetypes.UpgradeHandler) {
	t.Helper()
	cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
	ams := make([]module.AppModule, len(mods))
	for i, m := range mods {
		ams[i] = m
	}
	mm := module.NewManager(ams...)
	cfg := module.NewConfigurator(cdc, baseapp.NewMsgServiceRouter(), baseapp.NewGRPCQueryRouter())
	require.NoError(t, mm.RegisterServices(cfg))
	ctx := testutil.DefaultContext(mods[0].key, storetypes.NewTransientStoreKey("transient"))
	return ctx, v2.CreateUpgradeHandler(upgrades.AppDeps{ModuleManager: mm, Configurator: cfg})
}

// The handler runs, in order, every migration from the stored version of a
// module to its ConsensusVersion, and returns the new versions.
func TestHandlerRunsTheModuleMigrations(t *testing.T) {
	key := storetypes.NewKVStoreKey("test")
	var ran []string
	alpha := versionedModule{name: "alpha", version: 3, migrateFrom: []uint64{1, 2}, key: key, ran: &ran}
	beta := versionedModule{name: "beta", version: 2, migrateFrom: []uint64{1}, key: key, ran: &ran}
	gamma := versionedModule{name: "gamma", version: 1, key: key, ran: &ran}
	ctx, handler := setup(t, alpha, beta, gamma)

	// beta is already at its version: nothing runs for it.
	got, err := handler(ctx, upgradetypes.Plan{Name: v2.UpgradeName, Height: 10},
		module.VersionMap{"alpha": 1, "beta": 2, "gamma": 1})
	require.NoError(t, err)
	require.Equal(t, module.VersionMap{"alpha": 3, "beta": 2, "gamma": 1}, got)
	require.Equal(t, []string{"alpha: 1->2", "alpha: 2->3"}, ran)
	require.NotNil(t, ctx.KVStore(key).Get([]byte("alpha: 2->3")), "the migration wrote to the store")
	require.Nil(t, ctx.KVStore(key).Get([]byte("beta: 1->2")))
}

// A module whose version was bumped without a registered migration fails the
// upgrade instead of being marked migrated.
func TestHandlerFailsOnAMissingMigration(t *testing.T) {
	key := storetypes.NewKVStoreKey("test")
	var ran []string
	bumped := versionedModule{name: "bumped", version: 2, key: key, ran: &ran}
	ctx, handler := setup(t, bumped)
	_, err := handler(ctx, upgradetypes.Plan{Name: v2.UpgradeName, Height: 10}, module.VersionMap{"bumped": 1})
	require.ErrorContains(t, err, "no migrations found for module bumped")
	require.Empty(t, ran)
}

func TestUpgradeDefinition(t *testing.T) {
	require.Equal(t, "v2", v2.Upgrade.Name)
	require.NoError(t, v2.Upgrade.Validate())
	require.False(t, v2.Upgrade.HasStoreUpgrades(), "v2 adds no store")
}
