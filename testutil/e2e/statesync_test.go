//go:build e2e

package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"

	upgradetypes "cosmossdk.io/x/upgrade/types"

	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	"github.com/cosmos/cosmos-sdk/types/query"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// stateSyncNode is the index of the node that joins by state sync: the
// next one after the validators, with the ports of that index.
const stateSyncNode = nodes

const (
	// snapshotBlocks bounds the wait for a snapshot both node0 and node1
	// took: three snapshot intervals of scripts/localnet.sh (20 blocks).
	snapshotBlocks = 3*20 + 10
	// catchUpBlocks bounds how many blocks the chain may make while the new
	// node fetches a snapshot, restores it and catches up with the tip.
	catchUpBlocks = 300
)

// snapshotRe matches the line a node logs once a state sync snapshot is
// written (cosmossdk.io/store/snapshots), colours stripped.
var (
	snapshotRe = regexp.MustCompile(`completed state snapshot[^\n]*?height=(\d+)`)
	ansiRe     = regexp.MustCompile(`\x1b\[[0-9;]*m`)
)

// snapshotHeights are the heights of the snapshots node i has written.
func (n *network) snapshotHeights(i int) []int64 {
	bz, _ := os.ReadFile(filepath.Join(n.dir, "logs", fmt.Sprintf("node%d.log", i)))
	var hs []int64
	for _, m := range snapshotRe.FindAllStringSubmatch(ansiRe.ReplaceAllString(string(bz), ""), -1) {
		h, _ := strconv.ParseInt(m[1], 10, 64)
		hs = append(hs, h)
	}
	return hs
}

// 2. A new node (no validator key, no blocks) joins the running chain by
// state sync: it trusts a recent header of node0, fetches a snapshot the
// validators took (app.toml snapshot-interval, set by scripts/localnet.sh)
// over p2p, verifies it with the light client against node0 and node1, and
// then follows the chain by block sync. It starts at the snapshot (its
// earliest block is past genesis), reaches the tip, holds the same state
// (same app hash, same requests and module versions as the validators) and
// keeps up with new blocks and requests.
func testStateSyncJoin(t *testing.T, n *network) {
	ctx := context.Background()

	// Trust a header of the running chain, then wait for a snapshot taken
	// after it on both nodes the new one will ask.
	trustHeight := n.height(0) - 1
	require.Greater(t, trustHeight, int64(1))
	block, err := n.rpc[0].Block(ctx, &trustHeight)
	require.NoError(t, err)
	trustHash := hex.EncodeToString(block.BlockID.Hash)
	var snapshotHeight int64
	n.waitFor(t, fmt.Sprintf("a snapshot after height %d on node0 and node1 (is app.toml snapshot-interval set?)", trustHeight), snapshotBlocks, func() bool {
		for _, h0 := range n.snapshotHeights(0) {
			for _, h1 := range n.snapshotHeights(1) {
				if h0 == h1 && h0 > trustHeight {
					snapshotHeight = h0
					return true
				}
			}
		}
		return false
	})
	t.Logf("trusting height %d (%s); snapshot at height %d", trustHeight, trustHash, snapshotHeight)

	home := n.initStateSyncNode(t, trustHeight, trustHash)
	logPath := filepath.Join(n.dir, "logs", "statesync.log")
	logf, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(binary, "start", "--home", home)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	logf.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	rpc, err := rpchttp.New(n.rpcAddr(stateSyncNode), "/websocket")
	require.NoError(t, err)
	n.rpc = append(n.rpc, rpc)
	started := time.Now()

	// It catches up with the tip.
	alive := func() bool {
		select {
		case <-exited:
			return false
		default:
			return true
		}
	}
	n.waitFor(t, "the state sync node catches up; see "+logPath, catchUpBlocks, func() bool {
		if !alive() {
			return true
		}
		st, err := rpc.Status(ctx)
		return err == nil && !st.SyncInfo.CatchingUp && st.SyncInfo.LatestBlockHeight >= n.height(0)-1
	})
	require.True(t, alive(), "the state sync node exited; see %s", logPath)
	st, err := rpc.Status(ctx)
	require.NoError(t, err)
	t.Logf("state sync node caught up in %s: earliest block %d, height %d", time.Since(started).Round(100*time.Millisecond),
		st.SyncInfo.EarliestBlockHeight, st.SyncInfo.LatestBlockHeight)
	// Restored from a snapshot, not replayed from genesis: its first block
	// is the one after the snapshot it restored (one taken after the trusted
	// header; a newer one than we waited for may have been offered).
	require.Greater(t, st.SyncInfo.EarliestBlockHeight, trustHeight, "the node did not start from a snapshot")
	restored := st.SyncInfo.EarliestBlockHeight - 1
	require.Contains(t, n.snapshotHeights(0), restored, "block %d does not follow a snapshot height of the validators", restored+1)
	bz, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.Contains(t, ansiRe.ReplaceAllString(string(bz), ""), "Snapshot restored", "no snapshot restore in %s", logPath)

	// Same state as the validators.
	h := n.sameAppHash(0, 1, 2, 3, stateSyncNode)
	t.Logf("state sync node: same app hash as the 4 validators at height %d", h)
	conn := n.grpcConnTo(stateSyncNode)
	hctx := atHeight(ctx, h)
	mine := deferraltypes.NewQueryClient(conn)
	all := func(q deferraltypes.QueryClient) []deferraltypes.Request {
		var out []deferraltypes.Request
		for _, status := range []deferraltypes.RequestStatus{deferraltypes.StatusQueued, deferraltypes.StatusAssigned,
			deferraltypes.StatusCompleted, deferraltypes.StatusFailed, deferraltypes.StatusExpired, deferraltypes.StatusCancelled} {
			var key []byte
			for {
				res, err := q.RequestsByStatus(hctx, &deferraltypes.QueryRequestsByStatusRequest{Status: status,
					Pagination: &query.PageRequest{Key: key, Limit: 200}})
				require.NoError(t, err)
				out = append(out, res.Requests...)
				if len(res.Pagination.GetNextKey()) == 0 {
					break
				}
				key = res.Pagination.NextKey
			}
		}
		return out
	}
	theirs := all(n.query())
	require.NotEmpty(t, theirs)
	require.Equal(t, theirs, all(mine), "requests on the state sync node vs node0 at height %d", h)
	require.Equal(t, n.moduleVersions(hctx, 0), n.moduleVersions(hctx, stateSyncNode))
	applied, err := upgradetypes.NewQueryClient(conn).AppliedPlan(ctx, &upgradetypes.QueryAppliedPlanRequest{Name: newestUpgrade()})
	require.NoError(t, err)
	require.Positive(t, applied.Height, "the upgrade record came with the snapshot")

	// It follows: a new request shows up there, and the app hashes still agree.
	addr := n.newKeys("after-statesync")[0]
	ids := n.submitRequests(t, "after-statesync", addr, 3, func(i int) string { return fmt.Sprintf("after the state sync %d", i) })
	done := n.waitTerminal(ids)
	n.waitFor(t, "the state sync node sees the new request", 20, func() bool {
		res, err := mine.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: ids[len(ids)-1]})
		return err == nil && res.Request.Status == done[ids[len(ids)-1]].Status
	})
	h2 := n.sameAppHash(0, 1, 2, 3, stateSyncNode)
	require.Greater(t, h2, h)
	t.Logf("state sync node follows the chain: same app hash at height %d", h2)
}

