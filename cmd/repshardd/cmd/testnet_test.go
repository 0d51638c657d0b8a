package cmd_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cosmossdk.io/log"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/p2p"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/viper"

	"github.com/cosmos/cosmos-sdk/baseapp"
	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/cmd/repshardd/cmd"
	"github.com/repshard/repshard/internal/chaincfg"
)

// runRepshardd runs the repshardd root command with args, with HOME and
// --home pointed into the test's temp folders.
func runRepshardd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(args, "--home", t.TempDir()))
	err := svrcmd.Execute(root, "", t.TempDir())
	return out.String(), err
}

func readToml(t *testing.T, path string) *viper.Viper {
	t.Helper()
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return v
}

func TestTestnetInitFilesSingleHost(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	stdout, err := runRepshardd(t, "testnet", "init-files", "-n", "2", "--single-host", "-o", out)
	if err != nil {
		t.Fatalf("testnet init-files: %v\n%s", err, stdout)
	}

	homes := []string{filepath.Join(out, "node0", "repshardd"), filepath.Join(out, "node1", "repshardd")}
	for _, home := range homes {
		for _, f := range []string{
			"config/genesis.json", "config/config.toml", "config/app.toml", "config/client.toml",
			"config/node_key.json", "config/priv_validator_key.json", "data/priv_validator_state.json",
			"key_seed.json", "keyring-test/" + filepath.Base(filepath.Dir(home)) + ".info",
		} {
			if _, err := os.Stat(filepath.Join(home, f)); err != nil {
				t.Errorf("missing %s: %v", f, err)
			}
		}
	}
	for _, f := range []string{"gentxs/node0.json", "gentxs/node1.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every node has the same genesis.
	gen0, err := os.ReadFile(filepath.Join(homes[0], "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	gen1, err := os.ReadFile(filepath.Join(homes[1], "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gen0, gen1) {
		t.Fatal("the two nodes have different genesis files")
	}

	// The genesis validates: the CometBFT part, every module (gentxs
	// included) and, for real, InitChain of the app.
	appGen, err := genutiltypes.AppGenesisFromFile(filepath.Join(homes[0], "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := appGen.ValidateAndComplete(); err != nil {
		t.Fatalf("app genesis: %v", err)
	}
	if appGen.ChainID != chaincfg.DefaultChainID {
		t.Errorf("chain id %q, want %q", appGen.ChainID, chaincfg.DefaultChainID)
	}
	genState, err := genutiltypes.GenesisStateFromAppGenesis(appGen)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()),
		baseapp.SetChainID(appGen.ChainID))
	if err := a.BasicModuleManager.ValidateGenesis(a.AppCodec(), a.TxConfig(), genState); err != nil {
		t.Fatalf("genesis validation: %v", err)
	}
	var genutilState genutiltypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(genState[genutiltypes.ModuleName], &genutilState)
	if len(genutilState.GenTxs) != 2 {
		t.Errorf("%d gentxs in genesis, want 2", len(genutilState.GenTxs))
	}

	var gov govv1.GenesisState
	a.AppCodec().MustUnmarshalJSON(genState[govtypes.ModuleName], &gov)
	if *gov.Params.VotingPeriod != 20*time.Second || *gov.Params.ExpeditedVotingPeriod != 10*time.Second {
		t.Errorf("gov periods %s / %s, want 20s / 10s", gov.Params.VotingPeriod, gov.Params.ExpeditedVotingPeriod)
	}

	consensusParams := appGen.Consensus.Params.ToProto()
	res, err := a.InitChain(&abci.RequestInitChain{
		Time:            appGen.GenesisTime,
		ChainId:         appGen.ChainID,
		ConsensusParams: &consensusParams,
		AppStateBytes:   appGen.AppState,
		InitialHeight:   appGen.InitialHeight,
	})
	if err != nil {
		t.Fatalf("InitChain: %v", err)
	}
	if len(res.Validators) != 2 {
		t.Errorf("InitChain returned %d validators, want 2", len(res.Validators))
	}

	// Distinct ports, each node the other's persistent peer.
	type nodeInfo struct {
		id                              string
		p2p, rpc, abci, api, grpc, node string
		peers                           string
	}
	nodes := make([]nodeInfo, len(homes))
	for i, home := range homes {
		key, err := p2p.LoadNodeKey(filepath.Join(home, "config", "node_key.json"))
		if err != nil {
			t.Fatal(err)
		}
		cmtToml := readToml(t, filepath.Join(home, "config", "config.toml"))
		appToml := readToml(t, filepath.Join(home, "config", "app.toml"))
		clientToml := readToml(t, filepath.Join(home, "config", "client.toml"))
		nodes[i] = nodeInfo{
			id:    string(key.ID()),
			p2p:   cmtToml.GetString("p2p.laddr"),
			rpc:   cmtToml.GetString("rpc.laddr"),
			abci:  cmtToml.GetString("proxy_app"),
			peers: cmtToml.GetString("p2p.persistent_peers"),
			api:   appToml.GetString("api.address"),
			grpc:  appToml.GetString("grpc.address"),
			node:  clientToml.GetString("node"),
		}
		if !appToml.GetBool("api.enable") || !appToml.GetBool("grpc.enable") {
			t.Errorf("node%d: API and gRPC must be enabled", i)
		}
		if got := appToml.GetString("minimum-gas-prices"); got != "0.001urep" {
			t.Errorf("node%d: minimum-gas-prices %q", i, got)
		}
		if got := clientToml.GetString("chain-id"); got != chaincfg.DefaultChainID {
			t.Errorf("node%d: client.toml chain-id %q", i, got)
		}
		if got := clientToml.GetString("keyring-backend"); got != "test" {
			t.Errorf("node%d: client.toml keyring-backend %q", i, got)
		}
		if !cmtToml.GetBool("p2p.allow_duplicate_ip") {
			t.Errorf("node%d: allow_duplicate_ip must be on for a single host", i)
		}
		if got := cmtToml.GetString("consensus.timeout_commit"); got != "1s" {
			t.Errorf("node%d: timeout_commit %q, want 1s", i, got)
		}
	}

	want := []nodeInfo{
		{p2p: "tcp://127.0.0.1:26656", rpc: "tcp://127.0.0.1:26657", abci: "tcp://127.0.0.1:26658",
			api: "tcp://127.0.0.1:1317", grpc: "127.0.0.1:9090", node: "tcp://127.0.0.1:26657"},
		{p2p: "tcp://127.0.0.1:26756", rpc: "tcp://127.0.0.1:26757", abci: "tcp://127.0.0.1:26758",
			api: "tcp://127.0.0.1:1417", grpc: "127.0.0.1:9190", node: "tcp://127.0.0.1:26757"},
	}
	seen := map[string]bool{}
	for i, n := range nodes {
		w := want[i]
		if n.p2p != w.p2p || n.rpc != w.rpc || n.abci != w.abci || n.api != w.api || n.grpc != w.grpc || n.node != w.node {
			t.Errorf("node%d ports:\n got  %+v\n want %+v", i, n, w)
		}
		for _, addr := range []string{n.p2p, n.rpc, n.abci, n.api, n.grpc} {
			port := addr[strings.LastIndex(addr, ":")+1:]
			if seen[port] {
				t.Errorf("port %s used twice", port)
			}
			seen[port] = true
		}
	}
	if nodes[0].id == nodes[1].id {
		t.Fatal("both nodes have the same node id")
	}
	if want := fmt.Sprintf("%s@127.0.0.1:26756", nodes[1].id); nodes[0].peers != want {
		t.Errorf("node0 persistent peers %q, want %q", nodes[0].peers, want)
	}
	if want := fmt.Sprintf("%s@127.0.0.1:26656", nodes[0].id); nodes[1].peers != want {
		t.Errorf("node1 persistent peers %q, want %q", nodes[1].peers, want)
	}

	// A second run into the same folder refuses to overwrite the network.
	if _, err := runRepshardd(t, "testnet", "init-files", "-n", "2", "--single-host", "-o", out); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Errorf("second init-files into the same folder: err = %v, want 'already exists'", err)
	}
}

func TestTestnetInitFilesMultiHostAndFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	stdout, err := runRepshardd(t, "testnet", "init-files", "-n", "3", "-o", out,
		"--starting-ip-address", "10.0.0.254", "--chain-id", "repshard-test-9",
		"--voting-period", "30s", "--expedited-voting-period", "15s", "--commit-timeout", "500ms")
	if err != nil {
		t.Fatalf("testnet init-files: %v\n%s", err, stdout)
	}
	appGen, err := genutiltypes.AppGenesisFromFile(filepath.Join(out, "node2", "repshardd", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if appGen.ChainID != "repshard-test-9" {
		t.Errorf("chain id %q", appGen.ChainID)
	}
	cmtToml := readToml(t, filepath.Join(out, "node0", "repshardd", "config", "config.toml"))
	peers := cmtToml.GetString("p2p.persistent_peers")
	// node0 peers with node1 and node2, on the next IPs (carrying into the next octet), default port.
	if !strings.Contains(peers, "@10.0.0.255:26656") || !strings.Contains(peers, "@10.0.1.0:26656") || strings.Count(peers, ",") != 1 {
		t.Errorf("node0 persistent peers %q", peers)
	}
	if got := cmtToml.GetString("p2p.laddr"); got != "tcp://0.0.0.0:26656" {
		t.Errorf("p2p.laddr %q", got)
	}
	if got := cmtToml.GetString("consensus.timeout_commit"); got != "500ms" {
		t.Errorf("timeout_commit %q", got)
	}

	for _, bad := range [][]string{
		{"-n", "0"},
		{"--expedited-voting-period", "30s"},
		{"--minimum-gas-prices", "nonsense!"},
		{"--self-delegation", "1000"},
		{"--single-host", "-n", "51"},
		{"--starting-ip-address", "not-an-ip"},
	} {
		args := append([]string{"testnet", "init-files", "-o", filepath.Join(t.TempDir(), "bad")}, bad...)
		if _, err := runRepshardd(t, args...); err == nil {
			t.Errorf("init-files %v: want an error", bad)
		}
	}
}

// runRepsharddAt runs the repshardd root command with args against the
// given home folder (runRepshardd uses a throwaway one).
func runRepsharddAt(t *testing.T, home string, args ...string) (string, error) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append(args, "--home", home))
	err := svrcmd.Execute(root, "", home)
	return out.String(), err
}

