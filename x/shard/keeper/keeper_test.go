package keeper_test

import (
	"context"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/testutil/paramstest"
	"github.com/repshard/repshard/x/shard"
	"github.com/repshard/repshard/x/shard/keeper"
	"github.com/repshard/repshard/x/shard/types"
)

type fixture struct {
	ctx    sdk.Context
	store  keepertest.Store
	cdc    codec.Codec
	keeper keeper.Keeper
	msgs   types.MsgServer
	query  types.QueryServer
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	s := keepertest.NewStore(t, types.StoreKey)
	cdc := moduletestutil.MakeTestEncodingConfig(shard.AppModule{}).Codec
	k := keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), nil)
	return fixture{ctx: s.Ctx, store: s, cdc: cdc, keeper: k,
		msgs: keeper.NewMsgServerImpl(k), query: keeper.NewQueryServerImpl(k)}
}

// withDefaults writes the default genesis so a test starts from known params.
func (f fixture) withDefaults(t *testing.T) fixture {
	t.Helper()
	require.NoError(t, f.keeper.InitGenesis(f.ctx, *types.DefaultGenesis()))
	return f
}

// rawParams returns the params bytes exactly as stored under ParamsKey.
func (f fixture) rawParams() []byte { return f.store.Raw(types.ParamsKey.Bytes()) }

func (f fixture) bytes(p types.Params) []byte { return f.cdc.MustMarshal(&p) }

// changedParams returns valid params that differ from the defaults.
func changedParams() types.Params {
	p := types.DefaultParams()
	p.MinWorkerBond = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(25_000_000))
	p.MaxShardsPerClass = 16
	p.SplitLoadThresholdPpm = 900_000
	p.MaxAssignmentCandidates = 32
	p.NewWorkerScorePpm = 300_000
	return p
}

// invalidParams returns params that Validate rejects.
func invalidParams() map[string]types.Params {
	splitBelowMerge := types.DefaultParams()
	splitBelowMerge.SplitLoadThresholdPpm = splitBelowMerge.MergeLoadThresholdPpm
	ppmTooBig := changedParams()
	ppmTooBig.LoadEmaWeightPpm = 1_000_001
	fewShards := changedParams()
	fewShards.MinShardsPerClass, fewShards.MaxShardsPerClass = 4, 3
	zeroBond := changedParams()
	zeroBond.MinWorkerBond = sdk.NewCoin(chaincfg.BondDenom, sdkmath.ZeroInt())
	noCandidates := changedParams()
	noCandidates.MaxAssignmentCandidates = 0
	noQuarantine := types.DefaultParams()
	noQuarantine.MaxItemFailures = 0
	endlessFailures := types.DefaultParams()
	endlessFailures.MaxItemFailures = 1_001
	return map[string]types.Params{
		"zero max_item_failures":       noQuarantine,
		"max_item_failures above 1000": endlessFailures,
		"no assignment candidates":     noCandidates,
		"split not above merge":        splitBelowMerge,
		"ppm above one":                ppmTooBig,
		"max shards below min":         fewShards,
		"zero min worker bond":         zeroBond,
		"zero value (all zero)":        {},
	}
}

func TestNewKeeperAuthority(t *testing.T) {
	require.Equal(t, keepertest.Authority(), newFixture(t).keeper.Authority())
}

func TestNewKeeperPanicsOnInvalidAuthority(t *testing.T) {
	s := keepertest.NewStore(t, types.StoreKey)
	cdc := moduletestutil.MakeTestEncodingConfig(shard.AppModule{}).Codec
	for name, authority := range keepertest.InvalidAddresses() {
		t.Run(name, func(t *testing.T) {
			require.Panics(t, func() {
				keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), authority, nil)
			})
		})
	}
}

// paramsEnv is the fixture as paramstest.RunUpdateParams sees it.
func (f fixture) paramsEnv() paramstest.UpdateParamsEnv[types.Params] {
	return paramstest.UpdateParamsEnv[types.Params]{
		Update: func(authority string, p types.Params) (any, error) {
			return f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: authority, Params: p})
		},
		Get: func() (types.Params, error) { return f.keeper.GetParams(f.ctx) },
		Query: func() (types.Params, error) {
			resp, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
			if err != nil {
				return types.Params{}, err
			}
			return resp.Params, nil
		},
		Raw: f.rawParams,
	}
}

func TestUpdateParams(t *testing.T) {
	paramstest.RunUpdateParams(t, paramstest.UpdateParamsSuite[types.Params]{
		New: func(t *testing.T) paramstest.UpdateParamsEnv[types.Params] {
			return newFixture(t).withDefaults(t).paramsEnv()
		},
		Marshal:          newFixture(t).bytes,
		Validate:         types.Params.Validate,
		Default:          types.DefaultParams(),
		Changed:          changedParams(),
		Invalid:          invalidParams(),
		ErrUnauthorized:  types.ErrUnauthorized,
		ErrInvalidParams: types.ErrInvalidParams,
	})
}

