//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"cosmossdk.io/log"
	upgradetypes "cosmossdk.io/x/upgrade/types"
	dbm "github.com/cosmos/cosmos-db"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	grpctypes "github.com/cosmos/cosmos-sdk/types/grpc"
	"github.com/cosmos/cosmos-sdk/types/module"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/repshard/repshard/app"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// TestUpgradeAndStateSync runs its own localnet on the binary of the
// previous release (built from this tree with the previous_release tag: it
// lacks the newest upgrade's handler), takes the newest upgrade through
// governance and swaps every node to the normal build, then has a new node
// join the upgraded chain by state sync. The steps share the network, on the
// ports of TestE2E's (stopped by then).
func TestUpgradeAndStateSync(t *testing.T) {
	previous := filepath.Join(workDir, "repshardd-previous-release")
	build := exec.Command("go", "build", "-tags", "previous_release", "-o", previous, "./cmd/repshardd")
	build.Dir = repoRoot
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build -tags previous_release: %s", out)

	n := startNetworkWith(t, netConfig{
		dir:        filepath.Join(workDir, "upgrade-net"),
		clientHome: filepath.Join(workDir, "upgrade-client"),
		bin:        previous,
	})
	steps := []struct {
		name string
		run  func(*testing.T, *network)
	}{
		{"1_software_upgrade_by_governance", testSoftwareUpgrade},
		{"2_new_node_joins_by_state_sync", testStateSyncJoin},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, n) }) {
			t.FailNow()
		}
	}
}

// newestUpgrade is the upgrade the previous-release binary lacks.
func newestUpgrade() string { return app.Upgrades[len(app.Upgrades)-1].Name }

// atHeight makes a gRPC query read the state committed at height h.
func atHeight(ctx context.Context, h int64) context.Context {
	return metadata.AppendToOutgoingContext(ctx, grpctypes.GRPCBlockHeightHeader, strconv.FormatInt(h, 10))
}

