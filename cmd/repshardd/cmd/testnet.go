package cmd

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/server"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/repshard/repshard/internal/chaincfg"
)

// Flags of `testnet init-files`.
const (
	flagValidatorCount        = "validator-count"
	flagOutputDir             = "output-dir"
	flagNodeDirPrefix         = "node-dir-prefix"
	flagNodeDaemonHome        = "node-daemon-home"
	flagStartingIPAddress     = "starting-ip-address"
	flagSingleHost            = "single-host"
	flagCommitTimeout         = "commit-timeout"
	flagAlgo                  = "algo"
	flagVotingPeriod          = "voting-period"
	flagExpeditedVotingPeriod = "expedited-voting-period"
	flagValidatorBalance      = "validator-balance"
	flagSelfDelegation        = "self-delegation"
	flagPortOffset            = "port-offset"
)

// Port scheme of a testnet. Node i uses base+portStride*i in --single-host
// mode and the base port itself (on its own IP address) otherwise.
const (
	portStride         = 100
	basePortP2P        = 26656
	basePortRPC        = 26657
	basePortABCI       = 26658
	basePortPrometheus = 26660
	basePortAPI        = 1317
	basePortGRPC       = 9090

	// maxSingleHostNodes keeps every port family of --single-host inside its
	// own band (API 1317..6217 stays below gRPC 9090.., gRPC below 26656..).
	maxSingleHostNodes = 50
	// maxNodes bounds the multi-host mode (one IP address per node).
	maxNodes = 1000
)

const testnetLong = `Write the configuration, keys and a shared genesis of a local repshard
testnet of N validators, one home folder per node:

  <output-dir>/<node-dir-prefix><i>/<node-daemon-home>/
      config/genesis.json          the same file in every node, with all gentxs collected
      config/config.toml           CometBFT: ports, persistent peers, commit timeout
      config/app.toml              app: minimum gas prices, REST API and gRPC on
      config/client.toml           CLI: chain id, this node's RPC, keyring backend, default key
      config/node_key.json         p2p identity
      config/priv_validator_key.json
      keyring-<backend>/           the validator's account key, named <node-dir-prefix><i>
      key_seed.json                that key's mnemonic (keep it out of real deployments)
  <output-dir>/gentxs/             the signed MsgCreateValidator of every node

Each validator account is funded in genesis with --validator-balance and bonds
--self-delegation through its gentx. The gov voting periods are shortened
(--voting-period, --expedited-voting-period) so governance demos finish in
seconds; every other parameter keeps the chain's defaults.

Ports. With --single-host every node listens on 127.0.0.1 and node i adds
100*i to each default port:

  service            node0    node1    node2    node i
  P2P                26656    26756    26856    26656 + 100*i
  RPC (CometBFT)     26657    26757    26857    26657 + 100*i
  ABCI proxy         26658    26758    26858    26658 + 100*i
  Prometheus         26660    26760    26860    26660 + 100*i   (off unless enabled)
  REST API           1317     1417     1517     1317  + 100*i
  gRPC               9090     9190     9290     9090  + 100*i

(at most 50 nodes, so the bands never overlap). --port-offset N adds N to
every port (e.g. 10000: node0's RPC on 36657), so two testnets can run on one
host. Without --single-host node i
gets the IP address --starting-ip-address + i and the default ports above,
listening on all interfaces (one host or container per node).

Start a node with: repshardd start --home <output-dir>/node0/repshardd
scripts/localnet.sh does all of this for N nodes on loopback.`

// NewTestnetCmd returns the `testnet` command, whose subcommand init-files
// writes the files of a multi-validator local network.
func NewTestnetCmd(mbm module.BasicManager, genBalIterator banktypes.GenesisBalancesIterator) *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "testnet",
		Short:                      "Tools for local multi-validator test networks",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(testnetInitFilesCmd(mbm, genBalIterator))
	return cmd
}

// testnetArgs are the parsed flags of init-files.
type testnetArgs struct {
	numValidators         int
	outputDir             string
	chainID               string
	keyringBackend        string
	minGasPrices          string
	nodeDirPrefix         string
	nodeDaemonHome        string
	startingIP            string
	singleHost            bool
	commitTimeout         time.Duration
	portOffset            int
	algo                  string
	votingPeriod          time.Duration
	expeditedVotingPeriod time.Duration
	validatorBalance      sdkmath.Int
	selfDelegation        sdkmath.Int
	blockMaxGas           int64
}

