//go:build e2e

// Package e2e holds the end-to-end tests of repshard: real `repshardd`
// processes (4 validators and 2 worker daemons started by
// scripts/localnet.sh), driven through the CLI, gRPC and CometBFT RPC, with
// faults (SIGKILL of a validator, of a worker, of the whole chain).
//
//	make test-e2e     (go test -tags e2e ./testutil/e2e/)
//
// Environment: E2E_PORT_BASE (RPC port of node0; by default the first free
// one of portBases, below the kernel's ephemeral ports; the other ports
// follow scripts/localnet.sh), E2E_KEEP=1 keeps the network folder,
// E2E_SKIP_PARTITION=1 skips the partition scenario (it needs root and
// iptables: scripts/e2e-prereqs.sh).
//
// Waits are conditions on the chain's own state, bounded in blocks, never
// in wall time: a loaded machine makes blocks slower, not fewer per step.
// Every wait also fails when the chain commits no block for stallLimit
// (network.until).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"

	"github.com/repshard/repshard/app"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

var (
	binary   string // repshardd built by TestMain
	repoRoot string
	workDir  string
)

// onInterrupt holds what must be undone even when the suite is stopped by
// SIGINT or SIGTERM (a cancelled CI job), which skips the tests' cleanups:
// the processes of the network, the firewall rules. Each entry runs once,
// on a signal or on its own cleanup, whichever comes first.
var onInterrupt struct {
	sync.Mutex
	undo map[int]func()
	next int
}

// undoOnInterrupt registers f to run on SIGINT/SIGTERM; the returned
// function runs f now (once) and unregisters it.
func undoOnInterrupt(f func()) func() {
	onInterrupt.Lock()
	defer onInterrupt.Unlock()
	if onInterrupt.undo == nil {
		onInterrupt.undo = map[int]func(){}
	}
	id := onInterrupt.next
	onInterrupt.next++
	onInterrupt.undo[id] = f
	return func() {
		onInterrupt.Lock()
		g, ok := onInterrupt.undo[id]
		delete(onInterrupt.undo, id)
		onInterrupt.Unlock()
		if ok {
			g()
		}
	}
}

func TestMain(m *testing.M) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "e2e: %s: stopping the network and removing the firewall rules\n", sig)
		onInterrupt.Lock()
		ids := make([]int, 0, len(onInterrupt.undo))
		for id := range onInterrupt.undo {
			ids = append(ids, id)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(ids))) // last registered first
		for _, id := range ids {
			onInterrupt.undo[id]()
		}
		onInterrupt.Unlock()
		os.Exit(2)
	}()
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
	// gate and heldDir are the executor's GATE file and HELD folder.
	gate, heldDir string

	// tipHeight is the highest block height any node reported, tipAt when
	// it last grew (unix nanoseconds): trackTip keeps them.
	tipHeight, tipAt atomic.Int64
}

// portBases are the RPC ports of node0 the suite picks from: every port of
// a network (node i: base-1..base+4 + 100i, REST base-25340 + 100i, gRPC
// base-17567 + 100i, for up to maxNodes nodes) stays below 32768, where
// Linux's ephemeral ports start (ip_local_port_range), so no outgoing
// connection of any process can hold a port a node restarts on.
var portBases = []int{27700, 28700, 29700, 30700, 31700}

// maxNodes is how many nodes a network's ports are reserved for (the 4
// validators and room for scenarios that add nodes).
const maxNodes = 6

// networkPorts lists every port a network with RPC base port base uses.
func networkPorts(base int) []int {
	var ports []int
	off := base - rpcBase
	for i := range maxNodes {
		for _, p := range []int{26656, 26657, 26658, 26660, 26661, 1317, 9090} {
			ports = append(ports, p+off+100*i)
		}
	}
	return ports
}

