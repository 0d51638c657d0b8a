//go:build e2e

// Package e2e holds the end-to-end tests of repshard: real `repshardd`
// processes (4 validators and 2 worker daemons started by
// scripts/localnet.sh), driven through the CLI, gRPC and CometBFT RPC, with
// faults (SIGKILL of a validator, of a worker, of the whole chain).
//
//	make test-e2e     (go test -tags e2e ./testutil/e2e/)
//
// Environment: E2E_PORT_BASE (RPC port of node0, default 44657; the other
// ports follow scripts/localnet.sh), E2E_KEEP=1 keeps the network folder.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cosmossdk.io/log"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

var (
	binary   string // repshardd built by TestMain
	repoRoot string
	workDir  string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	repoRoot, err = filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	workDir, err = os.MkdirTemp("", "repshard-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(workDir, "repshardd")
	build := exec.Command("go", "build", "-o", binary, "./cmd/repshardd")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build:", err)
		return 1
	}
	code := m.Run()
	if os.Getenv("E2E_KEEP") == "" && code == 0 {
		os.RemoveAll(workDir)
	} else {
		fmt.Fprintln(os.Stderr, "e2e: files kept in", workDir)
	}
	return code
}

const (
	chainID = "repshard-local-1"
	denom   = "urep"
	txFees  = "5000urep"
	// maxFeePerUnit covers a compute unit at x/shard's default price_ceiling
	// (100,000 urep) and the critical urgency multiplier (2.5×): the fee a
	// request pays is its shard's price at submission, which rises under the
	// load these tests put on the chain.
	maxFeePerUnit = 250_000
	timeout       = 400 * time.Millisecond // timeout_commit of the test network
	nodes         = 4
	rpcBase       = 26657
	grpcBase      = 9090
)

// network is a running localnet.
type network struct {
	t        *testing.T
	dir      string
	env      []string
	offset   int
	clientH  string // CLI home with the requester keys (keyring test)
	kr       keyring.Keyring
	cdc      client.Context
	grpcConn *grpc.ClientConn
	rpc      []*rpchttp.HTTP
}

func portBase() int {
	if v := os.Getenv("E2E_PORT_BASE"); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil {
			return n
		}
	}
	return 44657
}

// execScript is the workers' --exec program: the sha256 of the payload;
// a payload holding FAIL fails, one holding SLOW takes 4 s.
const execScript = `#!/bin/sh
p=$(cat)
case "$p" in
  *FAIL*) echo "input rejected by the e2e executor" >&2; exit 3 ;;
  *SLOW*) sleep 4 ;;
esac
printf '%s' "$p" | sha256sum | cut -c1-64
`

// startNetwork starts 4 validators and 2 workers with scripts/localnet.sh.
func startNetwork(t *testing.T) *network {
	t.Helper()
	return startNetworkWith(t, netConfig{dir: filepath.Join(workDir, "net"), clientHome: filepath.Join(workDir, "client"), bin: binary})
}

// netConfig is where a localnet lives and what runs it.
type netConfig struct {
	dir        string // LOCALNET_DIR
	clientHome string // the test's keyring
	bin        string // the repshardd of the nodes and workers
}

// startNetworkWith starts 4 validators and 2 workers of cfg.bin with scripts/localnet.sh.
func startNetworkWith(t *testing.T, cfg netConfig) *network {
	t.Helper()
	base := portBase()
	n := &network{t: t, dir: cfg.dir, offset: base - rpcBase, clientH: cfg.clientHome}
	script := filepath.Join(workDir, "exec.sh")
	require.NoError(t, os.WriteFile(script, []byte(execScript), 0o755))
	n.env = append(os.Environ(),
		"REPSHARDD="+cfg.bin,
		"LOCALNET_DIR="+n.dir,
		"LOCALNET_PORT_BASE="+strconv.Itoa(base),
		"LOCALNET_COMMIT_TIMEOUT="+timeout.String(),
		"LOCALNET_WORKERS=2",
		"LOCALNET_WORKER_ARGS=--exec "+script+" --exec-timeout 20s --concurrency 32",
		"LOCALNET_STOP_GRACE=5",
	)
	// Stopped at the end even when the start fails half way.
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := n.localnet("status")
			t.Log(out)
		}
		out, _ := n.localnet("stop")
		t.Log(out)
	})
	out, err := n.localnet("start", strconv.Itoa(nodes))
	require.NoError(t, err, out)

	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()))
	n.kr, err = keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, n.clientH, nil, tempApp.AppCodec())
	require.NoError(t, err)
	n.cdc = client.Context{}.WithCodec(tempApp.AppCodec()).WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).WithKeyring(n.kr).WithChainID(chainID)
	n.grpcConn, err = grpc.NewClient(n.grpcAddr(0), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { n.grpcConn.Close() })
	for i := range nodes {
		c, err := rpchttp.New(n.rpcAddr(i), "/websocket")
		require.NoError(t, err)
		n.rpc = append(n.rpc, c)
	}
	return n
}