// 1. Requests through both workers; a MsgSoftwareUpgrade proposal for the
// newest upgrade at height H passes with the votes of the 4 validators; every
// node halts at H and writes upgrade-info.json; each is stopped and started
// on the normal build, which runs the upgrade's migrations at H; the chain
// goes on. Requests, reputations, workers and balances are the same before
// (H-1) and after (H), the module versions are the binary's, and new requests
// are served.
func testSoftwareUpgrade(t *testing.T, n *network) {
	ctx := context.Background()
	upgradeName := newestUpgrade()

	// Traffic on the old binary, until nothing is in flight: every request
	// finished and rated by its worker, so the blocks around H carry no txs.
	names := []string{"upgrade-req1", "upgrade-req2"}
	addrs := n.newKeys(names...)
	var ids []uint64
	for r, name := range names {
		ids = append(ids, n.submitRequests(t, name, addrs[r], 12, func(i int) string {
			if i%6 == 5 {
				return fmt.Sprintf("%s before the upgrade %d FAIL", name, i)
			}
			return fmt.Sprintf("%s before the upgrade %d", name, i)
		})...)
	}
	finished := n.waitTerminal(ids)
	for _, id := range ids {
		require.Contains(t, []deferraltypes.RequestStatus{deferraltypes.StatusCompleted, deferraltypes.StatusFailed}, finished[id].Status, "request %d", id)
	}
	n.waitReviews(t, ids)

	// The chain runs the previous release: its module versions are those
	// before the upgrade.
	newVersions := n.binaryVersionMap()
	oldVersions := module.VersionMap{}
	for name, v := range newVersions {
		oldVersions[name] = v
	}
	for name, v := range app.Upgrades[len(app.Upgrades)-1].VersionsBefore {
		oldVersions[name] = v
	}
	require.Equal(t, oldVersions, n.moduleVersions(ctx, 0), "module versions of the previous release")

	// The plan height: past the end of the voting period even if blocks come
	// as fast as they can (one per timeout_commit at best).
	govQ := govv1.NewQueryClient(n.grpcConn)
	gp, err := govQ.Params(ctx, &govv1.QueryParamsRequest{})
	require.NoError(t, err)
	votingBlocks := int64(*gp.Params.VotingPeriod/timeout) + 1
	upgradeHeight := n.height(0) + votingBlocks + 15
	res := n.cliTx(0, "upgrade", "software-upgrade", upgradeName, "--upgrade-height", strconv.FormatInt(upgradeHeight, 10),
		"--title", "Upgrade to "+upgradeName, "--summary", "e2e: software upgrade "+upgradeName,
		"--deposit", sdk.Coins(gp.Params.MinDeposit).String(), "--no-validate")
	raw, _ := json.Marshal(res)
	m := regexp.MustCompile(`"key":"proposal_id","value":"(\d+)"`).FindStringSubmatch(string(raw))
	require.NotNil(t, m, "no proposal_id in %s", raw)
	proposalID, _ := strconv.ParseUint(m[1], 10, 64)
	for i := range nodes {
		n.cliTx(i, "gov", "vote", m[1], "yes")
	}
	t.Logf("proposal %d: upgrade %q at height %d, voted yes by the 4 validators", proposalID, upgradeName, upgradeHeight)
	var proposal *govv1.Proposal
	n.waitFor(t, fmt.Sprintf("proposal %d closes", proposalID), votingBlocks+20, func() bool {
		p, err := govQ.Proposal(ctx, &govv1.QueryProposalRequest{ProposalId: proposalID})
		if err != nil {
			return false
		}
		proposal = p.Proposal
		return proposal.Status != govv1.StatusDepositPeriod && proposal.Status != govv1.StatusVotingPeriod
	})
	require.Equal(t, govv1.StatusPassed, proposal.Status, "proposal %d: %s", proposalID, proposal.FailedReason)
	plan, err := upgradetypes.NewQueryClient(n.grpcConn).CurrentPlan(ctx, &upgradetypes.QueryCurrentPlanRequest{})
	require.NoError(t, err)
	require.NotNil(t, plan.Plan, "no upgrade plan after the proposal passed")
	require.Equal(t, upgradeName, plan.Plan.Name)
	require.Equal(t, upgradeHeight, plan.Plan.Height)

	// Every node halts at H: x/upgrade writes the plan to
	// data/upgrade-info.json (what cosmovisor watches) and stops the chain
	// before anything of block H is committed.
	for i := range nodes {
		infoPath := filepath.Join(n.nodeHome(i), "data", upgradetypes.UpgradeInfoFilename)
		var bz []byte
		require.Eventually(t, func() bool {
			var err error
			bz, err = os.ReadFile(infoPath)
			return err == nil && len(bz) > 0
		}, 5*time.Minute, 500*time.Millisecond, "node%d did not halt for the upgrade", i)
		var info upgradetypes.Plan
		require.NoError(t, json.Unmarshal(bz, &info), "%s: %s", infoPath, bz)
		require.Equal(t, upgradeName, info.Name, "node%d's upgrade-info.json", i)
		require.Equal(t, upgradeHeight, info.Height, "node%d's upgrade-info.json", i)
		require.Eventually(t, func() bool {
			bz, _ := os.ReadFile(filepath.Join(n.dir, "logs", fmt.Sprintf("node%d.log", i)))
			return strings.Contains(string(bz), fmt.Sprintf("UPGRADE %q NEEDED at height: %d", upgradeName, upgradeHeight))
		}, 30*time.Second, 200*time.Millisecond, "node%d: no UPGRADE NEEDED in its log", i)
	}
	for i := range nodes {
		info, err := n.rpc[i].ABCIInfo(ctx)
		require.NoError(t, err, "node%d keeps serving while halted", i)
		require.Equal(t, upgradeHeight-1, info.Response.LastBlockHeight, "node%d's last committed height", i)
	}
	t.Logf("all 4 nodes halted at height %d with UPGRADE %q NEEDED", upgradeHeight, upgradeName)
	before := n.stateAt(ctx, upgradeHeight-1, ids, addrs)

	// The operator's swap: stop each node, start the new binary on the same home.
	for i := range nodes {
		p := n.stop(fmt.Sprintf("node%d", i))
		n.restart(p) // the normal build (TestMain's binary)
	}
	for i := range nodes {
		require.Eventually(t, func() bool { return n.height(i) > upgradeHeight+1 }, 2*time.Minute, 250*time.Millisecond,
			"node%d did not produce blocks past the upgrade height on the new binary", i)
		bz, err := os.ReadFile(filepath.Join(n.dir, "logs", fmt.Sprintf("node%d.log", i)))
		require.NoError(t, err)
		parts := strings.Split(string(bz), "restarted by the e2e test")
		require.Greater(t, len(parts), 1)
		require.Contains(t, parts[len(parts)-1], fmt.Sprintf("applying upgrade %q at height: %d", upgradeName, upgradeHeight),
			"node%d did not apply the upgrade itself", i)
	}
	applied, err := upgradetypes.NewQueryClient(n.grpcConn).AppliedPlan(ctx, &upgradetypes.QueryAppliedPlanRequest{Name: upgradeName})
	require.NoError(t, err)
	require.Equal(t, upgradeHeight, applied.Height, "x/upgrade's record of where %q was applied", upgradeName)
	plan, err = upgradetypes.NewQueryClient(n.grpcConn).CurrentPlan(ctx, &upgradetypes.QueryCurrentPlanRequest{})
	require.NoError(t, err)
	require.Nil(t, plan.Plan, "the plan is cleared once applied")

	require.Equal(t, oldVersions, n.moduleVersions(atHeight(ctx, upgradeHeight-1), 0), "module versions before the upgrade")
	require.Equal(t, newVersions, n.moduleVersions(atHeight(ctx, upgradeHeight), 0), "module versions after the upgrade")
	var moved []string
	for _, name := range slices.Sorted(maps.Keys(newVersions)) {
		if oldVersions[name] != newVersions[name] {
			moved = append(moved, fmt.Sprintf("%s %d->%d", name, oldVersions[name], newVersions[name]))
		}
	}
	t.Logf("module versions moved by the upgrade: %v", moved)

	after := n.stateAt(ctx, upgradeHeight, ids, addrs)
	require.Equal(t, before, after, "state at height %d (old binary) vs %d (after the upgrade)", upgradeHeight-1, upgradeHeight)
	t.Logf("%d requests, %d requester and %d worker profiles, %d balances: the same before and after the upgrade",
		len(before.Requests), len(before.Profiles), len(before.WorkerProfiles), len(before.Balances))

	// The chain goes on: same app hash everywhere, new requests served by
	// the workers (still the old daemons, which reconnected).
	h := n.sameAppHash(0, 1, 2, 3)
	t.Logf("all 4 nodes on the new binary: same app hash at height %d", h)
	addr := n.newKeys("after-upgrade")[0]
	more := n.submitRequests(t, "after-upgrade", addr, 6, func(i int) string { return fmt.Sprintf("after the upgrade %d", i) })
	done := n.waitTerminal(more)
	for _, id := range more {
		require.Equal(t, deferraltypes.StatusCompleted, done[id].Status, "request %d after the upgrade", id)
	}
	require.Equal(t, before.Requests, n.stateAt(ctx, n.height(0), ids, addrs).Requests, "the requests of before the upgrade later on")
	t.Logf("requests %v completed after the upgrade", more)
}

