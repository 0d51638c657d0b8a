//go:build system_test

// Package systemtests holds repshard's system tests: black-box tests of the
// repshardd binary on a real multi-validator testnet on loopback, driven
// through its CLI (and its REST and RPC endpoints) with the Cosmos SDK's
// system-test framework, cosmossdk.io/systemtests. README.md describes how
// to run them; `make test-system` builds the binary and runs them all.
package systemtests

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"cosmossdk.io/systemtests"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// bech32Prefix and denom are the chain's (internal/chaincfg); this module
	// does not link the app, so they are repeated here.
	bech32Prefix = "rep"
	denom        = "urep"

	// defaultPortBase is node0's CometBFT RPC port. Node i listens on the
	// `testnet init-files --single-host` ports shifted by portBase-26657
	// (RPC 31657+100i, P2P 31656+100i, REST 6317+100i, gRPC 14090+100i):
	// clear of a default localnet (26657), of make demo (36657) and of the
	// end-to-end suite (44657), and below Linux's ephemeral port range
	// (32768-60999), so an outgoing connection never takes one of them.
	defaultPortBase = 31657
	cometRPCBase    = 26657 // the RPC port of init-files' node0 without --port-offset (P2P one below, ABCI one above)
	restAPIBase     = 1317
	grpcBase        = 9090
)

var (
	// portOffset is added by `testnet init-files --port-offset` to every port.
	portOffset int
	// txWait bounds the wait for a broadcast tx to be included in a block.
	txWait time.Duration
)

// TestMain is the framework's systemtests.RunTests with this chain's
// settings: the repshardd binary built by `make build`, bech32 prefix rep,
// fees and gas prices in urep, the gov voting periods the tests expect, and
// ports moved by a configurable offset (the framework's are fixed at node0
// RPC 26657).
func TestMain(m *testing.M) {
	binary := flag.String("binary", "../../build/repshardd", "repshardd binary to test (make build writes build/repshardd)")
	chainID := flag.String("chain-id", "repshard-systest-1", "chain id of the test network")
	nodesCount := flag.Int("nodes-count", 4, "number of validators")
	blockTime := flag.Duration("block-time", time.Second, "target block time (timeout_commit is 90% of it)")
	waitTime := flag.Duration("wait-time", 90*time.Second, "the longest wait for a node to start or a tx to be included")
	portBase := flag.Int("port-base", envInt("SYSTEMTEST_PORT_BASE", defaultPortBase),
		"node0's CometBFT RPC port; every port moves with it (env SYSTEMTEST_PORT_BASE)")
	flag.BoolVar(&systemtests.Verbose, "verbose", false, "print the commands run and the chain's output")
	flag.Parse()

	portOffset = *portBase - cometRPCBase
	if portOffset < 1024-restAPIBase {
		fmt.Fprintf(os.Stderr, "systemtests: -port-base %d puts the REST port below 1024\n", *portBase)
		os.Exit(2)
	}
	txWait = *waitTime

	if err := portsFree(*nodesCount); err != nil {
		fmt.Fprintf(os.Stderr, "systemtests: %v\n", err)
		os.Exit(2)
	}

	workDir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	systemtests.WorkDir = workDir
	systemtests.DefaultWaitTime = *waitTime
	binPath, err := filepath.Abs(*binary)
	if err != nil {
		panic(err)
	}
	if _, err := os.Stat(binPath); err != nil {
		fmt.Fprintf(os.Stderr, "systemtests: no repshardd binary at %s (run `make build` at the repo root): %v\n", binPath, err)
		os.Exit(2)
	}

	// Addresses are rep1…, and the framework's default fee ("1"+bond denom)
	// and minimum gas price (0.000001 bond denom) are in urep.
	cfg := sdk.GetConfig()
	cfg.SetBech32PrefixForAccount(bech32Prefix, bech32Prefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForValidator(bech32Prefix+"valoper", bech32Prefix+"valoperpub")
	cfg.SetBech32PrefixForConsensusNode(bech32Prefix+"valcons", bech32Prefix+"valconspub")
	sdk.DefaultBondDenom = denom
	// The framework reads the REST port from here when it builds the SUT.
	systemtests.DefaultApiPort = restAPIBase + portOffset

	// The name gives the node home folder (testnet/node<i>/repshardd); the
	// binary itself is the one built at the repo root.
	sut := systemtests.NewSystemUnderTest("repshardd", systemtests.Verbose, *nodesCount, *blockTime, *chainID)
	sut.SetExecBinary(binPath)
	sut.SetTestnetInitializer(testnetInitializer{
		inner: systemtests.InitializerWithBinary(binPath, sut),
		extra: []string{
			"--port-offset=" + strconv.Itoa(portOffset),
			"--voting-period=" + votingPeriod.String(),
			"--expedited-voting-period=" + (votingPeriod / 2).String(),
		},
	})
	setCometRPCAddr(sut, fmt.Sprintf("tcp://127.0.0.1:%d", *portBase))
	systemtests.Sut = sut
	sut.SetupChain()

	code := m.Run()

	sut.StopChain()
	if systemtests.Verbose || code != 0 {
		sut.PrintBuffer()
	}
	os.Exit(code)
}

// votingPeriod is the gov voting period of the test network. The tests send
// the votes in the tx that opens the voting period (depositAndVote), so it
// needs no margin for a slow CLI: it only makes a proposal test wait.
const votingPeriod = 10 * time.Second

// testnetInitializer runs the framework's `testnet init-files --single-host`
// with this suite's extra flags (later flags win over the framework's).
type testnetInitializer struct {
	inner systemtests.TestnetInitializer
	extra []string
}

func (i testnetInitializer) Initialize(xargs ...string) {
	i.inner.Initialize(append(append([]string{}, i.extra...), xargs...)...)
}

// setCometRPCAddr points the framework at node0's RPC port. The framework
// (v1.4.0) fixes it at tcp://localhost:26657 in an unexported field with no
// setter; this writes that field. The field's presence is checked, so a
// framework version without it fails here, at once, instead of sending the
// tests to whatever listens on 26657.
func setCometRPCAddr(sut *systemtests.SystemUnderTest, addr string) {
	f := reflect.ValueOf(sut).Elem().FieldByName("rpcAddr")
	if !f.IsValid() || f.Kind() != reflect.String {
		panic("systemtests.SystemUnderTest has no string field rpcAddr: the framework changed, update setCometRPCAddr")
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().SetString(addr)
}

// portsFree checks that no process listens on a port of the test network
// (another testnet, or nodes left over from a run that was killed), so a
// collision fails here, with the port named, and not as a node that cannot
// start or a test talking to someone else's chain.
func portsFree(nodes int) error {
	for i := range nodes {
		for _, base := range []int{cometRPCBase - 1, cometRPCBase, cometRPCBase + 1, restAPIBase, grpcBase} {
			port := base + portOffset + 100*i
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				return fmt.Errorf("port %d (node%d) is taken: %v; stop what holds it (`ss -ltnp 'sport = :%d'`: "+
					"repshardd nodes of a killed run?) or choose other ports with SYSTEMTEST_PORT_BASE", port, i, err, port)
			}
			_ = l.Close()
		}
	}
	return nil
}

// envInt reads an integer from the environment, or def when unset.
func envInt(name string, def int) int {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "systemtests: %s=%q is not a number\n", name, v)
		os.Exit(2)
	}
	return n
}
