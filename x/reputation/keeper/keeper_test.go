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

	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/testutil/paramstest"
	"github.com/repshard/repshard/x/reputation"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

type fixture struct {
	ctx    sdk.Context
	store  keepertest.Store
	cdc    codec.Codec
	keeper keeper.Keeper
	msgs   types.MsgServer
	query  types.QueryServer
	// standing records what the keeper tells x/shard.
	standing *standingLog
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	s := keepertest.NewStore(t, types.StoreKey)
	cdc := moduletestutil.MakeTestEncodingConfig(reputation.AppModule{}).Codec
	standing := &standingLog{}
	k := keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), noStake{}, noBonds{}, standing)
	return fixture{ctx: s.Ctx, store: s, cdc: cdc, keeper: k,
		msgs: keeper.NewMsgServerImpl(k), query: keeper.NewQueryServerImpl(k), standing: standing}
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
	p.DefaultScorePpm = 600_000
	p.WeightPeer = 5
	p.StakeReferenceAmount = sdkmath.NewInt(5_000_000_000)
	p.MinWorkerScorePpm = 400_000
	p.WorkerPauseBlocks = 100
	p.WorkerWeightReliabilityPpm, p.WorkerWeightRatingPpm = 600_000, 400_000
	return p
}

// invalidParams returns params that Validate rejects.
func invalidParams() map[string]types.Params {
	zeroWeights := types.DefaultParams()
	zeroWeights.WeightCompletion, zeroWeights.WeightFrequency, zeroWeights.WeightValidation, zeroWeights.WeightPeer = 0, 0, 0, 0
	ppmTooBig := changedParams()
	ppmTooBig.DefaultScorePpm = 1_000_001
	zeroStake := changedParams()
	zeroStake.StakeReferenceAmount = sdkmath.ZeroInt()
	workerWeights := changedParams()
	workerWeights.WorkerWeightRatingPpm = 0
	offTier := changedParams()
	offTier.MinWorkerScorePpm = 123_456
	noResumes := changedParams()
	noResumes.MaxWorkerResumesPerBlock = 0
	noQuarantine := types.DefaultParams()
	noQuarantine.MaxItemFailures = 0
	endlessFailures := types.DefaultParams()
	endlessFailures.MaxItemFailures = 1_001
	return map[string]types.Params{
		"zero max_item_failures":            noQuarantine,
		"max_item_failures above 1000":      endlessFailures,
		"worker weights not summing to one": workerWeights,
		"min worker score off a tier":       offTier,
		"no worker resumes per block":       noResumes,
		"all weights zero":                  zeroWeights,
		"ppm above one":                     ppmTooBig,
		"zero stake reference":              zeroStake,
		"zero value (all zero)":             {},
	}
}

func TestNewKeeperAuthority(t *testing.T) {
	require.Equal(t, keepertest.Authority(), newFixture(t).keeper.Authority())
}

func TestNewKeeperPanicsOnInvalidAuthority(t *testing.T) {
	s := keepertest.NewStore(t, types.StoreKey)
	cdc := moduletestutil.MakeTestEncodingConfig(reputation.AppModule{}).Codec
	for name, authority := range keepertest.InvalidAddresses() {
		t.Run(name, func(t *testing.T) {
			require.Panics(t, func() {
				keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), authority, noStake{}, noBonds{}, &standingLog{})
			})
		})
	}
}

// noStake and noBonds stand in for x/staking and x/shard: nobody has bonded
// stake or a worker bond.
type (
	noStake struct{}
	noBonds struct{}
)

func (noStake) GetDelegatorBonded(context.Context, sdk.AccAddress) (sdkmath.Int, error) {
	return sdkmath.ZeroInt(), nil
}

func (noBonds) WorkerBond(context.Context, sdk.AccAddress) (sdkmath.Int, error) {
	return sdkmath.ZeroInt(), nil
}

// standing is one SetWorkerStanding call.
type standing struct {
	worker   sdk.AccAddress
	score    uint32
	eligible bool
}

// standingLog stands in for x/shard: it records every standing it is told.
type standingLog struct{ calls []standing }

func (l *standingLog) SetWorkerStanding(_ context.Context, worker sdk.AccAddress, score uint32, eligible bool) error {
	l.calls = append(l.calls, standing{worker: worker, score: score, eligible: eligible})
	return nil
}

// last returns the last standing told.
func (l *standingLog) last() standing {
	if len(l.calls) == 0 {
		return standing{}
	}
	return l.calls[len(l.calls)-1]
}

// noRequests stands in for x/deferral: no request exists.
type noRequests struct{}

func (noRequests) ReviewableRequest(context.Context, uint64) (types.FinishedRequest, bool, error) {
	return types.FinishedRequest{}, false, nil
}

func TestNewKeeperPanicsWithoutItsReaders(t *testing.T) {
	s := keepertest.NewStore(t, types.StoreKey)
	cdc := moduletestutil.MakeTestEncodingConfig(reputation.AppModule{}).Codec
	require.Panics(t, func() {
		keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), nil, noBonds{}, &standingLog{})
	})
	require.Panics(t, func() {
		keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), noStake{}, nil, &standingLog{})
	})
	require.Panics(t, func() {
		keeper.NewKeeper(cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), noStake{}, noBonds{}, nil)
	})
}

// The request reader is registered exactly once: nil and a second
// registration are wiring mistakes and panic, so the keeper never runs
// without one or with one replaced behind its back.
func TestSetRequestReaderIsSetOnce(t *testing.T) {
	k := newFixture(t).keeper
	require.Panics(t, func() { k.SetRequestReader(nil) }, "nil reader")
	k.SetRequestReader(noRequests{})
	require.Panics(t, func() { k.SetRequestReader(noRequests{}) }, "second registration")
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
		"changed": {Params: changedParams()},
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