func (n *network) rpcAddr(i int) string {
	return fmt.Sprintf("tcp://127.0.0.1:%d", rpcBase+n.offset+100*i)
}

func (n *network) grpcAddr(i int) string {
	return fmt.Sprintf("127.0.0.1:%d", grpcBase+n.offset+100*i)
}

func (n *network) localnet(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "localnet.sh"), args...)
	cmd.Env = n.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// proc is one line of `localnet.sh status`.
type proc struct {
	Name, Role, Home, RPC string
	PID                   int
	Height                string
}

func (n *network) status() map[string]proc {
	out, _ := n.localnet("status")
	procs := map[string]proc{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 6 || f[0] == "NAME" {
			continue
		}
		pid, _ := strconv.Atoi(f[4])
		procs[f[0]] = proc{Name: f[0], Role: f[1], Home: f[2], RPC: f[3], PID: pid, Height: f[5]}
	}
	return procs
}

// kill sends SIGKILL to a process of the status and waits until it is gone.
func (n *network) kill(name string) proc {
	n.t.Helper()
	p := n.status()[name]
	require.NotZero(n.t, p.PID, "%s has no PID in the status", name)
	require.NoError(n.t, syscall.Kill(p.PID, syscall.SIGKILL))
	require.Eventually(n.t, func() bool { return syscall.Kill(p.PID, 0) != nil }, 10*time.Second, 50*time.Millisecond)
	return p
}

