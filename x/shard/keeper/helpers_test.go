package keeper_test

import (
	"bytes"
	"testing"

	sdkmath "cosmossdk.io/math"
	storetypes "cosmossdk.io/store/types"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/shard"
	"github.com/repshard/repshard/x/shard/keeper"
	"github.com/repshard/repshard/x/shard/types"
)

// chain is a whole in-memory repshard app with the x/shard servers; ctx is a
// context on the app's check state, so writes made through it persist across
// calls with the same ctx (and never reach the committed store).
type chain struct {
	c     *apptest.Chain
	ctx   sdk.Context
	k     keeper.Keeper
	msgs  types.MsgServer
	query types.QueryServer
}

// newChain starts an app with n funded accounts; edit, if not nil, edits the
// default x/shard genesis first.
func newChain(t *testing.T, n int, edit func(gs *types.GenesisState)) chain {
	t.Helper()
	c := apptest.New(t, n, func(g app.GenesisState) {
		if edit == nil {
			return
		}
		cdc := moduletestutil.MakeTestEncodingConfig(shard.AppModule{}).Codec
		var gs types.GenesisState
		cdc.MustUnmarshalJSON(g[types.ModuleName], &gs)
		edit(&gs)
		g[types.ModuleName] = cdc.MustMarshalJSON(&gs)
	})
	return chain{c: c, ctx: c.Context(), k: c.App.ShardKeeper,
		msgs: keeper.NewMsgServerImpl(c.App.ShardKeeper), query: keeper.NewQueryServerImpl(c.App.ShardKeeper)}
}

func (ch chain) addr(i int) sdk.AccAddress { return ch.c.Accounts[i].Address }

func (ch chain) balance(addr sdk.AccAddress) sdkmath.Int {
	return ch.c.App.BankKeeper.GetBalance(ch.ctx, addr, chaincfg.BondDenom).Amount
}

func moduleAddr() sdk.AccAddress { return authtypes.NewModuleAddress(types.ModuleName) }

// dump returns every key/value pair of the x/shard store, in key order.
func (ch chain) dump() [][2][]byte { return dumpStore(ch.ctx, ch.c.App.GetKey(types.StoreKey)) }

func dumpStore(ctx sdk.Context, key storetypes.StoreKey) [][2][]byte {
	it := ctx.KVStore(key).Iterator(nil, nil)
	defer it.Close()
	var out [][2][]byte
	for ; it.Valid(); it.Next() {
		out = append(out, [2][]byte{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	return out
}

func urep(n int64) sdk.Coin { return sdk.NewInt64Coin(chaincfg.BondDenom, n) }

// minBond is the default min_worker_bond.
var minBond = types.DefaultParams().MinWorkerBond

// register registers account i and returns the shard it joined.
func (ch chain) register(t *testing.T, i int, capacity uint64, classes ...types.ShardClass) uint64 {
	t.Helper()
	resp, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: ch.addr(i).String(), Classes: classes, CapacityUnits: capacity, Bond: minBond,
	})
	require.NoError(t, err)
	return resp.ShardId
}

func (ch chain) worker(t *testing.T, i int) types.Worker {
	t.Helper()
	w, err := ch.k.GetWorker(ch.ctx, ch.addr(i))
	require.NoError(t, err)
	return w
}

func (ch chain) shard(t *testing.T, id uint64) types.Shard {
	t.Helper()
	s, err := ch.k.GetShard(ch.ctx, id)
	require.NoError(t, err)
	return s
}

// atHeight returns ch with its context moved to height h (same store).
func (ch chain) atHeight(h int64) chain {
	ch.ctx = ch.ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
	return ch
}

// typedEvents returns the typed events of type T emitted on ctx.
func typedEvents[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	var zero T
	name := proto.MessageName(zero)
	for _, e := range ctx.EventManager().Events() {
		if e.Type != name {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abciEvent(e))
		require.NoError(t, err)
		out = append(out, msg.(T))
	}
	return out
}

// withShards adds ACTIVE shards of the given classes after the default four.
func withShards(classes ...types.ShardClass) func(gs *types.GenesisState) {
	return func(gs *types.GenesisState) {
		for _, c := range classes {
			gs.Shards = append(gs.Shards, types.Shard{Id: gs.NextShardId, Class: c, Status: types.ShardActive, LoadPpm: 1_000_000})
			gs.NextShardId++
		}
	}
}

func abciEvent(e sdk.Event) abci.Event { return abci.Event(e) }
