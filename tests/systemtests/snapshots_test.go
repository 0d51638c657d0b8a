//go:build system_test

package systemtests

import (
	"context"
	"encoding/hex"
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
// shows them; `export` adds one of the latest state; `dump` writes it to an
// archive, `delete` removes it and `load` brings it back from the archive;
// `restore` rebuilds the node's application state from its own older
// snapshot into an empty database. The restored node then rejoins the
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
	require.Len(t, heights, 2, "keep-recent 2")
	for _, h := range heights {
		require.Zero(t, h%snapshotInterval, "snapshot at height %d", h)
	}

	// a snapshot of the latest state, past the node's own ones
	out := c.runNode("snapshots", "export", "--home="+node0)
	m := regexp.MustCompile(`Snapshot created at height (\d+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	exportAt, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(t, err)
	require.Greater(t, exportAt, heights[1])
	got, _ := c.snapshotHeights(node0)
	require.Contains(t, got, exportAt)

	archive := filepath.Join(t.TempDir(), "snapshot.tar.gz")
	h := strconv.FormatInt(exportAt, 10)
	c.runNode("snapshots", "dump", h, format, "--home="+node0, "--output="+archive)
	require.FileExists(t, archive)
	c.runNode("snapshots", "delete", h, format, "--home="+node0)
	got, _ = c.snapshotHeights(node0)
	require.NotContains(t, got, exportAt)
	c.runNode("snapshots", "load", archive, "--home="+node0)
	got, _ = c.snapshotHeights(node0)
	require.Contains(t, got, exportAt)

	// node0 loses its application state and restores it from its own
	// snapshot before the latest state: the blocks after it are replayed
	appDB := filepath.Join(node0, "data", "application.db")
	require.NoError(t, os.RemoveAll(appDB))
	c.runNode("snapshots", "restore", strconv.FormatInt(heights[1], 10), format, "--home="+node0)
	require.DirExists(t, appDB)

	// node0 replays the blocks after the snapshot and follows the
	// chain: CometBFT checks each new block's app hash against node0's own
	// state, so node0 reaching new heights means it agrees with the others;
	// and its application reports the app hash the others put in the next
	// block header
	c.sut.StartChain(t)
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
