package keeper_test

import (
	"testing"

	storetypes "cosmossdk.io/store/types"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// appFixture drives the x/reputation keeper of a whole in-memory app.
type appFixture struct {
	t     *testing.T
	c     *apptest.Chain
	ctx   sdk.Context
	k     keeper.Keeper
	msgs  types.MsgServer
	query types.QueryServer
}

func newAppFixture(t *testing.T, n int) *appFixture {
	t.Helper()
	c := apptest.New(t, n+1, nil)
	// Account 0 delegates the validator's genesis bond (stake credit); the
	// fixture leaves it out so every account here starts with validation 0.
	c.Accounts = c.Accounts[1:]
	k := c.App.ReputationKeeper
	return &appFixture{t: t, c: c, ctx: c.Context(), k: k, msgs: keeper.NewMsgServerImpl(k), query: keeper.NewQueryServerImpl(k)}
}

func (f *appFixture) at(height int64) sdk.Context { return f.ctx.WithBlockHeight(height) }

func (f *appFixture) profile(ctx sdk.Context, addr sdk.AccAddress) types.Profile {
	f.t.Helper()
	resp, err := f.query.Profile(ctx, &types.QueryProfileRequest{Address: addr.String()})
	require.NoError(f.t, err)
	return resp.Profile
}

func (f *appFixture) score(ctx sdk.Context, addr sdk.AccAddress) uint32 {
	f.t.Helper()
	s, err := f.k.Score(ctx, addr)
	require.NoError(f.t, err)
	return s
}

func (f *appFixture) raw(addr sdk.AccAddress) []byte {
	return f.ctx.KVStore(f.c.App.GetKey(types.StoreKey)).Get(append(types.ProfilesKey.Bytes(), addr.Bytes()...))
}

func (f *appFixture) updateParams(ctx sdk.Context, mut func(*types.Params)) {
	f.t.Helper()
	p, err := f.k.GetParams(ctx)
	require.NoError(f.t, err)
	mut(&p)
	_, err = f.msgs.UpdateParams(ctx, &types.MsgUpdateParams{Authority: keepertest.Authority(), Params: p})
	require.NoError(f.t, err)
}

func TestNoHistoryHasTheDefaultScore(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	require.Equal(t, uint32(500_000), f.score(f.ctx, addr))
	_, err := f.query.Profile(f.ctx, &types.QueryProfileRequest{Address: addr.String()})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	require.Nil(t, f.raw(addr), "reading creates nothing")

	f.updateParams(f.ctx, func(p *types.Params) { p.DefaultScorePpm = 123_456 })
	require.Equal(t, uint32(123_456), f.score(f.ctx, addr))
}

func TestFirstSubmissionCreatesProfile(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	ctx := f.at(10)
	require.NoError(t, f.k.RecordSubmission(ctx, addr))

	p := f.profile(ctx, addr)
	require.Equal(t, addr.String(), p.Address)
	require.Equal(t, uint64(1), p.Submitted)
	require.Equal(t, int64(10), p.CreatedHeight)
	require.Equal(t, int64(10), p.LastUpdatedHeight)
	require.Equal(t, uint64(1_000_000), p.RateEma)
	require.Equal(t, int64(10), p.RateUpdatedHeight)
	require.Equal(t, uint64(500_000), p.RequestRate, "1e6·100/200: half a request per 100-block window")
	require.Equal(t, uint32(500_000), p.CompletionPpm, "prior mean 2/4")
	require.Equal(t, uint32(1_000_000), p.FrequencyPpm)
	require.Equal(t, uint32(0), p.ValidationPpm, "no proof of work, no stake")
	require.Equal(t, uint32(500_000), p.PeerPpm, "no reviews: neutral")
	// (4·500_000 + 2·1_000_000 + 2·0 + 2·500_000) / 10: a new requester
	// starts at the default score.
	require.Equal(t, uint32(500_000), p.Score)
	require.Equal(t, uint32(500_000), f.score(ctx, addr))

	var created int
	for _, e := range ctx.EventManager().Events() {
		if e.Type == "repshard.reputation.v1.EventProfileCreated" {
			created++
		}
	}
	require.Equal(t, 1, created)
	require.NoError(t, f.k.RecordSubmission(ctx, addr))
	require.Equal(t, uint64(2), f.profile(ctx, addr).Submitted)
	created = 0
	for _, e := range ctx.EventManager().Events() {
		if e.Type == "repshard.reputation.v1.EventProfileCreated" {
			created++
		}
	}
	require.Equal(t, 1, created, "created once")
}

func TestOnlyFailuresLowerTheScore(t *testing.T) {
	f := newAppFixture(t, 2)
	bad, good := f.c.Accounts[0].Address, f.c.Accounts[1].Address
	ctx := f.at(5)
	for _, a := range []sdk.AccAddress{bad, good} {
		require.NoError(t, f.k.RecordSubmission(ctx, a))
	}
	require.NoError(t, f.k.RecordOutcome(ctx, bad, outcome.Failed))
	require.NoError(t, f.k.RecordOutcome(ctx, bad, outcome.Failed))
	require.NoError(t, f.k.RecordOutcome(ctx, bad, outcome.Expired))
	p := f.profile(ctx, bad)
	require.Equal(t, [3]uint64{0, 2, 1}, [3]uint64{p.Completed, p.Failed, p.Expired})
	require.Equal(t, uint32(285_714), p.CompletionPpm, "2/7")
	require.Equal(t, uint32(392_857), p.Score, "(8·285_714 + 2·1_000_000 + 0 + 4·500_000)/16")

	for range 5 {
		require.NoError(t, f.k.RecordOutcome(ctx, good, outcome.Completed))
	}
	p = f.profile(ctx, good)
	require.Equal(t, uint32(777_777), p.CompletionPpm, "7/9")
	require.Equal(t, uint32(638_888), p.Score, "(8·777_777 + 4_000_000)/16")
	require.Greater(t, f.score(ctx, good), f.score(ctx, bad))
}

func TestFrequencyPenaltyOffsetByCompletion(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	ctx := f.at(20)
	f.updateParams(ctx, func(p *types.Params) { p.FreeRequestRate = 1 })
	for range 10 {
		require.NoError(t, f.k.RecordSubmission(ctx, addr))
	}
	p := f.profile(ctx, addr)
	require.Equal(t, uint64(10_000_000), p.RateEma, "same block: no decay")
	require.Equal(t, uint64(5_000_000), p.RequestRate, "10e6·100/200")
	// excess 4 requests · 40_000 = 160_000, offset by completion ½ → 80_000
	require.Equal(t, uint32(920_000), p.FrequencyPpm)
	require.Equal(t, uint32(490_000), p.Score, "(4_000_000 + 1_840_000 + 0 + 2_000_000)/16")

	for range 6 {
		require.NoError(t, f.k.RecordOutcome(ctx, addr, outcome.Failed))
	}
	p = f.profile(ctx, addr)
	require.Equal(t, uint32(200_000), p.CompletionPpm, "2/10")
	require.Equal(t, uint32(872_000), p.FrequencyPpm, "160_000 · (1 − 0.2) = 128_000")
	require.Equal(t, uint32(334_000), p.Score, "(1_600_000 + 1_744_000 + 0 + 2_000_000)/16")
}

func TestRateEMADecaysLazily(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	require.NoError(t, f.k.RecordSubmission(f.at(100), addr))
	stored := f.raw(addr)

	// Reads decay the view, never the stored EMA.
	p := f.profile(f.at(150), addr)
	require.Equal(t, uint64(1_000_000), p.RateEma)
	require.Equal(t, uint64(375_000), p.RequestRate, "750_000·100/200 after half a half-life")
	require.Equal(t, stored, f.raw(addr))

	// 150 blocks later: ½ · (1 − 50/200) = 375_000, plus the new submission.
	require.NoError(t, f.k.RecordSubmission(f.at(250), addr))
	p = f.profile(f.at(250), addr)
	require.Equal(t, uint64(1_375_000), p.RateEma)
	require.Equal(t, int64(250), p.RateUpdatedHeight)
	require.Equal(t, uint64(687_500), p.RequestRate)

	// An outcome does not touch the EMA.
	require.NoError(t, f.k.RecordOutcome(f.at(300), addr, outcome.Completed))
	p = f.profile(f.at(500), addr)
	require.Equal(t, uint64(1_375_000), p.RateEma)
	require.Equal(t, int64(250), p.RateUpdatedHeight)
	require.Equal(t, int64(300), p.LastUpdatedHeight)
	// 250 blocks after 250: 1_375_000/4 = 343_750, · 150/200 = 257_812; rate = ·100/200.
	require.Equal(t, uint64(128_906), p.RequestRate)

	// A spammer's frequency factor recovers as time passes, with no write.
	f.updateParams(f.ctx, func(p *types.Params) { p.FreeRequestRate = 0 })
	early := f.profile(f.at(250), addr).FrequencyPpm
	late := f.profile(f.at(10_000), addr).FrequencyPpm
	require.Less(t, early, late)
	require.Equal(t, uint32(1_000_000), late)
}

// TestWeightChangeAppliesWithoutIteration: a governance weight change moves
// an existing profile's score while the stored profile is not rewritten, and
// the change costs the same gas whatever the number of profiles.
func TestWeightChangeAppliesWithoutIteration(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	ctx := f.at(7)
	require.NoError(t, f.k.RecordSubmission(ctx, addr))
	for range 3 {
		require.NoError(t, f.k.RecordOutcome(ctx, addr, outcome.Failed))
	}
	require.Equal(t, uint32(392_857), f.score(ctx, addr))
	before := f.raw(addr)
	require.NotNil(t, before)

	gasOfUpdate := func(weights [4]uint32) uint64 {
		gctx := ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		f.updateParams(gctx, func(p *types.Params) {
			p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = weights[0], weights[1], weights[2], weights[3]
		})
		return gctx.GasMeter().GasConsumed()
	}
	g1 := gasOfUpdate([4]uint32{1, 0, 0, 0})
	require.Equal(t, uint32(285_714), f.score(ctx, addr), "completion alone")
	require.Equal(t, uint32(285_714), f.profile(ctx, addr).Score)
	require.Equal(t, before, f.raw(addr), "the stored profile is not rewritten")

	gasOfUpdate([4]uint32{1, 1, 0, 0})
	require.Equal(t, uint32(642_857), f.score(ctx, addr), "(285_714 + 1_000_000)/2")
	require.Equal(t, before, f.raw(addr))

	// 300 more profiles: the same update (defaults → completion alone) costs
	// the same gas.
	gasOfUpdate([4]uint32{8, 2, 2, 4})
	require.Equal(t, uint32(392_857), f.score(ctx, addr))
	for i := range 300 {
		require.NoError(t, f.k.RecordSubmission(ctx, sdk.AccAddress([]byte{byte(i), byte(i >> 8), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18})))
	}
	g2 := gasOfUpdate([4]uint32{1, 0, 0, 0})
	require.Equal(t, g1, g2, "a weight change touches no profile")
	require.Equal(t, uint32(285_714), f.score(ctx, addr))
}

func TestRecordOutcomeBadInput(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	require.NoError(t, f.k.RecordSubmission(f.ctx, addr))
	before := f.raw(addr)
	for _, o := range []outcome.Outcome{0, 4, -1} {
		require.ErrorIs(t, f.k.RecordOutcome(f.ctx, addr, o), types.ErrUnknownOutcome)
		require.Equal(t, before, f.raw(addr))
	}
	// An outcome for a requester with no profile (never happens through
	// x/deferral) creates one rather than losing the outcome.
	other := sdk.AccAddress([]byte("no-profile-requester"))
	require.NoError(t, f.k.RecordOutcome(f.ctx, other, outcome.Completed))
	require.Equal(t, uint64(1), f.profile(f.ctx, other).Completed)
}

func TestProfileQueries(t *testing.T) {
	f := newAppFixture(t, 5)
	for _, a := range f.c.Accounts {
		require.NoError(t, f.k.RecordSubmission(f.ctx, a.Address))
	}
	_, err := f.query.Profile(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.query.Profile(f.ctx, &types.QueryProfileRequest{Address: "rep1bad"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.query.Profiles(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	var got []string
	var key []byte
	for {
		resp, err := f.query.Profiles(f.ctx, &types.QueryProfilesRequest{Pagination: &query.PageRequest{Key: key, Limit: 2}})
		require.NoError(t, err)
		require.LessOrEqual(t, len(resp.Profiles), 2)
		for _, p := range resp.Profiles {
			require.Equal(t, uint32(500_000), p.Score, "pages carry the computed score")
			got = append(got, p.Address)
		}
		if key = resp.Pagination.NextKey; key == nil {
			break
		}
	}
	require.Len(t, got, 5)
	require.IsIncreasing(t, func() []string {
		out := make([]string, len(got))
		for i, s := range got {
			a, _ := sdk.AccAddressFromBech32(s)
			out[i] = string(a)
		}
		return out
	}())
}

func TestGenesisRoundTripWithProfiles(t *testing.T) {
	f := newAppFixture(t, 3)
	for i, a := range f.c.Accounts {
		require.NoError(t, f.k.RecordSubmission(f.at(int64(10+i)), a.Address))
		require.NoError(t, f.k.RecordOutcome(f.at(int64(20+i)), a.Address, outcome.Failed))
	}
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Len(t, gs.Profiles, 3)
	require.NoError(t, gs.Validate())

	g := newFixture(t)
	require.NoError(t, g.keeper.InitGenesis(g.ctx, *gs))
	again, err := g.keeper.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, g.cdc.MustMarshal(gs), g.cdc.MustMarshal(again))
	for _, a := range f.c.Accounts {
		s1, err := f.k.Score(f.at(100), a.Address)
		require.NoError(t, err)
		s2, err := g.keeper.Score(g.ctx.WithBlockHeight(100), a.Address)
		require.NoError(t, err)
		require.Equal(t, s1, s2)
	}

	dup := *gs
	dup.Profiles = append(dup.Profiles, dup.Profiles[0])
	require.Error(t, dup.Validate())
	withScore := *gs
	withScore.Profiles = append([]types.Profile(nil), gs.Profiles...)
	withScore.Profiles[0].Score = 1
	require.Error(t, withScore.Validate())
	badAddr := *gs
	badAddr.Profiles = append([]types.Profile(nil), gs.Profiles...)
	badAddr.Profiles[0].Address = "cosmos1xyz"
	h := newFixture(t)
	require.Error(t, h.keeper.InitGenesis(h.ctx, badAddr))
	require.Nil(t, h.rawParams())
}
