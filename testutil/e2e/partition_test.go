//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"
)

// firewall closes TCP ports on the loopback interface with iptables: one
// chain of its own (REPSHARD-E2E-<pid>) jumped to from INPUT, removed when
// the test ends, whatever its outcome. Every packet to or from a closed port
// is dropped, as on a network link that went dark, and the connections
// through it are cut (ss -K): both ends see them fail at once, and no dead
// connection is left to block a new one when the port opens. It needs root,
// iptables and ss (scripts/e2e-prereqs.sh checks them and installs
// iptables).
type firewall struct {
	t     *testing.T
	chain string
}

func newFirewall(t *testing.T) *firewall {
	t.Helper()
	for _, tool := range []string{"iptables", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the partition scenario needs %s (and root): run scripts/e2e-prereqs.sh, or set E2E_SKIP_PARTITION=1 to skip it", tool)
		}
	}
	removeStaleChains(t)
	f := &firewall{t: t, chain: fmt.Sprintf("%s%d", chainPrefix, os.Getpid())}
	f.run("-N", f.chain)
	t.Cleanup(undoOnInterrupt(func() { removeChain(f.chain) }))
	f.run("-I", "INPUT", "-j", f.chain)
	return f
}

// chainPrefix starts the name of every chain the suite creates; the rest is
// the test process's id.
const chainPrefix = "REPSHARD-E2E-"

// removeChain unhooks, empties and deletes a chain (best effort).
func removeChain(chain string) {
	for _, args := range [][]string{{"-D", "INPUT", "-j", chain}, {"-F", chain}, {"-X", chain}} {
		_ = exec.Command("iptables", append([]string{"-w"}, args...)...).Run()
	}
}

// removeStaleChains removes the chains of suites whose process is gone
// (killed with SIGKILL, which no cleanup survives), so a port they closed
// does not stay closed.
func removeStaleChains(t *testing.T) {
	out, err := exec.Command("iptables", "-w", "-S").Output()
	require.NoError(t, err)
	for _, line := range strings.Split(string(out), "\n") {
		chain, ok := strings.CutPrefix(line, "-N "+chainPrefix)
		if !ok {
			continue
		}
		if pid, err := strconv.Atoi(chain); err == nil && syscall.Kill(pid, 0) != nil {
			t.Logf("removing the firewall chain %s%s of a suite that is gone", chainPrefix, chain)
			removeChain(chainPrefix + chain)
		}
	}
}

func (f *firewall) iptables(args ...string) error {
	out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func (f *firewall) run(args ...string) {
	f.t.Helper()
	require.NoError(f.t, f.iptables(args...))
}

// closePort drops every loopback TCP packet to or from port, then cuts the
// TCP connections through it.
func (f *firewall) closePort(port int) {
	f.t.Helper()
	for _, dir := range []string{"--dport", "--sport"} {
		f.run("-A", f.chain, "-i", "lo", "-p", "tcp", dir, fmt.Sprint(port), "-j", "DROP")
	}
	filter := fmt.Sprintf("( sport = :%d or dport = :%d )", port, port)
	out, err := exec.Command("ss", "-K", "-t", "-n", filter).CombinedOutput()
	require.NoError(f.t, err, "ss -K %s: %s", filter, out)
}

// openAll removes every rule of the chain.
func (f *firewall) openAll() {
	f.t.Helper()
	f.run("-F", f.chain)
}

// setTOML sets key = value (value as TOML) in [section] of a TOML file whose
// key is already there.
func setTOML(t *testing.T, file, section, key, value string) {
	t.Helper()
	bz, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := strings.Split(string(bz), "\n")
	current, done := "", false
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			current = strings.Trim(trimmed, "[]")
			continue
		}
		if current == section && !done && (strings.HasPrefix(trimmed, key+" ") || strings.HasPrefix(trimmed, key+"=")) {
			lines[i] = key + " = " + value
			done = true
		}
	}
	require.True(t, done, "%s: no %s in [%s]", file, key, section)
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644))
}

