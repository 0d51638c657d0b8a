// Package cmd builds the repshardd command tree.
package cmd

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"cosmossdk.io/log"
	confixcmd "cosmossdk.io/tools/confix/cmd"
	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cast"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/debug"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/pruning"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	"github.com/cosmos/cosmos-sdk/client/snapshot"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	"github.com/cosmos/cosmos-sdk/types/module"
	authcmd "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
)

// DefaultNodeHome returns ~/.<name>, the default home folder of a node.
func DefaultNodeHome(name string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, "."+name)
}

// NewRootCmd builds the repshardd root command.
func NewRootCmd() *cobra.Command {
	// A throwaway app gives the codecs and the module list for the CLI.
	tmpHome, err := os.MkdirTemp("", "repshardd-cli")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmpHome)
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(tmpHome))

	home := DefaultNodeHome(app.Name)
	initClientCtx := client.Context{}.
		WithCodec(tempApp.AppCodec()).
		WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).
		WithLegacyAmino(tempApp.LegacyAmino()).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(home).
		WithChainID(chaincfg.DefaultChainID). // written to a new client.toml; init uses it
		WithViper("REPSHARD")

	rootCmd := &cobra.Command{
		Use:           "repshardd",
		Short:         "repshard: reputation-based workload deferral with dynamic sharding",
		Long:          "repshardd runs a repshard node (validator or full node) and is the client for keys, transactions and queries.",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())

			clientCtx := initClientCtx.WithCmdContext(cmd.Context())
			clientCtx, err := client.ReadPersistentCommandFlags(clientCtx, cmd.Flags())
			if err != nil {
				return err
			}
			clientCtx, err = config.ReadFromClientConfig(clientCtx)
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(clientCtx, cmd); err != nil {
				return err
			}
			appTemplate, appConfig := initAppConfig()
			return server.InterceptConfigsPreRunHandler(cmd, appTemplate, appConfig, initCometBFTConfig())
		},
	}

	initRootCmd(rootCmd, tempApp.TxConfig(), tempApp.BasicModuleManager, home)

	// AutoCLI needs a client context while the command tree is built, before
	// --home is parsed: give it the default client config, read with its own
	// viper so it neither shadows the client.toml of --home nor writes into
	// the default home.
	autoCliCtx, err := config.ReadDefaultValuesFromDefaultClientConfig(initClientCtx.WithViper(""))
	if err != nil {
		panic(err)
	}
	autoCliOpts := tempApp.AutoCliOpts()
	autoCliOpts.ClientCtx = autoCliCtx
	if err := autoCliOpts.EnhanceRootCommand(rootCmd); err != nil {
		panic(err)
	}
	return rootCmd
}

// initCometBFTConfig returns CometBFT's defaults with a short commit timeout
// (about one block a second), which suits the request-queue workload: queue
// waits and deadlines are counted in blocks. It cannot be exactly 1 s, the
// CometBFT default, because the SDK replaces an unchanged default with 5 s
// when it writes config.toml.
func initCometBFTConfig() *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.Consensus.TimeoutCommit = defaultTimeoutCommit
	return cfg
}

// initAppConfig sets the app.toml defaults: a small minimum gas price in urep
// so spam is never free, and the gRPC and REST servers on.
func initAppConfig() (string, any) {
	srvCfg := serverconfig.DefaultConfig()
	srvCfg.MinGasPrices = defaultMinGasPrices
	srvCfg.API.Enable = true
	srvCfg.GRPC.Enable = true
	return serverconfig.DefaultConfigTemplate, *srvCfg
}