// initStateSyncNode writes the home of a new full node: its keys (repshardd
// init), the chain's genesis, node0's config with this node's ports, node0
// and node1 as peers, and [statesync] on with node0 and node1 as the light
// client's RPC servers and the trusted header.
func (n *network) initStateSyncNode(t *testing.T, trustHeight int64, trustHash string) string {
	t.Helper()
	home := filepath.Join(n.dir, "statesync", "repshardd")
	_, err := n.cli("init", "statesync", "--chain-id", chainID, "--home", home)
	require.NoError(t, err)
	genesis, err := os.ReadFile(filepath.Join(n.nodeHome(0), "config", "genesis.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(home, "config", "genesis.json"), genesis, 0o644))

	shift := n.offset + 100*stateSyncNode
	v := viper.New()
	v.SetConfigFile(filepath.Join(n.nodeHome(0), "config", "config.toml"))
	require.NoError(t, v.ReadInConfig())
	conf := cmtcfg.DefaultConfig()
	require.NoError(t, v.Unmarshal(conf))
	conf.SetRoot(home)
	conf.Moniker = "statesync"
	conf.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", 26656+shift)
	var peers []string
	for i := range 2 {
		st, err := n.rpc[i].Status(context.Background())
		require.NoError(t, err)
		peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", st.NodeInfo.ID(), 26656+n.offset+100*i))
	}
	conf.P2P.PersistentPeers = strings.Join(peers, ",")
	conf.RPC.ListenAddress = n.rpcAddr(stateSyncNode)
	conf.RPC.PprofListenAddress = ""
	conf.ProxyApp = fmt.Sprintf("tcp://127.0.0.1:%d", 26658+shift)
	conf.Instrumentation.PrometheusListenAddr = fmt.Sprintf(":%d", 26660+shift)
	conf.StateSync.Enable = true
	conf.StateSync.RPCServers = []string{n.rpcAddr(0), n.rpcAddr(1)}
	conf.StateSync.TrustHeight = trustHeight
	conf.StateSync.TrustHash = trustHash
	conf.StateSync.TrustPeriod = 168 * time.Hour
	conf.StateSync.DiscoveryTime = 5 * time.Second
	require.NoError(t, conf.ValidateBasic())
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), conf)

	av := viper.New()
	av.SetConfigFile(filepath.Join(n.nodeHome(0), "config", "app.toml"))
	require.NoError(t, av.ReadInConfig())
	appConf, err := srvconfig.GetConfig(av)
	require.NoError(t, err)
	appConf.API.Address = fmt.Sprintf("tcp://127.0.0.1:%d", 1317+shift)
	appConf.GRPC.Address = n.grpcAddr(stateSyncNode)
	require.NoError(t, appConf.ValidateBasic())
	srvconfig.WriteConfigFile(filepath.Join(home, "config", "app.toml"), appConf)
	return home
}
