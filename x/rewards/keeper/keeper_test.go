package keeper_test

import (
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
	"github.com/repshard/repshard/x/rewards"
	"github.com/repshard/repshard/x/rewards/keeper"
	"github.com/repshard/repshard/x/rewards/types"
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
	cdc := moduletestutil.MakeTestEncodingConfig(rewards.AppModule{}).Codec
	k := keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), nil, nil, nil, nil)
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
	p.EpochLengthBlocks = 250
	p.EpochEmissionFixed = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(3_000_000))
	p.ProtocolFeeSharePpm = 100_000
	return p
}

// invalidParams returns params that Validate rejects.
func invalidParams() map[string]types.Params {
	zeroEpoch := types.DefaultParams()
	zeroEpoch.EpochLengthBlocks = 0
	ppmTooBig := changedParams()
	ppmTooBig.ProtocolFeeSharePpm = 1_000_001
	badCoin := changedParams()
	badCoin.EpochEmissionFixed = sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(-1)}
	noQuarantine := types.DefaultParams()
	noQuarantine.MaxItemFailures = 0
	endlessFailures := types.DefaultParams()
	endlessFailures.MaxItemFailures = 1_001
	return map[string]types.Params{
		"zero max_item_failures":       noQuarantine,
		"max_item_failures above 1000": endlessFailures,
		"zero epoch length":            zeroEpoch,
		"ppm above one":                ppmTooBig,
		"negative emission":            badCoin,
		"zero value (all zero)":        {},
	}
}

func TestNewKeeperAuthority(t *testing.T) {
	require.Equal(t, keepertest.Authority(), newFixture(t).keeper.Authority())
}

func TestNewKeeperPanicsOnInvalidAuthority(t *testing.T) {
	s := keepertest.NewStore(t, types.StoreKey)
	cdc := moduletestutil.MakeTestEncodingConfig(rewards.AppModule{}).Codec
	for name, authority := range keepertest.InvalidAddresses() {
		t.Run(name, func(t *testing.T) {
			require.Panics(t, func() {
				keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), authority, nil, nil, nil, nil)
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
		"changed": func() *types.GenesisState { g := types.DefaultGenesis(); g.Params = changedParams(); return g }(),
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