// The generated genesis carries the full bank supply (the sum of the
// validators' balances), so an account added afterwards with
// `genesis add-genesis-account` — as operators and the system tests do —
// yields a genesis whose supply matches its balances, and InitChain accepts
// it with the new account funded.
func TestTestnetInitFilesSupplyAllowsAddGenesisAccount(t *testing.T) {
	out := filepath.Join(t.TempDir(), "net")
	if stdout, err := runRepshardd(t, "testnet", "init-files", "-n", "2", "--single-host", "-o", out,
		"--validator-balance", "7000000000", "--self-delegation", "1000000"); err != nil {
		t.Fatalf("testnet init-files: %v\n%s", err, stdout)
	}
	home := filepath.Join(out, "node0", "repshardd")
	genesisPath := filepath.Join(home, "config", "genesis.json")
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()),
		baseapp.SetChainID(chaincfg.DefaultChainID))

	bankState := func() banktypes.GenesisState {
		t.Helper()
		appGen, err := genutiltypes.AppGenesisFromFile(genesisPath)
		if err != nil {
			t.Fatal(err)
		}
		genState, err := genutiltypes.GenesisStateFromAppGenesis(appGen)
		if err != nil {
			t.Fatal(err)
		}
		var bank banktypes.GenesisState
		a.AppCodec().MustUnmarshalJSON(genState[banktypes.ModuleName], &bank)
		return bank
	}
	if got, want := bankState().Supply.String(), "14000000000urep"; got != want {
		t.Fatalf("init-files supply %q, want %q (two validators of 7000000000urep)", got, want)
	}

	added := sdk.AccAddress(bytes.Repeat([]byte{7}, 20)).String()
	if stdout, err := runRepsharddAt(t, home, "genesis", "add-genesis-account", added, "5000urep,3foo"); err != nil {
		t.Fatalf("genesis add-genesis-account: %v\n%s", err, stdout)
	}
	bank := bankState()
	if got, want := bank.Supply.String(), "3foo,14000005000urep"; got != want {
		t.Fatalf("supply after add-genesis-account %q, want %q", got, want)
	}

	appGen, err := genutiltypes.AppGenesisFromFile(genesisPath)
	if err != nil {
		t.Fatal(err)
	}
	consensusParams := appGen.Consensus.Params.ToProto()
	if _, err := a.InitChain(&abci.RequestInitChain{
		Time: appGen.GenesisTime, ChainId: appGen.ChainID, ConsensusParams: &consensusParams,
		AppStateBytes: appGen.AppState, InitialHeight: appGen.InitialHeight,
	}); err != nil {
		t.Fatalf("InitChain after add-genesis-account: %v", err)
	}
	if _, err := a.FinalizeBlock(&abci.RequestFinalizeBlock{Height: appGen.InitialHeight}); err != nil {
		t.Fatalf("first block: %v", err)
	}
	ctx := a.NewUncachedContext(false, cmtproto.Header{Height: appGen.InitialHeight, ChainID: appGen.ChainID})
	addr, err := sdk.AccAddressFromBech32(added)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.BankKeeper.GetBalance(ctx, addr, "urep").Amount.Int64(); got != 5000 {
		t.Errorf("added account holds %d urep, want 5000", got)
	}
	if got := a.BankKeeper.GetSupply(ctx, "foo").Amount.Int64(); got != 3 {
		t.Errorf("supply of foo %d, want 3", got)
	}
}
