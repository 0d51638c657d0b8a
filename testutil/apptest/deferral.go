package apptest

import (
	"bytes"
	"encoding/json"
	"testing"

	"cosmossdk.io/log"
	storetypes "cosmossdk.io/store/types"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// RepshardStoreKeys are the store keys of the four repshard modules.
var RepshardStoreKeys = []string{
	reputationtypes.StoreKey, shardtypes.StoreKey, deferraltypes.StoreKey, rewardstypes.StoreKey,
}

// genesisCodec encodes the repshard genesis states (they hold no Any).
var genesisCodec = codec.NewProtoCodec(codectypes.NewInterfaceRegistry())

// EditGenesis decodes the genesis of module into gs, lets edit change it and
// encodes it back into g. Use it inside the edit function of New.
func EditGenesis[T proto.Message](t testing.TB, g app.GenesisState, module string, gs T, edit func(T)) {
	t.Helper()
	require.NoError(t, genesisCodec.UnmarshalJSON(g[module], gs))
	edit(gs)
	bz, err := genesisCodec.MarshalJSON(gs)
	require.NoError(t, err)
	g[module] = json.RawMessage(bz)
}

// WithDeferralParams is an edit function for New that sets the x/deferral params.
func WithDeferralParams(t testing.TB, p deferraltypes.Params) func(app.GenesisState) {
	return func(g app.GenesisState) {
		EditGenesis(t, g, deferraltypes.ModuleName, &deferraltypes.GenesisState{}, func(gs *deferraltypes.GenesisState) {
			gs.Params = p
		})
	}
}

// Branch returns a context at height on a cache of the last committed state:
// it reads what the chain has committed, and its writes are never committed.
func (c *Chain) Branch(height int64) sdk.Context {
	return sdk.NewContext(c.App.CommitMultiStore().CacheMultiStore(),
		cmtproto.Header{Height: height, ChainID: chaincfg.DefaultChainID}, false, log.NewNopLogger())
}

// Committed returns a read context on the last committed state.
func (c *Chain) Committed() sdk.Context { return c.Branch(c.App.LastBlockHeight()) }

// Tamper returns a context at the last committed height that writes straight
// into the app's working state: what a test writes through it (a corrupted
// record, a message run as the governance authority) is in the state the
// next block starts from, and is committed with that block. Events emitted
// on it go nowhere.
func (c *Chain) Tamper() sdk.Context {
	return sdk.NewContext(c.App.CommitMultiStore(),
		cmtproto.Header{Height: c.App.LastBlockHeight(), ChainID: chaincfg.DefaultChainID, Time: c.BlockTime}, false, log.NewNopLogger())
}

// KV is one key/value pair of a store.
type KV struct{ Key, Value []byte }

// DumpStore returns every key/value pair of a store, in key order.
func DumpStore(ctx sdk.Context, key storetypes.StoreKey) []KV {
	it := ctx.KVStore(key).Iterator(nil, nil)
	defer it.Close()
	var out []KV
	for ; it.Valid(); it.Next() {
		out = append(out, KV{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	return out
}

// DumpRepshardStores returns the content of the four repshard module stores
// in ctx, by store name.
func (c *Chain) DumpRepshardStores(ctx sdk.Context) map[string][]KV {
	out := map[string][]KV{}
	for _, name := range RepshardStoreKeys {
		out[name] = DumpStore(ctx, c.App.GetKey(name))
	}
	return out
}

// AfterEmptyBlock predicts the repshard stores and the balances of addrs
// after the next block, if that block's transactions change none of them: it
// runs the EndBlock of x/shard, x/rewards and x/deferral (the only repshard
// modules that act on their own, in the app's order) at the next height on a branch of
// the committed state. BeginBlock of the SDK modules touches neither the
// repshard stores nor these accounts.
func (c *Chain) AfterEmptyBlock(t testing.TB, addrs ...sdk.AccAddress) (map[string][]KV, map[string]sdk.Coins) {
	t.Helper()
	ctx := c.AfterEmptyBlockContext(t)
	return c.DumpRepshardStores(ctx), c.Balances(ctx, addrs...)
}

// AfterEmptyBlockContext is the branch AfterEmptyBlock reads: the committed
// state after the repshard EndBlocks of the next height, never committed.
func (c *Chain) AfterEmptyBlockContext(t testing.TB) sdk.Context {
	t.Helper()
	ctx := c.Branch(c.App.LastBlockHeight() + 1)
	require.NoError(t, c.App.ShardKeeper.EndBlocker(ctx))
	require.NoError(t, c.App.RewardsKeeper.EndBlock(ctx))
	require.NoError(t, c.App.DeferralKeeper.EndBlocker(ctx))
	return ctx
}

// Balances returns all balances of addrs in ctx, by bech32 address.
func (c *Chain) Balances(ctx sdk.Context, addrs ...sdk.AccAddress) map[string]sdk.Coins {
	out := map[string]sdk.Coins{}
	for _, a := range addrs {
		out[a.String()] = c.App.BankKeeper.GetAllBalances(ctx, a)
	}
	return out
}

// TypedEvents decodes the events of type T among events (of a tx result or
// of a block), ignoring the attributes the SDK adds to them (mode, msg_index).
func TypedEvents[T proto.Message](t testing.TB, events []abci.Event) []T {
	t.Helper()
	var out []T
	name := proto.MessageName(*new(T))
	for _, e := range events {
		if e.Type != name {
			continue
		}
		attrs := make([]abci.EventAttribute, 0, len(e.Attributes))
		for _, a := range e.Attributes {
			if a.Key != "mode" && a.Key != "msg_index" {
				attrs = append(attrs, a)
			}
		}
		e.Attributes = attrs
		msg, err := sdk.ParseTypedEvent(e)
		require.NoError(t, err, "event %s", e.Type)
		v, ok := msg.(T)
		require.True(t, ok, "event %s decoded as %T", e.Type, msg)
		out = append(out, v)
	}
	return out
}
