//go:build sims

// The app simulation (the SDK v0.53 simsx runner): random genesis, weighted
// random valid and invalid msgs of every module, the chain's invariants (docs/architecture.md)
// checked after every committed block, app-hash determinism, and
// export/import. Behind the `sims` build tag: `make test-sim-short` (CI) and
// `make test-sim-long` (by hand). Flags are the SDK's: -NumBlocks, -BlockSize,
// -Seed, -Verbose, ...
package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cosmossdk.io/log"
	storetypes "cosmossdk.io/store/types"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/baseapp"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation/client/cli"

	"github.com/repshard/repshard/app"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

var (
	flagSeeds    = flag.Int("SimSeeds", 3, "number of seeds TestFullAppSimulation runs (seeds 1, 2, 3, ...)")
	flagRuns     = flag.Int("SimRuns", 3, "runs per seed of TestAppStateDeterminism")
	repshardKeys = []string{reputationtypes.StoreKey, shardtypes.StoreKey, deferraltypes.StoreKey, rewardstypes.StoreKey}
)

func init() { cli.GetSimulatorFlags() }

// simConfig is the SDK's config from the flags, committing every block (the
// invariants and app hashes are taken at commit) with a fixed genesis time
// so a seed replays the same chain.
//
// The app sets no legacy (v1beta1) gov router, so a legacy text proposal
// cannot execute: the sim params file gives those operations weight 0
// unless -Params names another file.
func simConfig(tb testing.TB, seed int64) simtypes.Config {
	tb.Helper()
	cfg := cli.NewConfigFromFlags()
	cfg.ChainID = simsx.SimAppChainID
	cfg.Commit = true
	cfg.GenesisTime = 1_700_000_000
	cfg.Seed = seed
	if cfg.ParamsFile == "" {
		cfg.ParamsFile = writeSimParams(tb, "")
	}
	return cfg
}

// writeSimParams writes a sim params file that turns off the legacy text
// proposals, plus the extra JSON fields given.
func writeSimParams(tb testing.TB, extra string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "sim-params.json")
	params := `{"op_weight_legacy_text_proposal": 0, "op_weight_op_weight_submit_text_proposal": 0` + extra + `}`
	require.NoError(tb, os.WriteFile(path, []byte(params), 0o600))
	return path
}

// blockWatch is an ABCI listener: at every commit it checks the invariants
// (a violation panics, which fails the simulation with the height and the
// broken invariant) and records the app hash.
type blockWatch struct {
	app       *app.App
	appHashes [][]byte
}

func (w *blockWatch) ListenFinalizeBlock(context.Context, abci.RequestFinalizeBlock, abci.ResponseFinalizeBlock) error {
	return nil
}

func (w *blockWatch) ListenCommit(ctx context.Context, _ abci.ResponseCommit, _ []*storetypes.StoreKVPair) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := w.app.CheckInvariants(sdkCtx); err != nil {
		panic(fmt.Sprintf("invariant broken after block %d: %v", sdkCtx.BlockHeight(), err))
	}
	w.appHashes = append(w.appHashes, bytes.Clone(w.app.LastCommitID().Hash))
	return nil
}

// watchedApps builds apps that carry a blockWatch; watches lists them in
// creation order.
type watchedApps struct{ watches []*blockWatch }

func (f *watchedApps) New(logger log.Logger, db dbm.DB, traceStore io.Writer, loadLatest bool,
	appOpts servertypes.AppOptions, baseAppOptions ...func(*baseapp.BaseApp),
) *app.App {
	w := &blockWatch{}
	baseAppOptions = append(baseAppOptions, func(b *baseapp.BaseApp) {
		b.SetStreamingManager(storetypes.StreamingManager{ABCIListeners: []storetypes.ABCIListener{w}})
	})
	a := app.New(logger, db, traceStore, loadLatest, appOpts, baseAppOptions...)
	w.app = a
	f.watches = append(f.watches, w)
	return a
}

func (f *watchedApps) last() *blockWatch { return f.watches[len(f.watches)-1] }

func stateFactory(a *app.App) simsx.SimStateFactory {
	return simsx.SimStateFactory{
		Codec:         a.AppCodec(),
		AppStateFn:    simtestutil.AppStateFn(a.AppCodec(), a.SimulationManager(), a.DefaultGenesis()),
		BlockedAddr:   app.BlockedAddresses(),
		AccountSource: a.AccountKeeper,
		BalanceSource: a.BankKeeper,
	}
}

// TestFullAppSimulation runs the simulation for -SimSeeds seeds; the
// invariants are checked after every block.
func TestFullAppSimulation(t *testing.T) {
	for seed := int64(1); seed <= int64(*flagSeeds); seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			apps := &watchedApps{}
			cfg := simConfig(t, seed)
			simsx.RunWithSeed(t, cfg, apps.New, stateFactory, seed, nil)
			require.Len(t, apps.last().appHashes, cfg.NumBlocks, "invariants checked after every block")
		})
	}
}