// submitRequests sends count requests from one account through gRPC, each
// once the previous one is in a block, and returns their ids.
func (n *network) submitRequests(t *testing.T, name string, addr sdk.AccAddress, count int, payload func(int) string) []uint64 {
	t.Helper()
	ctx := context.Background()
	acc := n.grpcAccount(name, addr)
	var ids []uint64
	for i := range count {
		hash, err := acc.broadcast(ctx, submitMsg(addr, uint64(1+i%3), payload(i)))
		require.NoError(t, err)
		res, err := n.waitTx(ctx, hash)
		require.NoError(t, err)
		id, err := requestIDOf(res)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return ids
}

// reviewBlocks bounds how many blocks the worker daemons may take to rate
// the requesters of finished requests.
const reviewBlocks = 100

// waitReviews waits until the worker of each finished request has rated its
// requester (the worker daemons do it once their report is in a block).
func (n *network) waitReviews(t *testing.T, ids []uint64) {
	t.Helper()
	q := reputationtypes.NewQueryClient(n.grpcConn)
	pending := append([]uint64(nil), ids...)
	n.waitFor(t, "every finished request has its review", reviewBlocks, func() bool {
		var still []uint64
		for _, id := range pending {
			if _, err := q.Review(context.Background(), &reputationtypes.QueryReviewRequest{RequestId: id}); err != nil {
				still = append(still, id)
			}
		}
		pending = still
		return len(pending) == 0
	})
}

// binaryVersionMap is the module version map of the normal build (the one
// this test binary links).
func (n *network) binaryVersionMap() module.VersionMap {
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(n.t.TempDir()))
	return a.ModuleManager.GetVersionMap()
}

