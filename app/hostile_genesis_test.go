package app_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
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
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// hostileChain builds the genesis apptest.New would (one validator, n funded
// accounts), lets edit make it hostile, and returns the chain without
// starting it.
func hostileChain(t *testing.T, n int, edit func(app.GenesisState, []apptest.Account)) (*apptest.Chain, app.GenesisState) {
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
		key := secp256k1.GenPrivKey()
		addr := sdk.AccAddress(key.PubKey().Address())
		accounts[i] = apptest.Account{Key: key, Address: addr}
		genAccs[i] = authtypes.NewBaseAccount(addr, key.PubKey(), uint64(i), 0)
		balances[i] = banktypes.Balance{Address: addr.String(),
			Coins: sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(1_000_000_000_000)))}
	}
	genesis, err := simtestutil.GenesisStateWithValSet(a.AppCodec(), a.DefaultGenesis(), valSet, genAccs, balances...)
	require.NoError(t, err)
	edit(genesis, accounts)
	return &apptest.Chain{App: a, ValSet: valSet, Accounts: accounts}, genesis
}

// startOrReject validates the genesis as `repshardd genesis validate` does.
// A rejected genesis passes (rejected is the safe outcome); an accepted one
// must start (InitChain) and then run blocks that carry submissions without
// a panic or a halt. It reports whether the genesis was accepted.
func startOrReject(t *testing.T, c *apptest.Chain, genesis app.GenesisState) bool {
	t.Helper()
	raw := map[string]json.RawMessage(genesis)
	if err := c.App.BasicModuleManager.ValidateGenesis(c.App.AppCodec(), c.App.TxConfig(), raw); err != nil {
		t.Logf("rejected by validation: %v", err)
		return false
	}
	var initErr error
	func() {
		defer func() {
			if r := recover(); r != nil {
				initErr = fmt.Errorf("InitChain panicked: %v", r)
			}
		}()
		initErr = c.InitChain(genesis)
	}()
	require.NoError(t, initErr, "a genesis that passes validation must start the chain")
	require.NotPanics(t, func() { c.NextBlock(t) }, "first block")
	// A worker with capacity, so EndBlock drains, assigns and expires.
	worker := c.Accounts[len(c.Accounts)-1]
	var sp shardtypes.Params
	require.NotPanics(t, func() {
		var err error
		sp, err = c.App.ShardKeeper.GetParams(c.Context())
		require.NoError(t, err)
		c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
			Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 1_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
		}))
	}, "worker registration block")
	price := shardtypes.DefaultParams().PriceFloor
	for h := 0; h < 8; h++ {
		from := c.Accounts[h%len(c.Accounts)]
		sum := sha256.Sum256([]byte{byte(h)})
		tx := c.SignTx(t, from, &deferraltypes.MsgSubmitRequest{
			Requester: from.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyHigh,
			ComputeUnits: 1, PayloadHash: sum[:], MaxFee: sdk.NewCoin(price.Denom, sdkmath.NewIntFromUint64(math.MaxUint64)),
		})
		require.NotPanics(t, func() { c.NextBlock(t, tx) }, "block %d", h+1)
	}
	return true
}

func editDeferral(t *testing.T, g app.GenesisState, edit func(*deferraltypes.GenesisState)) {
	apptest.EditGenesis(t, g, deferraltypes.ModuleName, &deferraltypes.GenesisState{}, edit)
}

func editShard(t *testing.T, g app.GenesisState, edit func(*shardtypes.GenesisState)) {
	apptest.EditGenesis(t, g, shardtypes.ModuleName, &shardtypes.GenesisState{}, edit)
}

func hostileRequest(requester sdk.AccAddress, id uint64, status deferraltypes.RequestStatus) deferraltypes.Request {
	sum := sha256.Sum256([]byte{byte(id)})
	return deferraltypes.Request{
		Id: id, Requester: requester.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
		ComputeUnits: 1, PayloadHash: sum[:], Fee: sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewIntFromUint64(math.MaxUint64)),
		ShardId: 1, Status: status, SubmitHeight: 1, DueHeight: 1, QueueExpiryHeight: 100,
	}
}

