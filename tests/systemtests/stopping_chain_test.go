//go:build system_test

// The tests of this file stop the network. They come last (go test runs the
// files of a package in name order), so the shared network starts once for
// every test before them: the snapshot test restarts the same chain, which
// the export test then stops for good and re-bases on its export.

package systemtests

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"cosmossdk.io/systemtests"
)

// snapshotLine is one line of `snapshots list`.
var snapshotLine = regexp.MustCompile(`height: (\d+) format: (\d+) chunks: (\d+)`)

// snapshotHeights lists the heights of node home's local snapshots, and
// their format.
func (c *chain) snapshotHeights(home string) ([]int64, string) {
	c.t.Helper()
	var heights []int64
	var format string
	for _, m := range snapshotLine.FindAllStringSubmatch(c.runNode("snapshots", "list", "--home="+home), -1) {
		h, err := strconv.ParseInt(m[1], 10, 64)
		require.NoError(c.t, err)
		heights = append(heights, h)
		format = m[2]
	}
	slices.Sort(heights)
	return heights, format
}

// The nodes of the shared network write a state-sync snapshot every
// snapshotInterval blocks and keep the last two. On a stopped node: `list`
// shows them; `delete` removes the newest and `export` takes one of the
// latest state; `dump` writes it to an archive, from which `load` brings it
// back after a `delete`; `restore` rebuilds the node's application state
// from the older node snapshot into an empty database. The restored node then rejoins the
// network, follows it, and its application's state hash is the one the
// other validators commit to.
func TestSnapshotsListExportDumpLoadRestore(t *testing.T) {
	c := sharedChain(t)
	holder := c.newAccounts(12_345_678, "snapshot-holder")[0]
	// two snapshots taken after that state, and a block past the second
	c.awaitHeight((c.height()/snapshotInterval+2)*snapshotInterval + 1)
	c.stop()
	node0 := c.sut.NodeDir(0)

	heights, format := c.snapshotHeights(node0)
	// keep-recent 2 (a third when the node stopped between taking one and
	// pruning the oldest)
	require.GreaterOrEqual(t, len(heights), 2, "snapshots %v", heights)
	require.LessOrEqual(t, len(heights), 3, "snapshots %v", heights)
	for _, h := range heights {
		require.Zero(t, h%snapshotInterval, "snapshot at height %d", h)
	}
	older, newest := heights[len(heights)-2], heights[len(heights)-1]
	kept := heights[:len(heights)-1]

	// the newest goes (the node may have stopped right at its height, and a
	// snapshot is only taken above the newest), and one of the latest state
	// takes its place
	c.runNode("snapshots", "delete", strconv.FormatInt(newest, 10), format, "--home="+node0)
	got, _ := c.snapshotHeights(node0)
	require.Equal(t, kept, got)
	out := c.runNode("snapshots", "export", "--home="+node0)
	m := regexp.MustCompile(`Snapshot created at height (\d+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	exportAt, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, exportAt, newest)
	got, _ = c.snapshotHeights(node0)
	require.Equal(t, append(slices.Clone(kept), exportAt), got)

	// dump it to an archive, delete it, load it back from the archive
	archive := filepath.Join(t.TempDir(), "snapshot.tar.gz")
	h := strconv.FormatInt(exportAt, 10)
	c.runNode("snapshots", "dump", h, format, "--home="+node0, "--output="+archive)
	require.FileExists(t, archive)
	c.runNode("snapshots", "delete", h, format, "--home="+node0)
	got, _ = c.snapshotHeights(node0)
	require.Equal(t, kept, got)
	c.runNode("snapshots", "load", archive, "--home="+node0)
	got, _ = c.snapshotHeights(node0)
	require.Equal(t, append(slices.Clone(kept), exportAt), got)

	// node0 loses its application state and restores it from its older
	// snapshot: the blocks after it are replayed
	appDB := filepath.Join(node0, "data", "application.db")
	require.NoError(t, os.RemoveAll(appDB))
	c.runNode("snapshots", "restore", strconv.FormatInt(older, 10), format, "--home="+node0)
	require.DirExists(t, appDB)

	// node0 replays the blocks after the snapshot and follows the
	// chain: CometBFT checks each new block's app hash against node0's own
	// state, so node0 reaching new heights means it agrees with the others;
	// and its application reports the app hash the others put in the next
	// block header
	startNetwork(t, snapshotFlags...)
	c = newChain(t)
	c.awaitHeight(c.height() + 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	info, err := c.rpc.ABCIInfo(ctx)
	cancel()
	require.NoError(t, err)
	node1, err := cmthttp.New(nodeRPC(1), "/websocket")
	require.NoError(t, err)
	next := info.Response.LastBlockHeight + 1
	c.awaitHeight(next)
	require.Equal(t, appHash(t, node1, next), strings.ToUpper(hex.EncodeToString(info.Response.LastBlockAppHash)),
		"node0's application state at height %d against the app hash node1 has in block %d", next-1, next)
	require.EqualValues(t, 12_345_678, c.balance(holder), "node0's restored state has the account")
	// the same chain runs again, as it was: the next tests may share it
	sharedChainUp = true
}

// appHash is the app hash in the header of block h as node serves it.
func appHash(t *testing.T, node *cmthttp.HTTP, h int64) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := node.Block(ctx, &h)
	require.NoError(t, err)
	return b.Block.AppHash.String()
}

// The state of a stopped node exports to a genesis that validates, carries
// the repshard state (the worker, the request, the profiles) and, started on
// the same validators, continues the chain at the next height with every
// balance and record as it was; the restarted chain keeps working (a new
// request is assigned and completed, ids continuing). A zero-height export
// validates too.
func TestExportAndReimport(t *testing.T) {
	c := sharedChain(t)
	addrs := c.newAccounts(100_000_000, "export-worker", "export-requester")
	worker, requester := addrs[0], addrs[1]
	c.registerWorker("export-worker", "data-intensive", 100)
	res := c.tx("deferral", "submit-request", "data-intensive", "3", "1000000"+denom, "--payload=before export",
		"--from=export-requester", repshardGas)
	id := event(res, evSubmitted, "request_id").String()
	require.Equal(t, worker, event(res, evAssigned, "worker").String())
	c.tx("deferral", "complete-request", id, sha256Hex("before export"), "--from=export-worker", repshardGas)

	// what must survive the export and re-import: state that empty blocks do
	// not change, read after the last tx
	state := func() map[string]string {
		return map[string]string{
			"worker balance":    strconv.FormatInt(c.balance(worker), 10),
			"requester balance": strconv.FormatInt(c.balance(requester), 10),
			"worker":            c.rest("/repshard/shard/v1/workers/" + worker).Raw,
			"request":           c.rest("/repshard/deferral/v1/requests/" + id).Raw,
			"requester counts": c.rest("/repshard/reputation/v1/profiles/" + requester).
				Get("{profile.submitted,profile.completed,profile.failed,profile.expired}").Raw,
			// fee earnings (epoch rewards may come due at an epoch's end)
			"pending fees":    c.rest("/repshard/rewards/v1/pending/" + worker).Get("fees").Raw,
			"deferral params": c.rest("/repshard/deferral/v1/params").Raw,
			"shard params":    c.rest("/repshard/shard/v1/params").Raw,
			"validators":      c.rest("/cosmos/staking/v1beta1/validators").Raw,
		}
	}
	before := state()
	c.stop()
	node0 := c.sut.NodeDir(0)
	exported := filepath.Join(t.TempDir(), "exported-genesis.json")
	c.runNode("export", "--home="+node0, "--output-document="+exported)
	genesis, err := os.ReadFile(exported)
	require.NoError(t, err)
	require.Contains(t, c.runNode("genesis", "validate", exported, "--home="+node0), "is a valid genesis file")

	lastHeight := gjson.GetBytes(genesis, "initial_height").Int() - 1
	require.Positive(t, lastHeight)
	app := gjson.GetBytes(genesis, "app_state")
	require.Equal(t, worker, app.Get(fmt.Sprintf("shard.workers.#(address==%q).address", worker)).String())
	require.Equal(t, "REQUEST_STATUS_COMPLETED", app.Get(fmt.Sprintf("deferral.requests.#(id==%q).status", id)).String(),
		"the exported request")
	require.True(t, app.Get(fmt.Sprintf("reputation.profiles.#(address==%q)", requester)).Exists())

	zero := filepath.Join(t.TempDir(), "zero-height-genesis.json")
	c.runNode("export", "--for-zero-height", "--home="+node0, "--output-document="+zero)
	require.Contains(t, c.runNode("genesis", "validate", zero, "--home="+node0), "is a valid genesis file")

	// restart the network from the export: every node's data wiped, the
	// exported genesis in place, the same validator keys (the reset restores
	// the test keyring to the validators' keys: keep this test's keys)
	keyring := filepath.Join(systemtests.WorkDir, "testnet", "keyring-test")
	saved := t.TempDir()
	systemtests.MustCopyFilesInDir(keyring, saved)
	c.sut.ModifyGenesisJSON(t, func([]byte) []byte { return genesis })
	systemtests.MustCopyFilesInDir(saved, keyring)
	startNetwork(t)
	c = newChain(t)
	require.Greater(t, c.height(), lastHeight, "the chain continues after the exported height")

	after := state()
	for k, v := range before {
		require.JSONEq(t, v, after[k], "%s after the re-import", k)
	}

	// and keeps working: a new request to the same worker, the next id
	res = c.tx("deferral", "submit-request", "data-intensive", "1", "1000000"+denom, "--payload=after export",
		"--from=export-requester", repshardGas)
	next := event(res, evSubmitted, "request_id").Int()
	oldID, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	require.Greater(t, next, oldID)
	require.Equal(t, worker, event(res, evAssigned, "worker").String())
	c.tx("deferral", "complete-request", strconv.FormatInt(next, 10), sha256Hex("after export"),
		"--from=export-worker", repshardGas)
	require.EqualValues(t, 2, c.rest("/repshard/shard/v1/workers/"+worker).Get("worker.completed").Int())
}
