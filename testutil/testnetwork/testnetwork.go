// Package testnetwork starts in-process repshard networks of real CometBFT
// validators on loopback, for tests that need blocks, gRPC and REST.
package testnetwork

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"cosmossdk.io/log"
	pruningtypes "cosmossdk.io/store/pruning/types"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/baseapp"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
)

// DefaultConfig returns a network config running the repshard app with its
// default genesis, with governance voting shortened to votingPeriod so a
// proposal can pass within a test.
func DefaultConfig(votingPeriod time.Duration) (network.Config, error) {
	// This app only provides the codecs and default genesis; it writes nothing.
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(os.TempDir()))
	genesis := tempApp.DefaultGenesis()

	var gov govv1.GenesisState
	if err := tempApp.AppCodec().UnmarshalJSON(genesis["gov"], &gov); err != nil {
		return network.Config{}, fmt.Errorf("gov genesis: %w", err)
	}
	gov.Params.VotingPeriod = &votingPeriod
	expedited := votingPeriod / 2
	gov.Params.ExpeditedVotingPeriod = &expedited
	bz, err := tempApp.AppCodec().MarshalJSON(&gov)
	if err != nil {
		return network.Config{}, err
	}
	genesis["gov"] = json.RawMessage(bz)

	cfg := network.DefaultConfig(func() network.TestFixture {
		return network.TestFixture{
			AppConstructor: newApp,
			GenesisState:   genesis,
			EncodingConfig: moduletestutil.TestEncodingConfig{
				InterfaceRegistry: tempApp.InterfaceRegistry(),
				Codec:             tempApp.AppCodec(),
				TxConfig:          tempApp.TxConfig(),
				Amino:             tempApp.LegacyAmino(),
			},
		}
	})
	cfg.ChainID = chaincfg.DefaultChainID
	cfg.BondDenom = chaincfg.BondDenom
	cfg.MinGasPrices = "0.001" + chaincfg.BondDenom
	cfg.TimeoutCommit = 500 * time.Millisecond
	return cfg, nil
}

func newApp(val network.ValidatorI) servertypes.Application {
	appCfg := val.GetAppConfig()
	return app.New(val.GetCtx().Logger, dbm.NewMemDB(), nil, true,
		simtestutil.NewAppOptionsWithFlagHome(val.GetCtx().Config.RootDir),
		baseapp.SetPruning(pruningtypes.NewPruningOptionsFromString(appCfg.Pruning)),
		baseapp.SetMinGasPrices(appCfg.MinGasPrices),
		baseapp.SetChainID(chaincfg.DefaultChainID),
	)
}
