package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/testutil/keepertest"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	"github.com/repshard/repshard/x/shard/types"
)

// Export a busy x/shard state (workers of every status, in-flight and queued
// units, a slashed bond, a pending and a scheduled release, a DRAINING
// shard), import it into a fresh store: the stores are byte-identical, and
// exporting again gives the same genesis.
func TestGenesisExportImportBusyState(t *testing.T) {
	ch := newChain(t, 6, func(gs *types.GenesisState) {
		withShards(types.ClassHighPriority, types.ClassDataIntensive)(gs) // 5, 6
		gs.Shards[5].Status = types.ShardDraining
	})
	hp := types.ClassHighPriority
	ch.register(t, 0, 10, hp)
	ch.register(t, 1, 20, hp, types.ClassLowPriority)
	ch.register(t, 2, 30, types.ClassComputeIntensive)
	ch.register(t, 3, 5, hp)
	ch.register(t, 4, 8, types.ClassDataIntensive)
	w0, w3 := ch.worker(t, 0), ch.worker(t, 3)
	require.NoError(t, ch.k.AddInFlight(ch.ctx, w0.ShardId, ch.addr(0), 4))
	require.NoError(t, ch.k.AddInFlight(ch.ctx, w3.ShardId, ch.addr(3), 5))
	require.NoError(t, ch.k.AddQueued(ch.ctx, 1, 7))
	require.NoError(t, ch.k.AddQueued(ch.ctx, 6, 3))
	require.NoError(t, ch.k.RemoveInFlight(ch.ctx, w0.ShardId, ch.addr(0), 1, outcome.Expired))
	_, err := ch.k.SlashBond(ch.ctx, ch.addr(0), 10_000, rewardstypes.ModuleName)
	require.NoError(t, err)
	for _, i := range []int{3, 4} { // 3 still busy, 4 idle: release scheduled
		_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(i).String()})
		require.NoError(t, err)
	}

	exported, err := ch.k.ExportGenesis(ch.ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Workers, 5)
	require.Len(t, exported.Shards, 6)
	require.Equal(t, uint64(7), exported.NextShardId)

	f := newFixture(t)
	require.NoError(t, f.keeper.InitGenesis(f.ctx, *exported))
	require.Equal(t, ch.dump(), dumpStore(f.ctx, f.store.Key), "the imported store must be byte-identical")

	again, err := f.keeper.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, f.cdc.MustMarshal(exported), f.cdc.MustMarshal(again))

	// the imported keeper behaves like the original
	for _, units := range []uint64{1, 6, 20, 30} {
		a, okA, err := ch.k.FindWorker(ch.ctx, 1, units, 0, nil)
		require.NoError(t, err)
		b, okB, err := f.keeper.FindWorker(f.ctx, 1, units, 0, nil)
		require.NoError(t, err)
		require.Equal(t, okA, okB)
		require.Equal(t, a, b)
	}
	la, err := ch.k.NetworkLoadPpm(ch.ctx)
	require.NoError(t, err)
	lb, err := f.keeper.NetworkLoadPpm(f.ctx)
	require.NoError(t, err)
	require.Equal(t, la, lb)
}

func TestInitGenesisRejectsInconsistentWorkers(t *testing.T) {
	f := newFixture(t)
	gs := *types.DefaultGenesis()
	gs.Workers = []types.Worker{{Address: keepertest.AccountAddress("w"), Bond: gs.Params.MinWorkerBond,
		Classes: []types.ShardClass{types.ClassHighPriority}, CapacityUnits: 3, ShardId: 1, Status: types.WorkerActive}}
	require.ErrorContains(t, f.keeper.InitGenesis(f.ctx, gs), "do not match", "shard 1 does not count the worker")
	require.Empty(t, dumpStore(f.ctx, f.store.Key), "a rejected genesis writes nothing")

	gs.Shards[0].WorkerCount, gs.Shards[0].CapacityUnits, gs.Shards[0].LoadPpm = 1, 3, 0
	require.NoError(t, f.keeper.InitGenesis(f.ctx, gs))
	a, ok, err := f.keeper.FindWorker(f.ctx, 1, 3, 0, nil)
	require.NoError(t, err)
	require.True(t, ok, "InitGenesis rebuilds the free-capacity index")
	require.Equal(t, keepertest.AccountAddress("w"), keepertest.Address(a))
}

// The x/shard EndBlock runs in the app's block: a worker that is UNBONDING
// at genesis, with its bond in the module account, gets it back in the
// block of its release height.
func TestEndBlockReleasesBondInRealBlocks(t *testing.T) {
	worker := sdk.AccAddress([]byte("genesis-worker-00001"))
	bond := sdk.NewInt64Coin(minBond.Denom, 12_000_000)
	const release = 4
	codec := apptest.NewApp(t).AppCodec()
	c := apptest.New(t, 1, func(g app.GenesisState) {
		var gs types.GenesisState
		codec.MustUnmarshalJSON(g[types.ModuleName], &gs)
		gs.Workers = []types.Worker{{Address: worker.String(), Bond: bond, Classes: []types.ShardClass{types.ClassLowPriority},
			CapacityUnits: 9, ShardId: 2, Status: types.WorkerUnbonding, ReleaseHeight: release}}
		g[types.ModuleName] = codec.MustMarshalJSON(&gs)

		var bank banktypes.GenesisState
		codec.MustUnmarshalJSON(g[banktypes.ModuleName], &bank)
		bank.Balances = append(bank.Balances, banktypes.Balance{Address: moduleAddr().String(), Coins: sdk.NewCoins(bond)})
		bank.Supply = bank.Supply.Add(bond)
		g[banktypes.ModuleName] = codec.MustMarshalJSON(&bank)
	})
	bal := func() sdk.Coin { return c.App.BankKeeper.GetBalance(c.Context(), worker, bond.Denom) }
	require.Equal(t, int64(1), c.App.LastBlockHeight())
	for c.App.LastBlockHeight() < release-1 {
		c.NextBlock(t)
		require.True(t, bal().IsZero(), "height %d: not yet", c.App.LastBlockHeight())
	}
	c.NextBlock(t)
	require.Equal(t, int64(release), c.App.LastBlockHeight())
	require.Equal(t, bond, bal(), "returned in the block of its release height")
	require.True(t, c.App.BankKeeper.GetBalance(c.Context(), moduleAddr(), bond.Denom).IsZero())
	_, err := c.App.ShardKeeper.GetWorker(c.Context(), worker)
	require.ErrorIs(t, err, types.ErrWorkerNotFound)
}