// restart starts a killed process again the way an operator would
// (`repshardd start --home HOME` or `repshardd worker run --home HOME`),
// recording its PID where localnet.sh finds it.
func (n *network) restart(p proc) {
	n.t.Helper()
	var args []string
	if strings.HasPrefix(p.Name, "worker") {
		args = []string{"worker", "run", "--home", p.Home}
	} else {
		args = []string{"start", "--home", p.Home}
	}
	logf, err := os.OpenFile(filepath.Join(n.dir, "logs", p.Name+".log"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	require.NoError(n.t, err)
	fmt.Fprintf(logf, "\n==== %s: repshardd %s (restarted by the e2e test) ====\n", time.Now().UTC().Format(time.RFC3339), strings.Join(args, " "))
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(n.t, cmd.Start())
	logf.Close()
	go func() { _ = cmd.Wait() }() // reap it when localnet.sh stop ends it
	require.NoError(n.t, os.WriteFile(filepath.Join(n.dir, "pids", p.Name+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644))
}

// cli runs repshardd with args and returns its stdout.
func (n *network) cli(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("repshardd %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// nodeHome is validator i's home.
func (n *network) nodeHome(i int) string {
	return filepath.Join(n.dir, fmt.Sprintf("node%d", i), "repshardd")
}

// cliTx runs `repshardd tx ARGS` as the validator key of node i (its home)
// and waits for the block; it returns the tx result JSON.
func (n *network) cliTx(i int, args ...string) map[string]any {
	n.t.Helper()
	full := append([]string{"tx"}, args...)
	full = append(full, "--home", n.nodeHome(i), "--from", fmt.Sprintf("node%d", i), "--keyring-backend", "test",
		"--chain-id", chainID, "--node", n.rpcAddr(0), "--fees", txFees, "--gas", "500000", "-y", "-o", "json")
	out, err := n.cli(full...)
	require.NoError(n.t, err)
	var res struct {
		Code   int    `json:"code"`
		TxHash string `json:"txhash"`
		RawLog string `json:"raw_log"`
	}
	require.NoError(n.t, json.Unmarshal([]byte(out), &res), out)
	require.Zero(n.t, res.Code, res.RawLog)
	return n.waitTxJSON(res.TxHash)
}

// waitTxJSON polls `q tx HASH` until the tx is in a block; it must have succeeded.
func (n *network) waitTxJSON(hash string) map[string]any {
	n.t.Helper()
	var m map[string]any
	require.Eventually(n.t, func() bool {
		out, err := n.cli("q", "tx", hash, "--node", n.rpcAddr(0), "-o", "json")
		if err != nil {
			return false
		}
		return json.Unmarshal([]byte(out), &m) == nil
	}, 30*time.Second, 300*time.Millisecond, "tx %s not in a block", hash)
	code, _ := m["code"].(float64)
	require.Zero(n.t, code, "tx %s failed: %v", hash, m["raw_log"])
	return m
}

// newKeys creates requester keys in the client keyring and funds them from node0.
func (n *network) newKeys(names ...string) []sdk.AccAddress {
	n.t.Helper()
	var addrs []sdk.AccAddress
	args := []string{"bank", "multi-send", "node0"}
	for _, name := range names {
		rec, _, err := n.kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		require.NoError(n.t, err)
		addr, err := rec.GetAddress()
		require.NoError(n.t, err)
		addrs = append(addrs, addr)
		args = append(args, addr.String())
	}
	if len(names) == 1 {
		args = []string{"bank", "send", "node0", addrs[0].String()}
	}
	n.cliTx(0, append(args, "100000000"+denom)...)
	return addrs
}

// height is node i's latest height (0 when it does not answer).
func (n *network) height(i int) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := n.rpc[i].Status(ctx)
	if err != nil {
		return 0
	}
	return st.SyncInfo.LatestBlockHeight
}

// sameAppHash asserts that the given nodes report the same app hash at a
// common height: ABCI Info (each node's own state) while they are at the
// same height, else the app hash of the next block's header at the lowest
// height they all have.
func (n *network) sameAppHash(which ...int) int64 {
	n.t.Helper()
	ctx := context.Background()
	for range 100 {
		var h int64 = -1
		var hash []byte
		same := true
		for _, i := range which {
			info, err := n.rpc[i].ABCIInfo(ctx)
			if err != nil {
				same = false
				break
			}
			if h == -1 {
				h, hash = info.Response.LastBlockHeight, info.Response.LastBlockAppHash
				continue
			}
			if info.Response.LastBlockHeight != h {
				same = false
				break
			}
			require.Equal(n.t, hash, info.Response.LastBlockAppHash, "node%d app hash at height %d", i, h)
		}
		if same && h > 0 {
			return h
		}
		time.Sleep(30 * time.Millisecond)
	}
	// Heights kept moving: compare the header of a block they all have.
	var low int64 = 1 << 62
	for _, i := range which {
		low = min(low, n.height(i))
	}
	require.Greater(n.t, low, int64(1))
	var want []byte
	for _, i := range which {
		b, err := n.rpc[i].Block(ctx, &low)
		require.NoError(n.t, err)
		if want == nil {
			want = b.Block.AppHash
		}
		require.Equal(n.t, want, []byte(b.Block.AppHash), "node%d app hash in block %d", i, low)
	}
	return low - 1
}

// query is the deferral query client on node0's gRPC.
func (n *network) query() deferraltypes.QueryClient { return deferraltypes.NewQueryClient(n.grpcConn) }

func (n *network) request(id uint64) deferraltypes.Request {
	n.t.Helper()
	res, err := n.query().Request(context.Background(), &deferraltypes.QueryRequestRequest{RequestId: id})
	require.NoError(n.t, err)
	return res.Request
}

// waitTerminal waits until every request is finished.
func (n *network) waitTerminal(ids []uint64, within time.Duration) map[uint64]deferraltypes.Request {
	n.t.Helper()
	done := map[uint64]deferraltypes.Request{}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, id := range ids {
			if _, ok := done[id]; ok {
				continue
			}
			res, err := n.query().Request(context.Background(), &deferraltypes.QueryRequestRequest{RequestId: id})
			if err == nil && terminal(res.Request.Status) {
				done[id] = res.Request
			}
		}
		if len(done) == len(ids) {
			return done
		}
		time.Sleep(time.Second)
	}
	var open []string
	for _, id := range ids {
		if _, ok := done[id]; !ok {
			open = append(open, fmt.Sprintf("%d:%s", id, n.request(id).Status))
		}
	}
	n.t.Fatalf("%d of %d requests not finished within %s: %v", len(open), len(ids), within, open[:min(len(open), 20)])
	return nil
}

func terminal(s deferraltypes.RequestStatus) bool {
	switch s {
	case deferraltypes.StatusCompleted, deferraltypes.StatusFailed, deferraltypes.StatusExpired, deferraltypes.StatusCancelled:
		return true
	}
	return false
}
