package app_test

import (
	"fmt"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	upgradetypes "cosmossdk.io/x/upgrade/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/repshard/repshard/app"
	v2 "github.com/repshard/repshard/app/upgrades/v2"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// workloadAccounts: accounts 0 and 1 are workers, 2 and 3 requesters.
const workloadAccounts = 4

// runWorkload drives c through blocks of signed traffic: two workers register
// (capacity 4 each, one shard), then trafficBlocks. The chain ends with
// completed, assigned and queued requests, requester and worker profiles,
// fees escrowed and earnings owed.
func runWorkload(t *testing.T, c *apptest.Chain, blocks int) {
	t.Helper()
	workers := c.Accounts[0:2]
	shardParams, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	var regs [][]byte
	for _, w := range workers {
		regs = append(regs, c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 4, StorageBytes: 1 << 30, Bond: shardParams.MinWorkerBond,
		}))
	}
	for i, res := range c.NextBlock(t, regs...) {
		require.Zero(t, res.Code, "register worker %d: %s", i, res.Log)
	}
	trafficBlocks(t, c, blocks)
}

// trafficBlocks runs blocks of trafficTxs.
func trafficBlocks(t *testing.T, c *apptest.Chain, blocks int) {
	t.Helper()
	for block := range blocks {
		for i, res := range c.NextBlock(t, trafficTxs(t, c, block)...) {
			require.Zero(t, res.Code, "block %d tx %d: %s", block, i, res.Log)
		}
	}
}

// trafficTxs are the txs of one block of traffic: the two requesters submit a
// request each, worker 0 completes everything it holds, and worker 1 never
// reports (its assignments expire and go back to the queue).
func trafficTxs(t *testing.T, c *apptest.Chain, block int) [][]byte {
	t.Helper()
	workers, requesters := c.Accounts[0:2], c.Accounts[2:4]
	ctx := c.Context()
	var txs [][]byte
	for i, r := range requesters {
		txs = append(txs, c.SignTx(t, r, &deferraltypes.MsgSubmitRequest{
			Requester: r.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: uint64(1 + (block+i)%3), Payload: []byte(fmt.Sprintf("block %d requester %d", block, i)),
			MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000_000),
		}))
	}
	var reports []sdk.Msg
	rng := collections.NewPrefixedPairRange[sdk.AccAddress, uint64](workers[0].Address)
	require.NoError(t, c.App.DeferralKeeper.ByWorker.Walk(ctx, rng, func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
		r, err := c.App.DeferralKeeper.Requests.Get(ctx, key.K2())
		if err != nil || r.Status != deferraltypes.StatusAssigned || r.Worker != workers[0].Address.String() {
			return false, err
		}
		result := make([]byte, 32)
		result[0] = byte(r.Id)
		reports = append(reports, &deferraltypes.MsgCompleteRequest{Worker: r.Worker, RequestId: r.Id, ResultHash: result})
		return false, nil
	}))
	if len(reports) > 0 {
		txs = append(txs, c.SignTx(t, workers[0], reports...))
	}
	return txs
}

// chainState is what a software upgrade or a snapshot restore must keep: every
// request, requester and worker profile, worker, shard and earning, and the
// balances of the accounts and of the repshard module accounts.
type chainState struct {
	Requests       []deferraltypes.Request
	Profiles       []reputationtypes.Profile
	WorkerProfiles []reputationtypes.WorkerProfile
	Workers        []shardtypes.Worker
	Shards         []shardtypes.Shard
	Owed           []string
	Balances       map[string]sdk.Coins
}

func readState(t *testing.T, c *apptest.Chain, ctx sdk.Context) chainState {
	t.Helper()
	var s chainState
	values := func(err error) { require.NoError(t, err) }
	it, err := c.App.DeferralKeeper.Requests.Iterate(ctx, nil)
	values(err)
	s.Requests, err = it.Values()
	values(err)
	pit, err := c.App.ReputationKeeper.Profiles.Iterate(ctx, nil)
	values(err)
	s.Profiles, err = pit.Values()
	values(err)
	wpit, err := c.App.ReputationKeeper.WorkerProfiles.Iterate(ctx, nil)
	values(err)
	s.WorkerProfiles, err = wpit.Values()
	values(err)
	wit, err := c.App.ShardKeeper.Workers.Iterate(ctx, nil)
	values(err)
	s.Workers, err = wit.Values()
	values(err)
	sit, err := c.App.ShardKeeper.Shards.Iterate(ctx, nil)
	values(err)
	s.Shards, err = sit.Values()
	values(err)
	values(c.App.RewardsKeeper.Owed.Walk(ctx, nil, func(w sdk.AccAddress, amount sdkmath.Int) (bool, error) {
		s.Owed = append(s.Owed, w.String()+"="+amount.String())
		return false, nil
	}))
	addrs := []sdk.AccAddress{
		authtypes.NewModuleAddress(shardtypes.ModuleName),
		authtypes.NewModuleAddress(rewardstypes.ModuleName),
		authtypes.NewModuleAddress(rewardstypes.EscrowAccountName),
	}
	for _, a := range c.Accounts {
		addrs = append(addrs, a.Address)
	}
	s.Balances = c.Balances(ctx, addrs...)
	return s
}