// grpcConnTo is a gRPC connection to node i (node0's is n.grpcConn), closed
// at the end of the test.
func (n *network) grpcConnTo(i int) *grpc.ClientConn {
	n.t.Helper()
	if i == 0 {
		return n.grpcConn
	}
	conn, err := grpc.NewClient(n.grpcAddr(i), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(n.t, err)
	n.t.Cleanup(func() { conn.Close() })
	return conn
}

// moduleVersions reads x/upgrade's module versions through node i's gRPC.
func (n *network) moduleVersions(ctx context.Context, i int) module.VersionMap {
	n.t.Helper()
	res, err := upgradetypes.NewQueryClient(n.grpcConnTo(i)).ModuleVersions(ctx, &upgradetypes.QueryModuleVersionsRequest{})
	require.NoError(n.t, err)
	vm := module.VersionMap{}
	for _, mv := range res.ModuleVersions {
		vm[mv.Name] = mv.Version
	}
	return vm
}

// upgradeState is what an upgrade must keep: requests, the stored inputs of
// the requesters' reputation, the workers' reputation and records, and the
// balances of requesters, workers and validators.
type upgradeState struct {
	Requests       []deferraltypes.Request
	Profiles       []reputationtypes.Profile
	WorkerProfiles []reputationtypes.WorkerProfile
	Workers        []shardtypes.Worker
	Balances       map[string]sdk.Coins
}

// stateAt reads upgradeState at height h through node0's gRPC.
func (n *network) stateAt(ctx context.Context, h int64, ids []uint64, requesters []sdk.AccAddress) upgradeState {
	n.t.Helper()
	ctx = atHeight(ctx, h)
	s := upgradeState{Balances: map[string]sdk.Coins{}}
	for _, id := range ids {
		res, err := n.query().Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
		require.NoError(n.t, err, "request %d at height %d", id, h)
		s.Requests = append(s.Requests, res.Request)
	}
	repQ := reputationtypes.NewQueryClient(n.grpcConn)
	for _, a := range requesters {
		res, err := repQ.Profile(ctx, &reputationtypes.QueryProfileRequest{Address: a.String()})
		require.NoError(n.t, err)
		p := res.Profile
		// Computed at the height of the query (the request rate decays
		// block by block): not stored state.
		p.RequestRate, p.FrequencyPpm, p.Score = 0, 0, 0
		s.Profiles = append(s.Profiles, p)
	}
	accounts := append([]string(nil), n.workerAddrs()...)
	for _, w := range n.workerAddrs() {
		wp, err := repQ.WorkerProfile(ctx, &reputationtypes.QueryWorkerProfileRequest{Address: w})
		require.NoError(n.t, err)
		s.WorkerProfiles = append(s.WorkerProfiles, wp.Profile)
		wr, err := shardtypes.NewQueryClient(n.grpcConn).Worker(ctx, &shardtypes.QueryWorkerRequest{Address: w})
		require.NoError(n.t, err)
		s.Workers = append(s.Workers, wr.Worker)
	}
	for i := range nodes {
		out, err := n.cli("keys", "show", fmt.Sprintf("node%d", i), "-a", "--keyring-backend", "test", "--home", n.nodeHome(i))
		require.NoError(n.t, err)
		accounts = append(accounts, strings.TrimSpace(out))
	}
	for _, a := range requesters {
		accounts = append(accounts, a.String())
	}
	for _, a := range accounts {
		res, err := banktypes.NewQueryClient(n.grpcConn).AllBalances(ctx, &banktypes.QueryAllBalancesRequest{Address: a})
		require.NoError(n.t, err)
		s.Balances[a] = res.Balances
	}
	return s
}