func testnetInitFilesCmd(mbm module.BasicManager, genBalIterator banktypes.GenesisBalancesIterator) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init-files",
		Short: "Write the home folders and shared genesis of an N-validator testnet",
		Long:  testnetLong,
		Example: `  repshardd testnet init-files -n 4 --single-host -o ./.localnet
  repshardd testnet init-files -n 4 -o ./testnet --starting-ip-address 192.168.10.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clientCtx := client.GetClientContextFromCmd(cmd)
			if clientCtx.Codec == nil || clientCtx.TxConfig == nil {
				return errors.New("testnet init-files: the client context has no codec or tx config")
			}
			args, err := readTestnetArgs(cmd)
			if err != nil {
				return err
			}
			nodes, err := initTestnetFiles(cmd, clientCtx, mbm, genBalIterator, args)
			if err != nil {
				return err
			}
			printTestnetSummary(cmd, args, nodes)
			return nil
		},
	}

	f := cmd.Flags()
	f.IntP(flagValidatorCount, "n", 4, "number of validators (nodes) to initialize")
	f.StringP(flagOutputDir, "o", "./.testnets", "folder that receives the node home folders and gentxs")
	f.String(flags.FlagChainID, chaincfg.DefaultChainID, "chain id of the network")
	f.String(flags.FlagKeyringBackend, keyring.BackendTest, "keyring backend of the validator keys (os|file|test)")
	f.String(server.FlagMinGasPrices, defaultMinGasPrices, "minimum gas prices written to each node's app.toml")
	f.String(flagNodeDirPrefix, "node", "prefix of the node folder names and monikers (node0, node1, ...)")
	f.String(flagNodeDaemonHome, "repshardd", "name of the daemon home folder inside each node folder")
	f.String(flagStartingIPAddress, "192.168.0.1", "IP address of node0 without --single-host; node i gets this address + i")
	f.Bool(flagSingleHost, false, "run every node on 127.0.0.1 with ports offset by 100*i (see the port table above)")
	f.Duration(flagCommitTimeout, time.Second, "CometBFT timeout_commit, the pause between blocks")
	f.String(flagAlgo, string(hd.Secp256k1Type), "key signing algorithm of the validator accounts")
	f.Duration(flagVotingPeriod, 20*time.Second, "gov voting_period in the generated genesis")
	f.Int64(flagBlockMaxGas, DefaultBlockMaxGas, "block gas limit (consensus param block.max_gas) of the generated genesis; -1 for none")
	f.Duration(flagExpeditedVotingPeriod, 10*time.Second, "gov expedited_voting_period in the generated genesis (below --voting-period)")
	f.String(flagValidatorBalance, "1000000000000", "genesis balance of each validator account, in the bond denom (urep)")
	f.String(flagSelfDelegation, "100000000000", "amount each validator bonds in its gentx, in the bond denom (urep)")
	f.Int(flagPortOffset, 0, "added to every port of every node (e.g. 10000: node0 RPC on 36657), so two testnets can share a host")
	return cmd
}

func readTestnetArgs(cmd *cobra.Command) (testnetArgs, error) {
	f := cmd.Flags()
	var a testnetArgs
	var err error
	get := func(fn func() error) {
		if err == nil {
			err = fn()
		}
	}
	get(func() (e error) { a.numValidators, e = f.GetInt(flagValidatorCount); return })
	get(func() (e error) { a.outputDir, e = f.GetString(flagOutputDir); return })
	get(func() (e error) { a.chainID, e = f.GetString(flags.FlagChainID); return })
	get(func() (e error) { a.keyringBackend, e = f.GetString(flags.FlagKeyringBackend); return })
	get(func() (e error) { a.minGasPrices, e = f.GetString(server.FlagMinGasPrices); return })
	get(func() (e error) { a.nodeDirPrefix, e = f.GetString(flagNodeDirPrefix); return })
	get(func() (e error) { a.nodeDaemonHome, e = f.GetString(flagNodeDaemonHome); return })
	get(func() (e error) { a.startingIP, e = f.GetString(flagStartingIPAddress); return })
	get(func() (e error) { a.singleHost, e = f.GetBool(flagSingleHost); return })
	get(func() (e error) { a.commitTimeout, e = f.GetDuration(flagCommitTimeout); return })
	get(func() (e error) { a.portOffset, e = f.GetInt(flagPortOffset); return })
	get(func() (e error) { a.algo, e = f.GetString(flagAlgo); return })
	get(func() (e error) { a.votingPeriod, e = f.GetDuration(flagVotingPeriod); return })
	get(func() (e error) { a.expeditedVotingPeriod, e = f.GetDuration(flagExpeditedVotingPeriod); return })
	get(func() (e error) { a.blockMaxGas, e = f.GetInt64(flagBlockMaxGas); return })
	var balance, bond string
	get(func() (e error) { balance, e = f.GetString(flagValidatorBalance); return })
	get(func() (e error) { bond, e = f.GetString(flagSelfDelegation); return })
	if err != nil {
		return a, err
	}

	var ok bool
	if a.validatorBalance, ok = sdkmath.NewIntFromString(balance); !ok || !a.validatorBalance.IsPositive() {
		return a, fmt.Errorf("--%s must be a positive integer amount, got %q", flagValidatorBalance, balance)
	}
	if a.selfDelegation, ok = sdkmath.NewIntFromString(bond); !ok || !a.selfDelegation.IsPositive() {
		return a, fmt.Errorf("--%s must be a positive integer amount, got %q", flagSelfDelegation, bond)
	}
	return a, a.validate()
}

func (a testnetArgs) validate() error {
	switch {
	case a.numValidators < 1:
		return fmt.Errorf("--%s must be at least 1, got %d", flagValidatorCount, a.numValidators)
	case a.singleHost && a.numValidators > maxSingleHostNodes:
		return fmt.Errorf("--%s: at most %d nodes with --%s (ports are spaced by %d), got %d",
			flagValidatorCount, maxSingleHostNodes, flagSingleHost, portStride, a.numValidators)
	case a.numValidators > maxNodes:
		return fmt.Errorf("--%s: at most %d nodes, got %d", flagValidatorCount, maxNodes, a.numValidators)
	case strings.TrimSpace(a.chainID) == "":
		return fmt.Errorf("--%s must not be empty", flags.FlagChainID)
	case a.outputDir == "":
		return fmt.Errorf("--%s must not be empty", flagOutputDir)
	case a.nodeDirPrefix == "" || strings.ContainsAny(a.nodeDirPrefix, `/\`):
		return fmt.Errorf("--%s must be a non-empty folder name, got %q", flagNodeDirPrefix, a.nodeDirPrefix)
	case a.nodeDaemonHome == "" || strings.ContainsAny(a.nodeDaemonHome, `/\`):
		return fmt.Errorf("--%s must be a non-empty folder name, got %q", flagNodeDaemonHome, a.nodeDaemonHome)
	case basePortAPI+a.portOffset < 1024 ||
		basePortPrometheus+a.portOffset+portStride*(a.numValidators-1) > 65535:
		return fmt.Errorf("--%s %d puts ports outside 1024..65535", flagPortOffset, a.portOffset)
	case a.blockMaxGas == 0 || a.blockMaxGas < -1:
		return fmt.Errorf("--%s must be -1 (no limit) or positive, got %d", flagBlockMaxGas, a.blockMaxGas)
	case a.commitTimeout <= 0:
		return fmt.Errorf("--%s must be positive, got %s", flagCommitTimeout, a.commitTimeout)
	case a.votingPeriod <= 0 || a.expeditedVotingPeriod <= 0:
		return fmt.Errorf("--%s and --%s must be positive", flagVotingPeriod, flagExpeditedVotingPeriod)
	case a.expeditedVotingPeriod >= a.votingPeriod:
		return fmt.Errorf("--%s (%s) must be shorter than --%s (%s)",
			flagExpeditedVotingPeriod, a.expeditedVotingPeriod, flagVotingPeriod, a.votingPeriod)
	case a.selfDelegation.LT(sdk.DefaultPowerReduction):
		return fmt.Errorf("--%s must be at least %s (one unit of consensus power)", flagSelfDelegation, sdk.DefaultPowerReduction)
	case a.selfDelegation.GT(a.validatorBalance):
		return fmt.Errorf("--%s (%s) exceeds --%s (%s)", flagSelfDelegation, a.selfDelegation, flagValidatorBalance, a.validatorBalance)
	}
	if _, err := sdk.ParseDecCoins(a.minGasPrices); err != nil {
		return fmt.Errorf("--%s: %w", server.FlagMinGasPrices, err)
	}
	if !a.singleHost {
		if _, err := nodeIP(a.startingIP, a.numValidators-1); err != nil {
			return err
		}
	}
	return nil
}

// testnetNode is one node of the generated network.
type testnetNode struct {
	name     string // folder name, moniker and key name
	home     string
	nodeID   string
	ip       string // address peers dial
	listenIP string // address the servers bind
	offset   int    // port offset (100*i in single-host mode, else 0)
	account  sdk.AccAddress
}

// port is the node's port of a service, from that service's base port.
func (n testnetNode) port(base int) int { return base + n.offset }

// p2pAddr is the id@host:port peers dial, also the memo of the node's gentx.
func (n testnetNode) p2pAddr() string {
	return fmt.Sprintf("%s@%s:%d", n.nodeID, n.ip, n.port(basePortP2P))
}

// rpcListen is the CometBFT RPC listen address of the node.
func (n testnetNode) rpcListen() string {
	return fmt.Sprintf("tcp://%s:%d", n.listenIP, n.port(basePortRPC))
}

// rpcClient is the RPC address a CLI on the node's host dials.
func (n testnetNode) rpcClient() string {
	return fmt.Sprintf("tcp://127.0.0.1:%d", n.port(basePortRPC))
}

func initTestnetFiles(
	cmd *cobra.Command, clientCtx client.Context, mbm module.BasicManager,
	genBalIterator banktypes.GenesisBalancesIterator, args testnetArgs,
) ([]testnetNode, error) {
	cdc := clientCtx.Codec
	txConfig := clientCtx.TxConfig

	outputDir, err := filepath.Abs(args.outputDir)
	if err != nil {
		return nil, err
	}
	gentxsDir := filepath.Join(outputDir, "gentxs")

	// Refuse to mix a new network with the keys of an old one.
	for i := range args.numValidators {
		dir := filepath.Join(outputDir, fmt.Sprintf("%s%d", args.nodeDirPrefix, i))
		if _, err := os.Stat(dir); err == nil {
			return nil, fmt.Errorf("%s already exists: remove %s (or choose another --%s) to write a new testnet", dir, outputDir, flagOutputDir)
		}
	}
	if _, err := os.Stat(gentxsDir); err == nil {
		return nil, fmt.Errorf("%s already exists: remove %s (or choose another --%s) to write a new testnet", gentxsDir, outputDir, flagOutputDir)
	}

	// The default genesis of every module, in which the validators get their
	// accounts and balances and gov its short voting periods.
	genState := mbm.DefaultGenesis(cdc)
	bondDenom, err := genesisBondDenom(cdc, genState)
	if err != nil {
		return nil, err
	}

	inBuf := bufio.NewReader(cmd.InOrStdin())
	nodes := make([]testnetNode, args.numValidators)
	var (
		genAccounts []authtypes.GenesisAccount
		genBalances []banktypes.Balance
	)

	for i := range nodes {
		n := testnetNode{name: fmt.Sprintf("%s%d", args.nodeDirPrefix, i)}
		n.home = filepath.Join(outputDir, n.name, args.nodeDaemonHome)
		if args.singleHost {
			n.ip, n.listenIP, n.offset = "127.0.0.1", "127.0.0.1", portStride*i+args.portOffset
		} else {
			n.offset = args.portOffset
			if n.ip, err = nodeIP(args.startingIP, i); err != nil {
				return nil, err
			}
			n.listenIP = "0.0.0.0"
		}
		for _, sub := range []string{"config", "data"} {
			if err := os.MkdirAll(filepath.Join(n.home, sub), 0o755); err != nil {
				return nil, err
			}
		}

		cmtConfig := testnetCometConfig(n, args)
		nodeID, valPubKey, err := genutil.InitializeNodeValidatorFiles(cmtConfig)
		if err != nil {
			return nil, fmt.Errorf("%s: node key and validator key: %w", n.name, err)
		}
		n.nodeID = nodeID

		// The validator's account key, in this node's keyring.
		kb, err := keyring.New(sdk.KeyringServiceName(), args.keyringBackend, n.home, inBuf, cdc)
		if err != nil {
			return nil, fmt.Errorf("%s: keyring: %w", n.name, err)
		}
		supported, _ := kb.SupportedAlgorithms()
		algo, err := keyring.NewSigningAlgoFromString(args.algo, supported)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flagAlgo, err)
		}
		record, mnemonic, err := kb.NewMnemonic(n.name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, algo)
		if err != nil {
			return nil, fmt.Errorf("%s: new key: %w", n.name, err)
		}
		if n.account, err = record.GetAddress(); err != nil {
			return nil, err
		}
		seed, err := json.MarshalIndent(map[string]string{"name": n.name, "address": n.account.String(), "secret": mnemonic}, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(n.home, "key_seed.json"), seed, 0o600); err != nil {
			return nil, err
		}

		genAccounts = append(genAccounts, authtypes.NewBaseAccount(n.account, nil, 0, 0))
		genBalances = append(genBalances, banktypes.Balance{
			Address: n.account.String(),
			Coins:   sdk.NewCoins(sdk.NewCoin(bondDenom, args.validatorBalance)),
		})

		// The gentx: a signed MsgCreateValidator whose memo is the node's p2p
		// address, as `genesis gentx` writes it.
		if err := writeGentx(cmd, clientCtx, kb, n, valPubKey, bondDenom, args, gentxsDir); err != nil {
			return nil, fmt.Errorf("%s: gentx: %w", n.name, err)
		}

		appConfig := testnetAppConfig(n, args)
		srvconfig.WriteConfigFile(filepath.Join(n.home, "config", "app.toml"), appConfig)
		if err := writeTestnetClientConfig(filepath.Join(n.home, "config", "client.toml"), n, args); err != nil {
			return nil, err
		}
		nodes[i] = n
	}

	if err := addGenesisAccounts(cdc, genState, genAccounts, genBalances); err != nil {
		return nil, err
	}
	if err := shortenGovPeriods(cdc, genState, args); err != nil {
		return nil, err
	}
	appState, err := json.MarshalIndent(genState, "", "  ")
	if err != nil {
		return nil, err
	}
	appGenesis := genutiltypes.NewAppGenesisWithVersion(args.chainID, appState)
	appGenesis.GenesisTime = time.Now().UTC().Truncate(time.Second)

	// Collect the gentxs (this also checks each validator's funds) into the
	// genutil genesis state.
	valAddrCodec := txConfig.SigningContext().ValidatorAddressCodec()
	genTxs, _, err := genutil.CollectTxs(cdc, txConfig.TxJSONDecoder(), "", gentxsDir, appGenesis,
		genBalIterator, genutiltypes.DefaultMessageValidator, valAddrCodec)
	if err != nil {
		return nil, fmt.Errorf("collect gentxs: %w", err)
	}
	if len(genTxs) != len(nodes) {
		return nil, fmt.Errorf("collected %d gentxs for %d validators", len(genTxs), len(nodes))
	}
	genState, err = genutil.SetGenTxsInAppGenesisState(cdc, txConfig.TxJSONEncoder(), genState, genTxs)
	if err != nil {
		return nil, err
	}
	if err := mbm.ValidateGenesis(cdc, txConfig, genState); err != nil {
		return nil, fmt.Errorf("generated genesis is invalid: %w", err)
	}
	if appGenesis.AppState, err = json.MarshalIndent(genState, "", "  "); err != nil {
		return nil, err
	}
	if err := setBlockMaxGas(appGenesis, args.blockMaxGas); err != nil {
		return nil, err
	}
	if err := appGenesis.ValidateAndComplete(); err != nil {
		return nil, err
	}

	// One genesis for all, and each node's config.toml with the others as
	// persistent peers.
	for _, n := range nodes {
		cmtConfig := testnetCometConfig(n, args)
		var peers []string
		for _, p := range nodes {
			if p.nodeID != n.nodeID {
				peers = append(peers, p.p2pAddr())
			}
		}
		cmtConfig.P2P.PersistentPeers = strings.Join(peers, ",")
		cmtcfg.WriteConfigFile(filepath.Join(n.home, "config", "config.toml"), cmtConfig)
		if err := appGenesis.SaveAs(cmtConfig.GenesisFile()); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// testnetCometConfig is the config.toml of node n (without its peers).
func testnetCometConfig(n testnetNode, args testnetArgs) *cmtcfg.Config {
	c := initCometBFTConfig()
	c.SetRoot(n.home)
	c.Moniker = n.name
	c.Consensus.TimeoutCommit = args.commitTimeout
	c.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", n.listenIP, n.port(basePortP2P))
	c.P2P.AddrBookStrict = false // testnets live on private and loopback addresses
	c.P2P.AllowDuplicateIP = args.singleHost
	c.RPC.ListenAddress = n.rpcListen()
	c.ProxyApp = fmt.Sprintf("tcp://127.0.0.1:%d", n.port(basePortABCI))
	c.Instrumentation.PrometheusListenAddr = fmt.Sprintf(":%d", n.port(basePortPrometheus))
	return c
}

// testnetAppConfig is the app.toml of node n.
func testnetAppConfig(n testnetNode, args testnetArgs) *srvconfig.Config {
	_, v := initAppConfig()
	c, ok := v.(srvconfig.Config)
	if !ok {
		c = *srvconfig.DefaultConfig()
	}
	c.MinGasPrices = args.minGasPrices
	c.API.Enable = true
	c.API.Address = fmt.Sprintf("tcp://%s:%d", n.listenIP, n.port(basePortAPI))
	c.GRPC.Enable = true
	c.GRPC.Address = fmt.Sprintf("%s:%d", n.listenIP, n.port(basePortGRPC))
	c.GRPCWeb.Enable = true
	return &c
}

var clientTomlTemplate = template.Must(template.New("client.toml").Parse(`# This is a TOML config file.
# For more information, see https://github.com/toml-lang/toml