// TestAppStateDeterminism runs each of 3 seeds -SimRuns times and requires
// the same app hash at every height.
func TestAppStateDeterminism(t *testing.T) {
	for _, seed := range []int64{11, 22, 33} {
		apps := &watchedApps{}
		for run := 0; run < *flagRuns; run++ {
			simsx.RunWithSeed(t, simConfig(t, seed), apps.New, stateFactory, seed, nil)
		}
		first := apps.watches[0].appHashes
		require.NotEmpty(t, first)
		for run, w := range apps.watches[1:] {
			require.Len(t, w.appHashes, len(first), "seed %d run %d", seed, run+2)
			for h := range first {
				require.Equal(t, first[h], w.appHashes[h], "seed %d run %d: app hash differs at block %d", seed, run+2, h+1)
			}
		}
		t.Logf("seed %d: %d runs, identical app hash at each of %d heights (last %X)", seed, *flagRuns, len(first), first[len(first)-1])
	}
}

// TestAppImportExport simulates, exports, imports the export into a fresh
// app and requires every KV store of the four repshard modules to be equal
// (no prefix skipped) and a second export to be byte-identical.
func TestAppImportExport(t *testing.T) {
	seed := int64(7)
	apps := &watchedApps{}
	simsx.RunWithSeed(t, simConfig(t, seed), apps.New, stateFactory, seed, nil,
		func(tb testing.TB, ti simsx.TestInstance[*app.App], _ []simtypes.Account) {
			tb.Helper()
			a := ti.App
			exported, err := a.ExportAppStateAndValidators(false, nil, nil)
			require.NoError(tb, err)

			fresh := simsx.NewSimulationAppInstance(tb, ti.Cfg, apps.New).App
			var genesis app.GenesisState
			require.NoError(tb, json.Unmarshal(exported.AppState, &genesis))
			header := cmtproto.Header{Height: a.LastBlockHeight(), ChainID: simsx.SimAppChainID}
			ctxA := a.NewContextLegacy(true, header)
			ctxB := fresh.NewContextLegacy(true, header)
			_, err = fresh.ModuleManager.InitGenesis(ctxB, fresh.AppCodec(), genesis)
			require.NoError(tb, err)
			require.NoError(tb, fresh.CheckInvariants(ctxB), "invariants hold on the imported state")

			entries := 0
			for _, key := range repshardKeys {
				storeA, storeB := ctxA.KVStore(a.GetKey(key)), ctxB.KVStore(fresh.GetKey(key))
				diffA, diffB := simtestutil.DiffKVStores(storeA, storeB, nil)
				require.Empty(tb, diffA, simtestutil.GetSimulationLog(key, a.SimulationManager().StoreDecoders, diffA, diffB))
				require.Empty(tb, diffB, simtestutil.GetSimulationLog(key, a.SimulationManager().StoreDecoders, diffA, diffB))
				it := storeA.Iterator(nil, nil)
				for ; it.Valid(); it.Next() {
					entries++
				}
				require.NoError(tb, it.Close())
			}
			require.Positive(tb, entries)

			again, err := fresh.ModuleManager.ExportGenesisForModules(ctxB, fresh.AppCodec(), nil)
			require.NoError(tb, err)
			againBz, err := json.MarshalIndent(again, "", "  ")
			require.NoError(tb, err)
			require.Equal(tb, string(exported.AppState), string(againBz), "the re-export differs from the export")
			tb.Logf("import/export: %d entries of the four repshard stores equal; re-export byte-identical (%d bytes)", entries, len(againBz))
		})
}

// TestAppSimulationAfterImport simulates, exports for a zero-height restart,
// starts a fresh app from the export and simulates on.
func TestAppSimulationAfterImport(t *testing.T) {
	seed := int64(9)
	apps := &watchedApps{}
	simsx.RunWithSeed(t, simConfig(t, seed), apps.New, stateFactory, seed, nil,
		func(tb testing.TB, ti simsx.TestInstance[*app.App], accs []simtypes.Account) {
			tb.Helper()
			exported, err := ti.App.ExportAppStateAndValidators(true, nil, nil)
			require.NoError(tb, err)
			importFactory := func(a *app.App) simsx.SimStateFactory {
				f := stateFactory(a)
				f.AppStateFn = func(*rand.Rand, []simtypes.Account, simtypes.Config) (json.RawMessage, []simtypes.Account, string, time.Time) {
					return exported.AppState, accs, simsx.SimAppChainID, time.Unix(ti.Cfg.GenesisTime, 0)
				}
				return f
			}
			cfg := ti.Cfg
			cfg.NumBlocks = max(cfg.NumBlocks/2, 10)
			// A zero-height export resets unbonding creation heights to 0,
			// which x/staking's cancel-unbonding operation cannot address.
			cfg.ParamsFile = writeSimParams(tb, `, "op_weight_msg_cancel_unbonding_delegation": 0`)
			simsx.RunWithSeed(tb, cfg, apps.New, importFactory, seed+1, nil)
			require.Len(tb, apps.last().appHashes, cfg.NumBlocks, "invariants checked after every block after import")
		})
}
