package keeper_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"cosmossdk.io/collections"
	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/cosmos/cosmos-sdk/testutil/mock"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// drainScenario is a committed state on which x/deferral's drain meets most
// of what it can meet: two shards with workers of several score tiers,
// capacities and storage sizes; queued requests of several sizes, some too
// big for some workers' storage, some from a worker (excluded from its own
// request), some with excluded workers, some replicated, some past their
// requester's deadline; and queue entries that point to no record (failing
// items) in the middle of the queues. Accounts come from fixed keys, so the
// state — and every tie broken by address — is the same on every run.
type drainScenario struct {
	chain  *apptest.Chain
	height int64
}

// newDrainScenario builds the scenario; max_assignments_per_block and
// drain_lookahead are small enough for the caps to bind.
func newDrainScenario(t testing.TB) drainScenario {
	t.Helper()
	params := types.DefaultParams()
	params.GasPerDrain = 36_000 // fixed, so dumps compare across changes of the default
	params.MaxAssignmentsPerBlock = 45
	params.DrainLookahead = 3
	params.MaxWaitBlocks = 1_000
	params.QueueTtlBlocks = 10_000
	c := deterministicChain(t, 10, apptest.WithDeferralParams(t, params))
	cms := c.App.CommitMultiStore()
	height := c.App.LastBlockHeight() + 1
	ctx := sdk.NewContext(cms, cmtproto.Header{Height: height, ChainID: chaincfg.DefaultChainID}, false, log.NewNopLogger())
	acc := func(i int) sdk.AccAddress { return c.Accounts[i].Address }

	sp, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	workers := []struct {
		acc      int
		class    shardtypes.ShardClass
		capacity uint64
		storage  uint64
		score    uint32
	}{
		{1, shardtypes.ClassHighPriority, 40, 1 << 30, 900_000},
		{2, shardtypes.ClassHighPriority, 20, 1_000, 500_000},
		{3, shardtypes.ClassHighPriority, 60, 1 << 30, 300_000},
		{4, shardtypes.ClassHighPriority, 15, 1 << 30, 500_000},
		{5, shardtypes.ClassLowPriority, 30, 1 << 30, 500_000},
		{6, shardtypes.ClassLowPriority, 8, 1 << 30, 700_000},
	}
	msgs := shardkeeper.NewMsgServerImpl(c.App.ShardKeeper)
	for _, w := range workers {
		_, err := msgs.RegisterWorker(ctx, &shardtypes.MsgRegisterWorker{
			Worker: acc(w.acc).String(), Classes: []shardtypes.ShardClass{w.class},
			CapacityUnits: w.capacity, Bond: sp.MinWorkerBond, StorageBytes: w.storage,
		})
		require.NoError(t, err)
		require.NoError(t, c.App.ShardKeeper.SetWorkerStanding(ctx, acc(w.acc), w.score, true))
	}

	shardOf := map[shardtypes.ShardClass]uint64{shardtypes.ClassHighPriority: 1, shardtypes.ClassLowPriority: 2}
	requesters := []int{0, 7, 1, 8, 5}
	const n = 90
	for i := 1; i <= n; i++ {
		class := shardtypes.ClassHighPriority
		if i%3 == 0 {
			class = shardtypes.ClassLowPriority
		}
		req := types.Request{
			Id: uint64(i), Requester: acc(requesters[i%len(requesters)]).String(), Class: class,
			Urgency: types.UrgencyNormal, ComputeUnits: uint64(1 + i%4), ShardId: shardOf[class],
			Fee: sdk.NewInt64Coin(chaincfg.BondDenom, 6_000), Status: types.StatusQueued, Deferred: true,
			DeferReason: types.DeferNoCapacity, SubmitHeight: height - int64(i%5),
			DueHeight: height + int64(i%7), QueueExpiryHeight: height + 10_000,
		}
		if i%5 == 0 {
			req.DataBytes = 5_000 // more than worker 2 stores
		}
		if i%11 == 0 {
			req.ExcludedWorkers = []string{acc(1).String(), acc(5).String()}
		}
		if i%13 == 0 {
			req.RequesterDeadlineHeight = height // stale: step 1 expires it
		}
		if i%17 == 0 {
			req.Replicas, req.ReplicasPending, req.TiebreakBudget = 3, 3, 0
		}
		if i%23 == 0 {
			req.ComputeUnits = 40 // fits nobody
		}
		require.NoError(t, c.App.DeferralKeeper.SaveNewRequestForTest(ctx, req))
	}
	require.NoError(t, c.App.DeferralKeeper.RequestSeq.Set(ctx, n+1))
	// Entries without a record, in the middle of both queues.
	for _, e := range [][3]uint64{{1, uint64(height) + 2, 990}, {1, uint64(height) + 4, 991}, {2, uint64(height) + 1, 992}} {
		require.NoError(t, c.App.DeferralKeeper.Queue.Set(ctx, collections.Join3(e[0], e[1], e[2])))
	}
	cms.Commit()
	return drainScenario{chain: c, height: height}
}