###############################################################################
###                           Client Configuration                            ###
###############################################################################

# The network chain ID
chain-id = "{{ .ChainID }}"
# The keyring's backend, where the keys are stored (os|file|kwallet|pass|test|memory)
keyring-backend = "{{ .KeyringBackend }}"
# Default key name, if set, defines the default key to use for signing transaction when the --from flag is not specified
keyring-default-keyname = "{{ .KeyName }}"
# CLI output format (text|json)
output = "text"
# <host>:<port> to CometBFT RPC interface for this chain
node = "{{ .Node }}"
# Transaction broadcasting mode (sync|async)
broadcast-mode = "sync"
`))

// writeTestnetClientConfig writes client.toml so that `repshardd … --home
// <node home>` talks to that node, signs with its validator key by default
// and uses the right chain id.
func writeTestnetClientConfig(path string, n testnetNode, args testnetArgs) error {
	var b strings.Builder
	err := clientTomlTemplate.Execute(&b, map[string]string{
		"ChainID":        args.chainID,
		"KeyringBackend": args.keyringBackend,
		"KeyName":        n.name,
		"Node":           n.rpcClient(),
	})
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func writeGentx(
	cmd *cobra.Command, clientCtx client.Context, kb keyring.Keyring, n testnetNode,
	valPubKey cryptotypes.PubKey, bondDenom string, args testnetArgs, gentxsDir string,
) error {
	msg, err := stakingtypes.NewMsgCreateValidator(
		sdk.ValAddress(n.account).String(),
		valPubKey,
		sdk.NewCoin(bondDenom, args.selfDelegation),
		stakingtypes.NewDescription(n.name, "", "", "", ""),
		stakingtypes.NewCommissionRates(
			sdkmath.LegacyNewDecWithPrec(10, 2), // 10 %
			sdkmath.LegacyNewDecWithPrec(20, 2), // at most 20 %
			sdkmath.LegacyNewDecWithPrec(1, 2),  // at most 1 % change a day
		),
		sdkmath.OneInt(),
	)
	if err != nil {
		return err
	}

	memo := n.p2pAddr()
	txBuilder := clientCtx.TxConfig.NewTxBuilder()
	if err := txBuilder.SetMsgs(msg); err != nil {
		return err
	}
	txBuilder.SetGasLimit(1_000_000)
	txBuilder.SetMemo(memo)

	factory := tx.Factory{}.
		WithChainID(args.chainID).
		WithMemo(memo).
		WithKeybase(kb).
		WithTxConfig(clientCtx.TxConfig)
	if err := tx.Sign(cmd.Context(), factory, n.name, txBuilder, true); err != nil {
		return err
	}
	bz, err := clientCtx.TxConfig.TxJSONEncoder()(txBuilder.GetTx())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(gentxsDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(gentxsDir, n.name+".json"), bz, 0o644)
}

// genesisBondDenom reads the staking bond denom of the default genesis.
func genesisBondDenom(cdc codec.JSONCodec, genState map[string]json.RawMessage) (string, error) {
	var staking stakingtypes.GenesisState
	if err := cdc.UnmarshalJSON(genState[stakingtypes.ModuleName], &staking); err != nil {
		return "", fmt.Errorf("staking genesis: %w", err)
	}
	if staking.Params.BondDenom == "" {
		return chaincfg.BondDenom, nil
	}
	return staking.Params.BondDenom, nil
}

func addGenesisAccounts(
	cdc codec.JSONCodec, genState map[string]json.RawMessage,
	accounts []authtypes.GenesisAccount, balances []banktypes.Balance,
) error {
	var auth authtypes.GenesisState
	if err := cdc.UnmarshalJSON(genState[authtypes.ModuleName], &auth); err != nil {
		return fmt.Errorf("auth genesis: %w", err)
	}
	packed, err := authtypes.PackAccounts(accounts)
	if err != nil {
		return err
	}
	auth.Accounts = append(auth.Accounts, packed...)
	if genState[authtypes.ModuleName], err = cdc.MarshalJSON(&auth); err != nil {
		return err
	}

	var bank banktypes.GenesisState
	if err := cdc.UnmarshalJSON(genState[banktypes.ModuleName], &bank); err != nil {
		return fmt.Errorf("bank genesis: %w", err)
	}
	bank.Balances = banktypes.SanitizeGenesisBalances(append(bank.Balances, balances...))
	// The supply is written out in full, the sum of every balance. Left empty,
	// bank would compute it at InitChain, but the next
	// `genesis add-genesis-account` (as operators run it on a generated
	// genesis) adds its coins to the empty supply: a partial supply, and
	// InitChain panics with "genesis supply is incorrect".
	supply := sdk.NewCoins()
	for _, b := range bank.Balances {
		supply = supply.Add(b.Coins...)
	}
	bank.Supply = supply
	genState[banktypes.ModuleName], err = cdc.MarshalJSON(&bank)
	return err
}

// shortenGovPeriods sets the gov voting periods of a testnet genesis.
func shortenGovPeriods(cdc codec.JSONCodec, genState map[string]json.RawMessage, args testnetArgs) error {
	var gov govv1.GenesisState
	if err := cdc.UnmarshalJSON(genState[govtypes.ModuleName], &gov); err != nil {
		return fmt.Errorf("gov genesis: %w", err)
	}
	if gov.Params == nil {
		p := govv1.DefaultParams()
		gov.Params = &p
	}
	voting, expedited := args.votingPeriod, args.expeditedVotingPeriod
	gov.Params.VotingPeriod = &voting
	gov.Params.ExpeditedVotingPeriod = &expedited
	var err error
	genState[govtypes.ModuleName], err = cdc.MarshalJSON(&gov)
	return err
}

// nodeIP returns the IPv4 address start + i.
func nodeIP(start string, i int) (string, error) {
	ip := net.ParseIP(start).To4()
	if ip == nil {
		return "", fmt.Errorf("--%s: %q is not an IPv4 address", flagStartingIPAddress, start)
	}
	v := uint64(binary.BigEndian.Uint32(ip)) + uint64(i)
	if v > 0xFFFFFFFF {
		return "", fmt.Errorf("--%s: %s + %d overflows IPv4", flagStartingIPAddress, start, i)
	}
	out := make(net.IP, 4)
	binary.BigEndian.PutUint32(out, uint32(v))
	return out.String(), nil
}

func printTestnetSummary(cmd *cobra.Command, args testnetArgs, nodes []testnetNode) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Initialized %d validator node(s) of chain %s\n", len(nodes), args.chainID)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NODE\tHOME\tP2P\tRPC\tAPI\tGRPC\tVALIDATOR ACCOUNT")
	for _, n := range nodes {
		fmt.Fprintf(w, "%s\t%s\t%s:%d\t%s:%d\t%s:%d\t%s:%d\t%s\n", n.name, n.home,
			n.ip, n.port(basePortP2P), n.ip, n.port(basePortRPC), n.ip, n.port(basePortAPI), n.ip, n.port(basePortGRPC),
			n.account)
	}
	_ = w.Flush()
}