// portBase is E2E_PORT_BASE, or the first base of portBases (starting at
// one chosen by the process id, so concurrent runs spread out) whose ports
// are all free and whose lock file this process could create
// ($TMPDIR/repshard-e2e-ports-<base>.lock, holding its pid; a lock whose
// process is gone is taken over). The lock is removed when the suite ends.
func portBase() (int, func(), error) {
	if v := os.Getenv("E2E_PORT_BASE"); v != "" {
		n, err := strconv.Atoi(v)
		return n, func() {}, err
	}
	for k := range portBases {
		base := portBases[(os.Getpid()+k)%len(portBases)]
		lock := filepath.Join(os.TempDir(), fmt.Sprintf("repshard-e2e-ports-%d.lock", base))
		if bz, err := os.ReadFile(lock); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(bz))); err == nil && syscall.Kill(pid, 0) == nil {
				continue // another run holds it
			}
			os.Remove(lock)
		}
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			continue
		}
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		free := true
		for _, p := range networkPorts(base) {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if !free {
			os.Remove(lock)
			continue
		}
		return base, func() { os.Remove(lock) }, nil
	}
	return 0, nil, fmt.Errorf("no free port range among %v (set E2E_PORT_BASE)", portBases)
}

// execScript is the workers' --exec program: the sha256 of the payload; a
// payload holding FAIL fails; one holding HOLD first creates HELD/<request
// id>, then waits while the file GATE exists (the test opens the gate by
// removing it).
const execScript = `#!/bin/sh
p=$(cat)
case "$p" in
  *FAIL*) echo "input rejected by the e2e executor" >&2; exit 3 ;;
  *HOLD*) : >"HELD/$REPSHARD_REQUEST_ID"; while [ -e "GATE" ]; do sleep 0.1; done ;;
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

// startNetworkWith starts 4 validators and 2 workers of cfg.bin with
// scripts/localnet.sh, on a free port range (portBase) held until the test ends.
func startNetworkWith(t *testing.T, cfg netConfig) *network {
	t.Helper()
	base, unlock, err := portBase()
	require.NoError(t, err)
	t.Cleanup(undoOnInterrupt(unlock))
	t.Logf("network on ports from %d (node0 RPC)", base)
	n := &network{t: t, dir: cfg.dir, offset: base - rpcBase, clientH: cfg.clientHome}
	n.gate, n.heldDir = filepath.Join(workDir, "gate"), filepath.Join(workDir, "held")
	require.NoError(t, os.MkdirAll(n.heldDir, 0o755))
	script := filepath.Join(workDir, "exec.sh")
	require.NoError(t, os.WriteFile(script, []byte(strings.NewReplacer("GATE", n.gate, "HELD", n.heldDir).Replace(execScript)), 0o755))
	n.env = append(os.Environ(),
		"REPSHARDD="+cfg.bin,
		"LOCALNET_DIR="+n.dir,
		"LOCALNET_PORT_BASE="+strconv.Itoa(base),
		"LOCALNET_COMMIT_TIMEOUT="+timeout.String(),
		"LOCALNET_WORKERS=2",
		// The executor's own timeout is long: a HOLD job waits for the test.
		"LOCALNET_WORKER_ARGS=--exec "+script+" --exec-timeout 10m --concurrency 32",
		"LOCALNET_STOP_GRACE=5",
	)
	// Stopped at the end (or on SIGINT/SIGTERM) even when the start fails half way.
	stopNet := undoOnInterrupt(func() { _, _ = n.localnet("stop") })
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := n.localnet("status")
			t.Log(out)
		}
		stopNet()
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
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.trackTip(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return n
}

const (
	// stallLimit is how long the chain may go without a new block before a
	// wait gives up: only a chain that stopped takes that long (blocks come
	// every timeout_commit, about a second on a loaded 2-core machine).
	stallLimit = 90 * time.Second
	// pollInterval is how often waits look at the chain.
	pollInterval = 200 * time.Millisecond
	// txBlocks is how many blocks a broadcast tx may take to be committed.
	txBlocks = 30
)

// trackTip polls the nodes' heights (one node per poll: the first that
// answers) and keeps the highest in tipHeight, and when it grew in tipAt.
func (n *network) trackTip(ctx context.Context) {
	n.tipAt.Store(time.Now().UnixNano())
	for {
		for i := range n.rpc {
			if h := n.height(i); h > 0 {
				if h > n.tipHeight.Load() {
					n.tipHeight.Store(h)
					n.tipAt.Store(time.Now().UnixNano())
				}
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pollInterval):
		}
	}
}

// tip is the highest height seen on any node.
func (n *network) tip() int64 { return n.tipHeight.Load() }

// until polls cond until it holds. It returns an error when the chain has
// committed blocks more blocks since the call without cond holding, or when
// it committed no block at all for stallLimit. Safe from any goroutine.
func (n *network) until(what string, blocks int64, cond func() bool) error {
	start := n.tip()
	for {
		if cond() {
			return nil
		}
		h := n.tip()
		if h >= start+blocks {
			return fmt.Errorf("%s: not within %d blocks (heights %d to %d)", what, blocks, start, h)
		}
		if idle := time.Since(time.Unix(0, n.tipAt.Load())); idle > stallLimit {
			return fmt.Errorf("%s: the chain made no block for %s (height %d)", what, idle.Round(time.Second), h)
		}
		time.Sleep(pollInterval)
	}
}

// waitFor is until for the test goroutine: it fails the test.
func (n *network) waitFor(t *testing.T, what string, blocks int64, cond func() bool) {
	t.Helper()
	require.NoError(t, n.until(what, blocks, cond))
}

// waitHeight waits until the chain is at height h or above.
func (n *network) waitHeight(t *testing.T, h int64) {
	t.Helper()
	n.waitFor(t, fmt.Sprintf("height %d", h), h-n.tip()+1, func() bool { return n.tip() >= h })
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

// proc is one line of `localnet.sh status`; Args is the process's command
// line, read when it is stopped or killed.
type proc struct {
	Name, Role, Home, RPC string
	PID                   int
	Height                string
	Args                  []string
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
func (n *network) kill(name string) proc { return n.signal(name, syscall.SIGKILL) }

// stop stops a process of the status the way an operator does (SIGTERM)
// and waits until it has exited.
func (n *network) stop(name string) proc { return n.signal(name, syscall.SIGTERM) }

func (n *network) signal(name string, sig syscall.Signal) proc {
	n.t.Helper()
	p := n.status()[name]
	require.NotZero(n.t, p.PID, "%s has no PID in the status", name)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
	require.NoError(n.t, err)
	p.Args = strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")[1:]
	require.NoError(n.t, syscall.Kill(p.PID, sig))
	// By the clock, not by blocks: the chain may be halted (an upgrade height).
	require.Eventually(n.t, func() bool { return syscall.Kill(p.PID, 0) != nil }, time.Minute, 100*time.Millisecond,
		"%s (pid %d) did not exit after %s", name, p.PID, sig)
	return p
}

// startMarker is the line restart writes into a process's log.
const startMarker = "restarted by the e2e test"

// waitSubscribed waits until worker name's log shows, after its last
// (re)start, that it subscribed to its assignments.
func (n *network) waitSubscribed(t *testing.T, name string) {
	t.Helper()
	n.waitFor(t, name+" subscribes to its assignments", 60, func() bool {
		bz, _ := os.ReadFile(filepath.Join(n.dir, "logs", name+".log"))
		s := string(bz)
		if i := strings.LastIndex(s, startMarker); i >= 0 {
			s = s[i:]
		}
		return strings.Contains(s, "subscribed to assignments")
	})
}

// restart starts a stopped or killed process again the way an operator
// would, with the command line it had (`repshardd start --home HOME`,
// `repshardd worker run --home HOME` and its flags), recording its PID where
// localnet.sh finds it.
func (n *network) restart(p proc) {
	n.t.Helper()
	args := p.Args
	require.NotEmpty(n.t, args, "%s: no command line recorded", p.Name)
	logf, err := os.OpenFile(filepath.Join(n.dir, "logs", p.Name+".log"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	require.NoError(n.t, err)
	fmt.Fprintf(logf, "\n==== %s: repshardd %s (%s) ====\n", time.Now().UTC().Format(time.RFC3339), strings.Join(args, " "), startMarker)
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
	return n.waitTxJSON(n.cliBroadcast(n.nodeHome(i), fmt.Sprintf("node%d", i), args...))
}

// cliBroadcast runs `repshardd tx ARGS` signed by key from home's keyring
// and returns the hash of the tx CheckTx accepted.
func (n *network) cliBroadcast(home, key string, args ...string) string {
	n.t.Helper()
	full := append([]string{"tx"}, args...)
	full = append(full, "--home", home, "--from", key, "--keyring-backend", "test",
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
	return res.TxHash
}

// waitTxJSON waits until the tx is in a block (through the gRPC tx
// service); it must have succeeded. It returns the tx result as JSON.
func (n *network) waitTxJSON(hash string) map[string]any {
	n.t.Helper()
	res, err := n.waitTx(context.Background(), hash)
	require.NoError(n.t, err)
	require.Zero(n.t, res.TxResponse.Code, "tx %s failed: %s", hash, res.TxResponse.RawLog)
	bz, err := n.cdc.Codec.MarshalJSON(res.TxResponse)
	require.NoError(n.t, err)
	var m map[string]any
	require.NoError(n.t, json.Unmarshal(bz, &m))
	return m
}

// waitTx waits until the tx is in a block, at most txBlocks blocks, and
// returns its result (which may be a failure). Safe from any goroutine.
func (n *network) waitTx(ctx context.Context, hash string) (*txtypes.GetTxResponse, error) {
	var res *txtypes.GetTxResponse
	err := n.until("tx "+hash+" in a block", txBlocks, func() bool {
		r, err := txtypes.NewServiceClient(n.grpcConn).GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		if err != nil {
			return false
		}
		res = r
		return true
	})
	return res, err
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

// waitTerminal waits until every request is finished. It fails when none
// of them finished during progressBlocks blocks: long enough for an
// assignment to expire (assignment_timeout_blocks), be re-assigned and
// complete.
func (n *network) waitTerminal(ids []uint64) map[uint64]deferraltypes.Request {
	n.t.Helper()
	params, err := n.query().Params(context.Background(), &deferraltypes.QueryParamsRequest{})
	require.NoError(n.t, err)
	progressBlocks := 3*int64(params.Params.AssignmentTimeoutBlocks) + 20
	done := map[uint64]deferraltypes.Request{}
	for len(done) < len(ids) {
		before := len(done)
		err := n.until("a request finishes", progressBlocks, func() bool {
			for _, id := range ids {
				if _, ok := done[id]; ok {
					continue
				}
				res, err := n.query().Request(context.Background(), &deferraltypes.QueryRequestRequest{RequestId: id})
				if err == nil && terminal(res.Request.Status) {
					done[id] = res.Request
				}
			}
			return len(done) > before
		})
		if err != nil {
			var open []string
			for _, id := range ids {
				if _, ok := done[id]; !ok {
					open = append(open, fmt.Sprintf("%d:%s", id, n.request(id).Status))
				}
			}
			n.t.Fatalf("%d of %d requests not finished, no progress: %v: %v", len(open), len(ids), err, open[:min(len(open), 20)])
		}
	}
	return done
}

func terminal(s deferraltypes.RequestStatus) bool {
	switch s {
	case deferraltypes.StatusCompleted, deferraltypes.StatusFailed, deferraltypes.StatusExpired, deferraltypes.StatusCancelled:
		return true
	}
	return false
}