func TestGenesisRoundTrip(t *testing.T) {
	for name, gs := range map[string]*types.GenesisState{
		"default": types.DefaultGenesis(),
		"changed": func() *types.GenesisState {
			gs := types.DefaultGenesis()
			gs.Params = changedParams()
			return gs
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			require.NoError(t, f.keeper.InitGenesis(f.ctx, *gs))
			require.Equal(t, f.bytes(gs.Params), f.rawParams())

			exported, err := f.keeper.ExportGenesis(f.ctx)
			require.NoError(t, err)
			require.Equal(t, f.cdc.MustMarshal(gs), f.cdc.MustMarshal(exported))

			// Importing the export into a fresh store gives the same state.
			g := newFixture(t)
			require.NoError(t, g.keeper.InitGenesis(g.ctx, *exported))
			require.Equal(t, f.rawParams(), g.rawParams())
		})
	}
}

func TestInitGenesisRejectsInvalid(t *testing.T) {
	for name, params := range invalidParams() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			require.Error(t, f.keeper.InitGenesis(f.ctx, types.GenesisState{Params: params}))
			require.Nil(t, f.rawParams(), "an invalid genesis must write nothing")

			f = f.withDefaults(t)
			before := f.rawParams()
			require.Error(t, f.keeper.InitGenesis(f.ctx, types.GenesisState{Params: params}))
			require.Equal(t, before, f.rawParams(), "an invalid genesis must not overwrite params")
		})
	}
}

func TestExportGenesisBeforeInit(t *testing.T) {
	f := newFixture(t)
	_, err := f.keeper.ExportGenesis(f.ctx)
	require.ErrorIs(t, err, collections.ErrNotFound)
}

// TestParamsStoreLayout pins where params live in the store: moving them
// would silently lose the params of a running chain on upgrade.
func TestParamsStoreLayout(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	require.Equal(t, []byte{0x00}, types.ParamsKey.Bytes())
	require.Equal(t, f.bytes(types.DefaultParams()), f.store.Raw([]byte{0x00}))
}

func TestQueryParams(t *testing.T) {
	f := newFixture(t)

	_, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
	require.Equal(t, codes.Internal, status.Code(err), "params not set yet: %v", err)

	f = f.withDefaults(t)
	resp, err := f.query.Params(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "nil request: %v", err)
	require.Nil(t, resp)

	resp, err = f.query.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, f.bytes(types.DefaultParams()), f.bytes(resp.Params))
}

// Bounds on shards per class that exclude a class's current ACTIVE count are
// refused (splits and merges never bring a class back into them), with no
// state change; bounds that include it are accepted.
func TestUpdateParamsRejectsShardBoundsExcludingTheTopology(t *testing.T) {
	f := newFixture(t).withDefaults(t) // one ACTIVE shard per class
	before := f.rawParams()
	for name, edit := range map[string]func(p *types.Params){
		"min above the count": func(p *types.Params) { p.MinShardsPerClass, p.MaxShardsPerClass = 2, 8 },
	} {
		p := types.DefaultParams()
		edit(&p)
		require.NoError(t, p.Validate(), name)
		_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: keepertest.Authority(), Params: p})
		require.ErrorIs(t, err, types.ErrInvalidParams, name)
		require.ErrorContains(t, err, "ACTIVE shards", name)
		require.Equal(t, before, f.rawParams(), "%s: params unchanged", name)
	}
	p := types.DefaultParams()
	p.MinShardsPerClass, p.MaxShardsPerClass = 1, 1
	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: keepertest.Authority(), Params: p})
	require.NoError(t, err, "[1, 1] includes one shard per class")
}

// alwaysReady is a bond-release hook that never postpones a release.
type alwaysReady struct{}

func (alwaysReady) BeforeBondRelease(context.Context, sdk.AccAddress) (bool, error) { return true, nil }

// The bond-release hook is registered exactly once: nil and a second
// registration are wiring mistakes and panic, so a release never runs
// without the settlement or with a hook replaced behind the app's back.
func TestSetBondReleaseHookIsSetOnce(t *testing.T) {
	k := newFixture(t).keeper
	require.Panics(t, func() { k.SetBondReleaseHook(nil) }, "nil hook")
	k.SetBondReleaseHook(alwaysReady{})
	require.Panics(t, func() { k.SetBondReleaseHook(alwaysReady{}) }, "second registration")
}