func initRootCmd(rootCmd *cobra.Command, txConfig client.TxConfig, basicManager module.BasicManager, home string) {
	rootCmd.AddCommand(
		withBlockMaxGas(genutilcli.InitCmd(basicManager, home)),
		NewTestnetCmd(basicManager, banktypes.GenesisBalancesIterator{}),
		NewWorkerCmd(),
		NewRequestCmd(),
		debug.Cmd(),
		confixcmd.ConfigCommand(),
		pruning.Cmd(newApp, home),
		snapshot.Cmd(newApp),
	)
	server.AddCommands(rootCmd, home, newApp, appExport, addStartFlags)
	rootCmd.AddCommand(
		server.StatusCommand(),
		genutilcli.Commands(txConfig, basicManager, home),
		queryCommand(),
		txCommand(),
		keys.Commands(),
	)
}

func queryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "query",
		Aliases:                    []string{"q"},
		Short:                      "Querying subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		rpc.QueryEventForTxCmd(),
		rpc.ValidatorCommand(),
		server.QueryBlockCmd(),
		authcmd.QueryTxsByEventsCmd(),
		server.QueryBlocksCmd(),
		authcmd.QueryTxCmd(),
		server.QueryBlockResultsCmd(),
	)
	return cmd
}

func txCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "tx",
		Short:                      "Transactions subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		authcmd.GetSignCommand(),
		authcmd.GetSignBatchCommand(),
		authcmd.GetMultiSignCommand(),
		authcmd.GetMultiSignBatchCmd(),
		authcmd.GetValidateSignaturesCommand(),
		flags.LineBreak,
		authcmd.GetBroadcastCommand(),
		authcmd.GetEncodeCommand(),
		authcmd.GetDecodeCommand(),
		authcmd.GetSimulateCmd(),
	)
	return cmd
}

// FlagOptimisticExecution turns on the SDK's optimistic execution: the node
// starts executing a proposed block (FinalizeBlock) in the background as soon
// as ProcessProposal accepts it, instead of after the precommits, and keeps
// the result if the block is committed unchanged. It is off by default, as in
// the SDK. The same key can be set in app.toml:
//
//	[repshard]
//	optimistic-execution = true
const FlagOptimisticExecution = "repshard.optimistic-execution"

// addStartFlags adds repshard's own flags to `repshardd start`. The server
// binds the start flags to the app options, so each can also be set in
// app.toml under the same dotted key.
func addStartFlags(cmd *cobra.Command) {
	cmd.Flags().Bool(FlagOptimisticExecution, false,
		"execute a proposed block during ProcessProposal, before it is committed (app.toml [repshard] optimistic-execution)")
}

// newApp builds the app for `start` and the other server commands.
func newApp(logger log.Logger, db dbm.DB, traceStore io.Writer, appOpts servertypes.AppOptions) servertypes.Application {
	baseappOptions := server.DefaultBaseappOptions(appOpts)
	if cast.ToBool(appOpts.Get(FlagOptimisticExecution)) {
		baseappOptions = append(baseappOptions, baseapp.SetOptimisticExecution())
	}
	return app.New(logger, db, traceStore, true, appOpts, baseappOptions...)
}

// appExport exports the state for `repshardd export`.
func appExport(
	logger log.Logger, db dbm.DB, traceStore io.Writer, height int64, forZeroHeight bool,
	jailAllowedAddrs []string, appOpts servertypes.AppOptions, modulesToExport []string,
) (servertypes.ExportedApp, error) {
	viperAppOpts, ok := appOpts.(*viper.Viper)
	if !ok {
		return servertypes.ExportedApp{}, errors.New("appOpts is not a viper.Viper")
	}
	a := app.New(logger, db, traceStore, height == -1, viperAppOpts)
	if height != -1 {
		if err := a.LoadHeight(height); err != nil {
			return servertypes.ExportedApp{}, err
		}
	}
	return a.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}

// defaultTimeoutCommit is the commit timeout a new node writes to config.toml.
const defaultTimeoutCommit = 900 * time.Millisecond

// defaultMinGasPrices is the app.toml minimum gas price of a new node.
const defaultMinGasPrices = "0.001" + chaincfg.BondDenom
