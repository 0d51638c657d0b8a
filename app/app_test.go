package app_test

import (
	"encoding/json"
	"testing"

	storetypes "cosmossdk.io/store/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

var repshardStores = []string{reputationtypes.StoreKey, shardtypes.StoreKey, deferraltypes.StoreKey, rewardstypes.StoreKey}

func TestDefaultGenesisValidates(t *testing.T) {
	a := apptest.NewApp(t)
	genesis := a.DefaultGenesis()
	for _, m := range repshardStores {
		require.Contains(t, genesis, m, "default genesis must carry x/%s", m)
	}
	require.NoError(t, a.BasicModuleManager.ValidateGenesis(a.AppCodec(), a.TxConfig(), genesis))
}

func TestInitChainAndBlocks(t *testing.T) {
	c := apptest.New(t, 2, nil)
	for range 3 {
		c.NextBlock(t)
	}
	require.Equal(t, int64(4), c.App.LastBlockHeight())

	requireDefaultParams(t, c)
}

// A genesis with invalid module params is rejected by `genesis validate`
// and InitChain refuses to start the chain.
func TestInvalidGenesisIsRejected(t *testing.T) {
	bad := reputationtypes.DefaultGenesis()
	bad.Params.WeightCompletion, bad.Params.WeightFrequency, bad.Params.WeightValidation, bad.Params.WeightPeer = 0, 0, 0, 0

	a := apptest.NewApp(t)
	genesis := a.DefaultGenesis()
	genesis[reputationtypes.ModuleName] = a.AppCodec().MustMarshalJSON(bad)
	require.ErrorContains(t, a.BasicModuleManager.ValidateGenesis(a.AppCodec(), a.TxConfig(), genesis), "weight")

	require.PanicsWithError(t, "x/reputation genesis: at least one factor weight must be positive (all four weights are zero)", func() {
		apptest.New(t, 1, func(g app.GenesisState) {
			g[reputationtypes.ModuleName] = a.AppCodec().MustMarshalJSON(bad)
		})
	})
}

// Export the state, import it into a fresh app, and compare the four repshard
// stores key by key; exporting the imported app must give the same JSON.
func TestExportImportRoundTrip(t *testing.T) {
	c := apptest.New(t, 3, func(g app.GenesisState) {
		// non-default params, so a module that exported defaults would fail
		p := reputationtypes.DefaultParams()
		p.WeightPeer = 7
		g[reputationtypes.ModuleName] = mustJSON(t, &reputationtypes.GenesisState{Params: p})
		s := shardtypes.DefaultParams()
		s.SustainBlocks = 33
		g[shardtypes.ModuleName] = mustJSON(t, &shardtypes.GenesisState{Params: s})
		d := deferraltypes.DefaultParams()
		d.MaxAttempts = 9
		g[deferraltypes.ModuleName] = mustJSON(t, &deferraltypes.GenesisState{Params: d, NextRequestId: 1})
		w := rewardstypes.DefaultParams()
		w.EpochLengthBlocks = 77
		g[rewardstypes.ModuleName] = mustJSON(t, &rewardstypes.GenesisState{Params: w})
	})
	c.NextBlock(t)

	exported, err := c.App.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var genesis app.GenesisState
	require.NoError(t, json.Unmarshal(exported.AppState, &genesis))

	fresh := apptest.NewApp(t)
	ctxA := c.App.NewContextLegacy(true, cmtproto.Header{Height: c.App.LastBlockHeight()})
	ctxB := fresh.NewContextLegacy(true, cmtproto.Header{Height: c.App.LastBlockHeight()})
	_, err = fresh.ModuleManager.InitGenesis(ctxB, fresh.AppCodec(), genesis)
	require.NoError(t, err)

	for _, name := range repshardStores {
		a := kvPairs(t, ctxA.KVStore(c.App.GetKey(name)))
		b := kvPairs(t, ctxB.KVStore(fresh.GetKey(name)))
		require.NotEmpty(t, a, "x/%s store is empty", name)
		require.Equal(t, a, b, "x/%s store differs after export/import", name)
	}

	again, err := fresh.ModuleManager.ExportGenesisForModules(ctxB, fresh.AppCodec(), repshardStores)
	require.NoError(t, err)
	for _, name := range repshardStores {
		require.JSONEq(t, string(genesis[name]), string(again[name]), "x/%s export differs after import", name)
	}
}

func kvPairs(t *testing.T, store storetypes.KVStore) map[string][]byte {
	t.Helper()
	it := store.Iterator(nil, nil)
	defer it.Close()
	out := map[string][]byte{}
	for ; it.Valid(); it.Next() {
		out[string(it.Key())] = it.Value()
	}
	return out
}

func mustJSON(t *testing.T, msg proto.Message) json.RawMessage {
	t.Helper()
	bz, err := apptest.NewApp(t).AppCodec().MarshalJSON(msg)
	require.NoError(t, err)
	return bz
}

// requireDefaultParams asserts that the four repshard modules hold their
// default params in the last committed state.
func requireDefaultParams(t *testing.T, c *apptest.Chain) {
	t.Helper()
	ctx := c.Context()
	rp, err := c.App.ReputationKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, reputationtypes.DefaultParams(), rp)
	sp, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, shardtypes.DefaultParams(), sp)
	dp, err := c.App.DeferralKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, deferraltypes.DefaultParams(), dp)
	wp, err := c.App.RewardsKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, rewardstypes.DefaultParams(), wp)
}