// requireWorkloadState asserts the workload left every kind of request behind.
func requireWorkloadState(t *testing.T, s chainState) {
	t.Helper()
	byStatus := map[deferraltypes.RequestStatus]int{}
	for _, r := range s.Requests {
		byStatus[r.Status]++
	}
	require.Positive(t, byStatus[deferraltypes.StatusCompleted], "completed requests")
	require.Positive(t, byStatus[deferraltypes.StatusAssigned], "assigned requests")
	require.Positive(t, byStatus[deferraltypes.StatusQueued], "queued requests")
	require.Len(t, s.Profiles, 2)
	require.Len(t, s.Workers, 2)
	require.NotEmpty(t, s.Owed)
}

// Every upgrade of the registry has its handler on the app, and the modules
// an upgrade migrates exist at or above the versions it starts from.
func TestEveryUpgradeIsRegistered(t *testing.T) {
	require.False(t, app.PreviousReleaseBuild, "run the unit tests without the previous_release tag")
	a := apptest.NewApp(t)
	require.Equal(t, app.Upgrades, app.RegisteredUpgrades())
	require.NotEmpty(t, app.Upgrades)
	require.Equal(t, v2.UpgradeName, app.Upgrades[0].Name, "the first named upgrade")
	current := a.ModuleManager.GetVersionMap()
	for _, u := range app.Upgrades {
		require.True(t, a.UpgradeKeeper.HasHandler(u.Name), "upgrade %q has no handler on the app", u.Name)
		for name, before := range u.VersionsBefore {
			now, ok := current[name]
			require.True(t, ok, "upgrade %q starts module %q, which the app does not have", u.Name, name)
			require.LessOrEqual(t, before, now, "upgrade %q: module %q", u.Name, name)
		}
	}
}

// The "v2" plan applied through x/upgrade on a chain with requests, profiles
// and earnings: at the plan height the handler runs in PreBlock, the module
// versions stored on chain become the binary's, the plan is marked done, and
// the block's state is what an ordinary block would have left (nothing lost
// or changed by the upgrade). The migrations of every module whose version
// moved run here on a chain with traffic; one that rewrites requests,
// profiles, workers, shards, earnings or balances on purpose must say so
// here, in the expected state.
func TestUpgradeV2AtItsHeight(t *testing.T) {
	c := apptest.New(t, workloadAccounts, nil)
	runWorkload(t, c, 12)
	before := readState(t, c, c.Committed())
	requireWorkloadState(t, before)

	// The chain runs the release before v2: its stored versions are v2's
	// VersionsBefore. A governance proposal has scheduled "v2" for the next
	// block (written here straight into the committed store, as the
	// proposal's execution would have).
	h := c.App.LastBlockHeight()
	fromVM := c.App.ModuleManager.GetVersionMap()
	for name, v := range v2.Upgrade.VersionsBefore {
		fromVM[name] = v
	}
	ctx := c.App.NewUncachedContext(false, cmtproto.Header{Height: h, ChainID: chaincfg.DefaultChainID})
	require.NoError(t, c.App.UpgradeKeeper.SetModuleVersionMap(ctx, fromVM))
	require.NoError(t, c.App.UpgradeKeeper.ScheduleUpgrade(ctx, upgradetypes.Plan{Name: v2.UpgradeName, Height: h + 1}))

	expected := readState(t, c, c.AfterEmptyBlockContext(t))

	c.NextBlock(t)
	after := c.Committed()
	done, err := c.App.UpgradeKeeper.GetDoneHeight(after, v2.UpgradeName)
	require.NoError(t, err)
	require.Equal(t, h+1, done, "v2 applied at its height")
	_, err = c.App.UpgradeKeeper.GetUpgradePlan(after)
	require.ErrorIs(t, err, upgradetypes.ErrNoUpgradePlanFound, "the plan is cleared")
	vm, err := c.App.UpgradeKeeper.GetModuleVersionMap(after)
	require.NoError(t, err)
	require.Equal(t, c.App.ModuleManager.GetVersionMap(), vm, "stored module versions are the binary's")
	upgraded := readState(t, c, after)
	require.Equal(t, expected, upgraded)

	// The chain goes on: more requests are submitted and completed.
	trafficBlocks(t, c, 4)
	later := readState(t, c, c.Committed())
	require.Greater(t, len(later.Requests), len(upgraded.Requests))
	require.Greater(t, countStatus(later, deferraltypes.StatusCompleted), countStatus(upgraded, deferraltypes.StatusCompleted))
}