// A hostile genesis is rejected by validation or, where valid, the chain
// starts and EndBlock neither panics nor halts.
func TestHostileGenesis(t *testing.T) {
	cases := map[string]struct {
		edit func(*testing.T, app.GenesisState, []apptest.Account)
		// mustReject: validation has to refuse it.
		mustReject bool
	}{
		"max uint64 price per data megabyte and max caps": {edit: func(t *testing.T, g app.GenesisState, _ []apptest.Account) {
			editDeferral(t, g, func(gs *deferraltypes.GenesisState) {
				gs.Params.PricePerDataMegabyte = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewIntFromUint64(math.MaxUint64))
				gs.Params.MaxComputeUnits = deferraltypes.MaxComputeUnitsLimit
				gs.Params.MaxAssignmentsPerBlock = deferraltypes.MaxPerBlockCap
				gs.Params.MaxExpirationsPerBlock = deferraltypes.MaxPerBlockCap
				gs.Params.MaxPrunesPerBlock = deferraltypes.MaxPerBlockCap
			})
		}},
		"max uint64 waits, TTLs and timeouts": {edit: func(t *testing.T, g app.GenesisState, _ []apptest.Account) {
			editDeferral(t, g, func(gs *deferraltypes.GenesisState) {
				gs.Params.MaxWaitBlocks = math.MaxUint64
				gs.Params.QueueTtlBlocks = math.MaxUint64
				gs.Params.AssignmentTimeoutBlocks = math.MaxUint64
				gs.Params.RetentionBlocks = math.MaxUint64
			})
		}},
		"queued request with a max uint64 fee the escrow does not hold": {edit: func(t *testing.T, g app.GenesisState, accs []apptest.Account) {
			editDeferral(t, g, func(gs *deferraltypes.GenesisState) {
				gs.Requests = []deferraltypes.Request{hostileRequest(accs[0].Address, 1, deferraltypes.StatusQueued)}
				gs.NextRequestId = 2
			})
		}},
		"queued request in a shard that does not exist": {edit: func(t *testing.T, g app.GenesisState, accs []apptest.Account) {
			editDeferral(t, g, func(gs *deferraltypes.GenesisState) {
				r := hostileRequest(accs[0].Address, 1, deferraltypes.StatusQueued)
				r.ShardId, r.Fee = 99, sdk.NewInt64Coin(chaincfg.BondDenom, 1)
				gs.Requests, gs.NextRequestId = []deferraltypes.Request{r}, 2
			})
		}},
		"assigned request to a worker that is not registered": {edit: func(t *testing.T, g app.GenesisState, accs []apptest.Account) {
			editDeferral(t, g, func(gs *deferraltypes.GenesisState) {
				r := hostileRequest(accs[0].Address, 1, deferraltypes.StatusAssigned)
				r.Worker, r.DeadlineHeight, r.Fee = accs[1].Address.String(), 3, sdk.NewInt64Coin(chaincfg.BondDenom, 1)
				gs.Requests, gs.NextRequestId = []deferraltypes.Request{r}, 2
			})
		}},
		"worker with zero capacity": {mustReject: true, edit: func(t *testing.T, g app.GenesisState, accs []apptest.Account) {
			editShard(t, g, func(gs *shardtypes.GenesisState) {
				gs.Workers = []shardtypes.Worker{{Address: accs[1].Address.String(), Bond: gs.Params.MinWorkerBond,
					Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority}, ShardId: 1, Status: shardtypes.WorkerActive}}
				gs.Shards[0].WorkerCount = 1
			})
		}},
		"shard counting max uint64 units in flight and queued": {edit: func(t *testing.T, g app.GenesisState, _ []apptest.Account) {
			editShard(t, g, func(gs *shardtypes.GenesisState) {
				gs.Shards[0].InFlightUnits, gs.Shards[0].QueuedUnits, gs.Shards[0].QueuedCount = math.MaxUint64, math.MaxUint64, math.MaxUint64
			})
		}},
		"request ids at max uint64": {edit: func(t *testing.T, g app.GenesisState, accs []apptest.Account) {
			editDeferral(t, g, func(gs *deferraltypes.GenesisState) { gs.NextRequestId = math.MaxUint64 })
		}},
		"rewards owed max uint64 with nothing to pay it": {edit: func(t *testing.T, g app.GenesisState, accs []apptest.Account) {
			apptest.EditGenesis(t, g, rewardstypes.ModuleName, &rewardstypes.GenesisState{}, func(gs *rewardstypes.GenesisState) {
				gs.Owed = []rewardstypes.WorkerAmount{{Worker: accs[1].Address.String(), Amount: sdkmath.NewIntFromUint64(math.MaxUint64)}}
			})
		}},
	}
	for _, name := range sortedCaseNames(cases) {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			c, genesis := hostileChain(t, 3, func(g app.GenesisState, accs []apptest.Account) { tc.edit(t, g, accs) })
			accepted := startOrReject(t, c, genesis)
			if tc.mustReject {
				require.False(t, accepted, "validation must reject this genesis")
			}
		})
	}
}

func sortedCaseNames[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slicesSortStrings(keys)
	return keys
}

// A queue entry that points to no record (state corrupted or written by a
// faulty migration) must not halt the chain: EndBlock skips or reports it.
func TestQueueEntryWithoutRecordDoesNotHalt(t *testing.T) {
	c := apptest.New(t, 2, nil)
	worker := c.Accounts[0]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	for _, res := range c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 1_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})) {
		require.Zero(t, res.Code, res.Log)
	}
	// Written straight into the committed store, as corruption would be.
	ctx := c.Committed().WithMultiStore(c.App.CommitMultiStore())
	require.NoError(t, c.App.DeferralKeeper.Queue.Set(ctx, collections.Join3(uint64(1), uint64(1), uint64(777))))
	require.NoError(t, c.App.ShardKeeper.DrainableShards.Set(ctx, 1))
	for h := 0; h < 5; h++ {
		require.NotPanics(t, func() { c.NextBlock(t) }, "block %d after the orphan queue entry", h+1)
	}
}

func slicesSortStrings(s []string) { slices.Sort(s) }