// run runs x/deferral's EndBlock for blocks blocks from the scenario's
// height on a branch of the committed state, and returns a dump of the
// events and of the four repshard stores after them.
func (s drainScenario) run(t testing.TB, blocks int) string {
	t.Helper()
	ctx := s.chain.Branch(s.height)
	for b := 0; b < blocks; b++ {
		require.NoError(t, s.chain.App.DeferralKeeper.EndBlocker(ctx.WithBlockHeight(s.height+int64(b))))
	}
	var out strings.Builder
	for _, e := range ctx.EventManager().ABCIEvents() {
		fmt.Fprintf(&out, "event %s", e.Type)
		for _, a := range e.Attributes {
			fmt.Fprintf(&out, " %s=%s", a.Key, a.Value)
		}
		out.WriteString("\n")
	}
	stores := s.chain.DumpRepshardStores(ctx)
	for _, name := range apptest.RepshardStoreKeys {
		for _, kv := range stores[name] {
			fmt.Fprintf(&out, "%s %s %s\n", name, hex.EncodeToString(kv.Key), hex.EncodeToString(kv.Value))
		}
	}
	return out.String()
}

// TestDrainScenarioDump writes the outcome of three EndBlocks of the drain
// scenario to the file DRAIN_DUMP names (skipped without it): run at two
// commits, the dumps show whether a change to the drain changed what it does.
func TestDrainScenarioDump(t *testing.T) {
	path := os.Getenv("DRAIN_DUMP")
	if path == "" {
		t.Skip("DRAIN_DUMP not set")
	}
	dump := newDrainScenario(t).run(t, 3)
	require.Contains(t, dump, "EventEndBlockItemFailed", "the scenario has failing items")
	require.NoError(t, os.WriteFile(path, []byte(dump), 0o644))
}

// The drain commits its items in groups sharing one cached context; the
// outcome (events, failure reports, state) is the same as with a cached
// context per item (groups of one), failing items in mid-group included.
func TestDrainGroupsMatchOneContextPerItem(t *testing.T) {
	s := newDrainScenario(t)
	grouped := s.run(t, 3)
	require.Contains(t, grouped, "EventEndBlockItemFailed", "the scenario has failing items")
	for _, size := range []int{1, 2, 7} {
		restore := keeper.SetDrainGroupSizeForTest(size)
		got := s.run(t, 3)
		restore()
		require.Equal(t, grouped, got, "groups of %d", size)
	}
}

// deterministicChain is apptest.New with accounts from fixed keys.
func deterministicChain(t testing.TB, n int, edit func(app.GenesisState)) *apptest.Chain {
	t.Helper()
	a := apptest.NewApp(t)
	pv := mock.NewPV()
	pubKey, err := pv.GetPubKey()
	require.NoError(t, err)
	valSet := cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(pubKey, 1)})
	accounts := make([]apptest.Account, n)
	genAccs := make([]authtypes.GenesisAccount, n)
	balances := make([]banktypes.Balance, n)
	for i := range accounts {
		key := secp256k1.GenPrivKeyFromSecret([]byte(fmt.Sprintf("drain scenario account %d", i)))
		addr := sdk.AccAddress(key.PubKey().Address())
		accounts[i] = apptest.Account{Key: key, Address: addr}
		genAccs[i] = authtypes.NewBaseAccount(addr, key.PubKey(), uint64(i), 0)
		balances[i] = banktypes.Balance{
			Address: addr.String(),
			Coins:   sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000_000_000_000))),
		}
	}
	genesis, err := simtestutil.GenesisStateWithValSet(a.AppCodec(), a.DefaultGenesis(), valSet, genAccs, balances...)
	require.NoError(t, err)
	edit(genesis)
	c := &apptest.Chain{App: a, ValSet: valSet, Accounts: accounts}
	require.NoError(t, c.InitChain(genesis))
	c.NextBlock(t)
	return c
}