// peers is how many peers node i is connected to (-1 when it does not answer).
func (n *network) peers(i int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ni, err := n.rpc[i].NetInfo(ctx)
	if err != nil {
		return -1
	}
	return ni.NPeers
}

// 7. A validator cut off from its peers: the firewall closes its P2P port
// while the other three go on committing blocks without it; when the port
// opens again it catches up and has the same app hash at the same height,
// and votes again.
//
// On one host every node's address is 127.0.0.1, so a connection is known
// by its ports only: one that the cut-off node dialed would run from an
// ephemeral port of its own to a peer's P2P port, indistinguishable from the
// other nodes' connections. So first the node is set to accept its peers
// instead of dialing them (no persistent_peers, no peer exchange; the others
// keep dialing it): then every connection it has runs through its P2P port.
func testPartition(t *testing.T, n *network) {
	if os.Getenv("E2E_SKIP_PARTITION") == "1" {
		t.Skip("E2E_SKIP_PARTITION=1")
	}
	fw := newFirewall(t)
	const cut = 3
	name := fmt.Sprintf("node%d", cut)
	cfg := filepath.Join(n.nodeHome(cut), "config", "config.toml")
	p2pPort := rpcBase - 1 + n.offset + 100*cut

	p := n.stop(name)
	setTOML(t, cfg, "p2p", "persistent_peers", `""`)
	setTOML(t, cfg, "p2p", "pex", "false")
	n.restart(p)
	target := n.tip()
	n.waitFor(t, name+" back with its 3 peers dialing it", 60, func() bool {
		return n.peers(cut) == nodes-1 && n.height(cut) >= target
	})
	val := n.validatorAddress(t, cut)

	fw.closePort(p2pPort)
	cutAt := n.liveTip(0, 1, 2, cut)
	stuck := n.height(cut)
	t.Logf("%s's P2P port %d closed at height %d (its own height %d)", name, p2pPort, cutAt, stuck)
	n.waitFor(t, name+" without peers", txBlocks, func() bool { return n.peers(cut) == 0 })

	// The others commit blocks without its vote (from cutAt+4 on, as in the
	// validator kill); it commits none past the one it may have had every
	// vote for when the port closed.
	const window = 10
	n.waitHeight(t, cutAt+4+window)
	n.checkSignedWithout(t, 0, val, cutAt+4, cutAt+4+window)
	behind := n.height(cut)
	require.LessOrEqual(t, behind, stuck+1, "%s committed blocks while cut off", name)
	require.Zero(t, n.peers(cut), "%s has peers while cut off", name)
	t.Logf("the other three reached height %d; %s stayed at %d, without peers", n.height(0), name, behind)

	// Rejoin: the others dial it again (a persistent peer is redialed every
	// few seconds), it catches up.
	fw.openAll()
	healed, target := time.Now(), n.tip()
	n.waitFor(t, name+" catches up", 60, func() bool { return n.height(cut) >= target })
	t.Logf("%s at height %d (the tip when the port opened) after %s", name, target, time.Since(healed).Round(100*time.Millisecond))
	h := n.sameAppHash(0, 1, 2, cut)
	t.Logf("all 4 nodes: same app hash at height %d", h)

	// And it is a voting validator again: a block from now on carries its vote.
	from := n.tip() + 1
	var signedIn int64
	n.waitFor(t, name+" votes again", 30, func() bool {
		for h := from; h <= n.tip(); h++ {
			b, err := n.rpc[0].Block(context.Background(), &h)
			if err != nil {
				return false
			}
			for _, sig := range b.Block.LastCommit.Signatures {
				if bytes.Equal(sig.ValidatorAddress, val) && sig.BlockIDFlag == cmttypes.BlockIDFlagCommit {
					signedIn = h
					return true
				}
			}
		}
		return false
	})
	t.Logf("%s's vote is in block %d", name, signedIn)
}
