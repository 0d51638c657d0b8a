package keeper_test

import (
	"context"
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/rewards/keeper"
	"github.com/repshard/repshard/x/rewards/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// appFixture is a whole in-memory app; every keeper call runs on one context.
type appFixture struct {
	t      *testing.T
	c      *apptest.Chain
	ctx    sdk.Context
	k      keeper.Keeper
	msgs   types.MsgServer
	query  types.QueryServer
	escrow sdk.AccAddress
	rwds   sdk.AccAddress
	distr  sdk.AccAddress
	// requesters and workers are funded genesis accounts (1e12 urep each).
	requester, requester2, worker, worker2 sdk.AccAddress
}

func newAppFixture(t *testing.T) *appFixture {
	t.Helper()
	c := apptest.New(t, 4, nil)
	k := c.App.RewardsKeeper
	return &appFixture{
		t: t, c: c, ctx: c.Context(), k: k,
		msgs: keeper.NewMsgServerImpl(k), query: keeper.NewQueryServerImpl(k),
		escrow:    authtypes.NewModuleAddress(types.EscrowAccountName),
		rwds:      authtypes.NewModuleAddress(types.ModuleName),
		distr:     authtypes.NewModuleAddress(distrtypes.ModuleName),
		requester: c.Accounts[0].Address, requester2: c.Accounts[1].Address,
		worker: c.Accounts[2].Address, worker2: c.Accounts[3].Address,
	}
}

func urep(n int64) sdk.Coin { return sdk.NewInt64Coin(chaincfg.BondDenom, n) }

func (f *appFixture) bal(addr sdk.AccAddress) sdkmath.Int {
	return f.c.App.BankKeeper.GetBalance(f.ctx, addr, chaincfg.BondDenom).Amount
}

// communityPool is the community pool's urep, truncated (it only ever
// receives whole coins in these tests).
func (f *appFixture) communityPool() sdkmath.Int {
	fp, err := f.c.App.DistrKeeper.FeePool.Get(f.ctx)
	require.NoError(f.t, err)
	return fp.CommunityPool.AmountOf(chaincfg.BondDenom).TruncateInt()
}

func (f *appFixture) supply() sdkmath.Int {
	return f.c.App.BankKeeper.GetSupply(f.ctx, chaincfg.BondDenom).Amount
}

func (f *appFixture) owed(addr sdk.AccAddress) sdkmath.Int {
	v, err := f.k.OwedTo(f.ctx, addr)
	require.NoError(f.t, err)
	return v
}

func (f *appFixture) totalOwed() sdkmath.Int {
	v, err := f.k.GetTotalOwed(f.ctx)
	require.NoError(f.t, err)
	return v
}

func (f *appFixture) pool() sdkmath.Int {
	v, err := f.k.GetPool(f.ctx)
	require.NoError(f.t, err)
	return v
}

// snapshot captures every balance and counter the rewards module touches.
type snapshot struct {
	balances                  map[string]sdkmath.Int
	community, supply         sdkmath.Int
	totalOwed, pool           sdkmath.Int
	owedW, owedW2             sdkmath.Int
	contribution, contributn2 types.Contribution
}

func (f *appFixture) snap() snapshot {
	s := snapshot{balances: map[string]sdkmath.Int{}}
	for _, a := range []sdk.AccAddress{f.requester, f.requester2, f.worker, f.worker2, f.escrow, f.rwds, f.distr} {
		s.balances[a.String()] = f.bal(a)
	}
	s.community, s.supply = f.communityPool(), f.supply()
	s.totalOwed, s.pool = f.totalOwed(), f.pool()
	s.owedW, s.owedW2 = f.owed(f.worker), f.owed(f.worker2)
	var err error
	s.contribution, err = f.k.GetContribution(f.ctx, f.worker)
	require.NoError(f.t, err)
	s.contributn2, err = f.k.GetContribution(f.ctx, f.worker2)
	require.NoError(f.t, err)
	return s
}

// delta returns the change of addr's balance since s.
func (f *appFixture) delta(s snapshot, addr sdk.AccAddress) int64 {
	return f.bal(addr).Sub(s.balances[addr.String()]).Int64()
}

func (f *appFixture) requireSolvent() {
	f.t.Helper()
	require.NoError(f.t, f.k.CheckSolvency(f.ctx))
	// The rewards account holds exactly what is owed plus the pool: nothing
	// else can reach it (it is a blocked address).
	require.Equal(f.t, f.totalOwed().Add(f.pool()).String(), f.bal(f.rwds).String())
}

func (f *appFixture) setParams(mut func(*types.Params)) {
	f.t.Helper()
	p, err := f.k.GetParams(f.ctx)
	require.NoError(f.t, err)
	mut(&p)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: keepertest.Authority(), Params: p})
	require.NoError(f.t, err)
}

func eventTypes(ctx sdk.Context) []string {
	var out []string
	for _, e := range ctx.EventManager().Events() {
		out = append(out, e.Type)
	}
	return out
}

func TestEscrowAndRefundToTheMicroUnit(t *testing.T) {
	f := newAppFixture(t)
	s := f.snap()
	require.True(t, f.bal(f.escrow).IsZero())

	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_234_567)))
	require.Equal(t, int64(-1_234_567), f.delta(s, f.requester))
	require.Equal(t, int64(1_234_567), f.delta(s, f.escrow))
	require.Equal(t, "1234567", f.k.EscrowBalance(f.ctx).String())
	require.Contains(t, eventTypes(f.ctx), "repshard.rewards.v1.EventFeeEscrowed")

	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester2, urep(10)))
	require.NoError(t, f.k.Refund(f.ctx, f.requester, urep(1_234_567)))
	require.Equal(t, int64(0), f.delta(s, f.requester))
	require.Equal(t, int64(-10), f.delta(s, f.requester2))
	require.Equal(t, int64(10), f.delta(s, f.escrow))
	require.Contains(t, eventTypes(f.ctx), "repshard.rewards.v1.EventFeeRefunded")

	// Nothing else moved: no earnings, no pool, supply intact.
	require.True(t, f.totalOwed().IsZero())
	require.True(t, f.pool().IsZero())
	require.Equal(t, s.supply, f.supply())
	f.requireSolvent()
}

func TestEscrowFeeBadInput(t *testing.T) {
	f := newAppFixture(t)
	have := f.bal(f.requester)
	cases := map[string]struct {
		fee  sdk.Coin
		want *errorsmod.Error
	}{
		"more than the balance": {sdk.NewCoin(chaincfg.BondDenom, have.AddRaw(1)), types.ErrInsufficientFunds},
		"wrong denom":           {sdk.NewInt64Coin("uatom", 5), types.ErrInvalidFee},
		"negative":              {sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(-5)}, types.ErrInvalidFee},
		"nil amount":            {sdk.Coin{Denom: chaincfg.BondDenom}, types.ErrInvalidFee},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := f.snap()
			err := f.k.EscrowFee(f.ctx, f.requester, tc.fee)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, s, f.snap(), "a refused escrow changes nothing")
		})
	}
	// A poor requester: an account with no coins at all.
	poor := sdk.AccAddress([]byte("poor-requester-addr1"))
	s := f.snap()
	require.ErrorIs(t, f.k.EscrowFee(f.ctx, poor, urep(1)), types.ErrInsufficientFunds)
	require.Equal(t, s, f.snap())

	// A refund larger than the escrow fails and moves nothing.
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(100)))
	s = f.snap()
	require.ErrorIs(t, f.k.Refund(f.ctx, f.requester, urep(101)), sdkerrors.ErrInsufficientFunds)
	require.Equal(t, int64(0), f.delta(s, f.escrow))
}

func TestPayCompletionSplitsFeeAndCountsPoints(t *testing.T) {
	f := newAppFixture(t)
	p, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, uint32(50_000), p.ProtocolFeeSharePpm)

	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_000_019)))
	s := f.snap()
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(1_000_019), 7, 1_234_567))

	// ⌊1_000_019·50_000/1e6⌋ = 50_000 (50_000.95 floored); the worker gets the rest.
	require.Equal(t, int64(-1_000_019), f.delta(s, f.escrow))
	require.Equal(t, "50000", f.communityPool().Sub(s.community).String())
	require.Equal(t, int64(50_000), f.delta(s, f.distr))
	require.Equal(t, int64(950_019), f.delta(s, f.rwds))
	require.Equal(t, "950019", f.owed(f.worker).String())
	require.Equal(t, "950019", f.totalOwed().String())
	require.Equal(t, int64(0), f.delta(s, f.worker), "earnings are owed, not paid, until claimed")
	require.Equal(t, s.supply, f.supply())

	// points = the protocol share paid: 50 000 (units and bytes only counted).
	c, err := f.k.GetContribution(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, "50000", c.TotalPoints.String())
	require.Equal(t, uint64(7), c.ComputeUnits)
	require.Equal(t, uint64(1_234_567), c.DataBytes)
	require.Equal(t, uint64(1), c.Completed)
	require.Equal(t, f.ctx.BlockHeight(), c.LastHeight)
	paid := typedEvents[*types.EventWorkerPaid](t, f.ctx)
	require.Len(t, paid, 1)
	require.Equal(t, "50000", paid[0].Points.String(), "the event's points are the points earned")
	require.Equal(t, urep(50_000), paid[0].ProtocolShare)

	// A second completion adds to the same worker, O(1).
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(20)))
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(20), 3, 999))
	c, err = f.k.GetContribution(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, "50001", c.TotalPoints.String(), "⌊20·0.05⌋ = 1 more point")
	require.Equal(t, uint64(10), c.ComputeUnits)
	require.Equal(t, uint64(1_235_566), c.DataBytes)
	// ⌊20·0.05⌋ = 1 to the community pool, 19 to the worker.
	require.Equal(t, "950038", f.owed(f.worker).String())
	require.Equal(t, "50001", f.communityPool().Sub(s.community).String())
	f.requireSolvent()
}

func TestSettleFailureSplitsFee(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(999)))
	s := f.snap()
	// ⌊999·333_333/1e6⌋ = 332 back, 667 to the worker.
	require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker}, urep(999), 333_333))
	require.Equal(t, int64(332), f.delta(s, f.requester))
	require.Equal(t, int64(-999), f.delta(s, f.escrow))
	require.Equal(t, int64(667), f.delta(s, f.rwds))
	require.Equal(t, "667", f.owed(f.worker).String())
	require.Equal(t, s.community, f.communityPool(), "a failure pays no protocol share")
	c, err := f.k.GetContribution(f.ctx, f.worker)
	require.NoError(t, err)
	require.True(t, c.TotalPoints.IsZero(), "a failure earns no contribution points")
	require.Contains(t, eventTypes(f.ctx), "repshard.rewards.v1.EventFailureSettled")

	// Full refund and no refund.
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(50)))
	require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker2}, urep(50), 1_000_000))
	require.True(t, f.owed(f.worker2).IsZero())
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(50)))
	require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker2}, urep(50), 0))
	require.Equal(t, "50", f.owed(f.worker2).String())
	require.Equal(t, int64(332-50), f.delta(s, f.requester))

	// A refund fraction above one is refused, nothing moves.
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(50)))
	s = f.snap()
	require.ErrorIs(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker}, urep(50), 1_000_001), types.ErrInvalidRefund)
	require.Equal(t, s, f.snap())
	f.requireSolvent()
}

// A failure confirmed by several workers pays the worker share to all of
// them in equal parts; the last reporter also takes the remainder, so
// nothing is minted or lost. With no reporter there is nothing to settle.
func TestSettleFailureSplitsTheWorkerShareBetweenReporters(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_001)))
	s := f.snap()
	// ⌊1001/2⌋ = 500 back; 501 for the workers: 250 and 251.
	require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker, f.worker2}, urep(1_001), 500_000))
	require.Equal(t, int64(500), f.delta(s, f.requester))
	require.Equal(t, "250", f.owed(f.worker).String())
	require.Equal(t, "251", f.owed(f.worker2).String())
	require.Equal(t, int64(-1_001), f.delta(s, f.escrow))

	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(10)))
	s = f.snap()
	require.ErrorIs(t, f.k.SettleFailure(f.ctx, f.requester, nil, urep(10), 500_000), types.ErrInvalidRefund)
	require.Equal(t, s, f.snap())
	f.requireSolvent()
}

// TestRoundingNeverMintsOrLoses pays many awkward fees with awkward shares:
// every micro-unit that leaves escrow lands in exactly one place.
func TestRoundingNeverMintsOrLoses(t *testing.T) {
	f := newAppFixture(t)
	s := f.snap()
	fees := []int64{0, 1, 2, 3, 7, 19, 20, 21, 999, 1_000_001, 3_333_333, 12_345_678_901}
	shares := []uint32{0, 1, 49_999, 50_000, 333_333, 999_999, 1_000_000}
	var escrowed, protocol, toWorker, refunded int64
	for _, share := range shares {
		f.setParams(func(p *types.Params) { p.ProtocolFeeSharePpm = share })
		for _, fee := range fees {
			require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(fee)))
			escrowed += 2 * fee
			before := f.communityPool()
			require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(fee), 1, 1))
			got := f.communityPool().Sub(before).Int64()
			require.Equal(t, fee*int64(share)/1_000_000, got, "protocol share is fee·ppm floored (fee %d, share %d)", fee, share)
			protocol += got
			toWorker += fee - got

			require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(fee)))
			back := f.bal(f.requester)
			require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker2}, urep(fee), share))
			r := f.bal(f.requester).Sub(back).Int64()
			require.Equal(t, fee*int64(share)/1_000_000, r)
			refunded += r
			toWorker += fee - r
		}
	}
	require.Equal(t, escrowed, protocol+toWorker+refunded)
	require.True(t, f.bal(f.escrow).IsZero(), "escrow is empty after every fee is settled")
	require.Equal(t, protocol, f.communityPool().Sub(s.community).Int64())
	require.Equal(t, toWorker, f.totalOwed().Int64())
	require.Equal(t, toWorker, f.owed(f.worker).Add(f.owed(f.worker2)).Int64())
	require.Equal(t, -(escrowed - refunded), f.delta(s, f.requester))
	require.Equal(t, s.supply, f.supply(), "no coin minted or burnt")
	f.requireSolvent()
}

func TestClaimRewardsPaysOnce(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_000)))
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(1_000), 1, 0)) // 950 owed
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(100)))
	require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker}, urep(100), 500_000)) // 50 owed
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(40)))
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker2, urep(40), 1, 0)) // 38 owed to worker2

	pending, err := f.query.PendingRewards(f.ctx, &types.QueryPendingRewardsRequest{Address: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(1_000), pending.Total)
	require.Equal(t, urep(1_000), pending.Fees)
	require.Equal(t, urep(0), pending.EpochRewards)
	require.Equal(t, urep(0), pending.Slashed)

	s := f.snap()
	resp, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(1_000), resp.Amount)
	require.Equal(t, urep(1_000), resp.Fees)
	require.Equal(t, int64(1_000), f.delta(s, f.worker))
	require.Equal(t, int64(-1_000), f.delta(s, f.rwds))
	require.True(t, f.owed(f.worker).IsZero())
	require.Equal(t, "38", f.totalOwed().String(), "worker2's earnings stay owed")
	require.Contains(t, eventTypes(f.ctx), "repshard.rewards.v1.EventRewardsClaimed")
	f.requireSolvent()

	// Claiming again pays nothing and changes nothing.
	s = f.snap()
	_, err = f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()})
	require.ErrorIs(t, err, types.ErrNothingToClaim)
	require.Equal(t, s, f.snap())

	pending, err = f.query.PendingRewards(f.ctx, &types.QueryPendingRewardsRequest{Address: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(0), pending.Total)

	resp, err = f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker2.String()})
	require.NoError(t, err)
	require.Equal(t, urep(38), resp.Amount)
	require.True(t, f.totalOwed().IsZero())
	require.True(t, f.bal(f.rwds).IsZero())
}

func TestClaimRewardsBadInput(t *testing.T) {
	f := newAppFixture(t)
	s := f.snap()
	_, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.requester.String()})
	require.ErrorIs(t, err, types.ErrNothingToClaim, "never owed anything")
	require.Equal(t, s, f.snap())

	for name, addr := range map[string]string{"empty": "", "garbage": "rep1nope", "other prefix": keepertest.GovAddressWithPrefix("cosmos")} {
		_, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: addr})
		require.ErrorIs(t, err, sdkerrors.ErrInvalidAddress, name)
		require.Equal(t, s, f.snap(), name)
	}
}

func TestQueriesBadInput(t *testing.T) {
	f := newAppFixture(t)
	_, err := f.query.PendingRewards(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.query.PendingRewards(f.ctx, &types.QueryPendingRewardsRequest{Address: "rep1bad"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.query.Contribution(f.ctx, &types.QueryContributionRequest{Address: ""})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.query.Pool(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	pool, err := f.query.Pool(f.ctx, &types.QueryPoolRequest{})
	require.NoError(t, err)
	require.Equal(t, urep(0), pool.Pool)
	c, err := f.query.Contribution(f.ctx, &types.QueryContributionRequest{Address: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, f.worker.String(), c.Contribution.Worker)
	require.True(t, c.Contribution.TotalPoints.IsZero())
}

func TestCheckSolvencyDetectsShortfall(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(100)))
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(100), 1, 0))
	f.requireSolvent()
	// Pretend one more micro-unit is owed than the account holds.
	total := f.totalOwed()
	require.NoError(t, f.k.TotalOwed.Set(f.ctx, total.AddRaw(1)))
	require.ErrorIs(t, f.k.CheckSolvency(f.ctx), types.ErrInsolvent)
	require.NoError(t, f.k.TotalOwed.Set(f.ctx, total))
	require.NoError(t, f.k.Pool.Set(f.ctx, sdkmath.OneInt()))
	require.ErrorIs(t, f.k.CheckSolvency(f.ctx), types.ErrInsolvent)
}

// stubShards stands in for x/shard's SlashBond: it moves fractionPpm of a
// fixed bond from a funded account (standing in for the x/shard bond account)
// to toModule, like the real one.
type stubShards struct {
	bank interface {
		SendCoinsFromAccountToModule(ctx context.Context, from sdk.AccAddress, to string, amt sdk.Coins) error
	}
	bondHolder sdk.AccAddress
	bond       int64
	calls      []uint32
	err        error
}

func (s *stubShards) SlashBond(ctx context.Context, _ sdk.AccAddress, fractionPpm uint32, toModule string) (sdk.Coin, error) {
	s.calls = append(s.calls, fractionPpm)
	if s.err != nil {
		return sdk.Coin{}, s.err
	}
	amt := urep(s.bond * int64(fractionPpm) / 1_000_000)
	if amt.IsZero() {
		return amt, nil
	}
	return amt, s.bank.SendCoinsFromAccountToModule(ctx, s.bondHolder, toModule, sdk.NewCoins(amt))
}

// TestPenalizeExpiryGrowsThePool uses the real bank and store of the app with
// a stand-in for x/shard's SlashBond.
func TestPenalizeExpiryGrowsThePool(t *testing.T) {
	f := newAppFixture(t)
	stub := &stubShards{bank: f.c.App.BankKeeper, bondHolder: f.requester2, bond: 12_345_678}
	k := keeper.NewKeeper(f.c.App.AppCodec(), runtime.NewKVStoreService(f.c.App.GetKey(types.StoreKey)),
		keepertest.AddressCodec(), authtypes.NewModuleAddress(govtypes.ModuleName).String(),
		f.c.App.AccountKeeper, f.c.App.BankKeeper, f.c.App.DistrKeeper, stub)
	f.k = k

	s := f.snap()
	require.NoError(t, k.PenalizeExpiry(f.ctx, f.worker))
	require.Equal(t, []uint32{10_000}, stub.calls, "slashes expiry_slash_ppm of the bond")
	// ⌊12_345_678·10_000/1e6⌋ = 123_456
	require.Equal(t, "123456", f.pool().String())
	require.Equal(t, int64(123_456), f.delta(s, f.rwds))
	slashed, err := k.SlashedFrom(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, "123456", slashed.String())
	require.Contains(t, eventTypes(f.ctx), "repshard.rewards.v1.EventBondSlashed")

	pending, err := f.query.PendingRewards(f.ctx, &types.QueryPendingRewardsRequest{Address: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(123_456), pending.Slashed)
	require.Equal(t, urep(0), pending.Total, "a slash is not owed to the slashed worker")
	pool, err := f.query.Pool(f.ctx, &types.QueryPoolRequest{})
	require.NoError(t, err)
	require.Equal(t, urep(123_456), pool.Pool)
	f.requireSolvent()

	// A second expiry adds up.
	require.NoError(t, k.PenalizeExpiry(f.ctx, f.worker))
	require.Equal(t, "246912", f.pool().String())

	// A failing slash changes nothing.
	stub.err = errorsmod.Wrap(sdkerrors.ErrNotFound, "no such worker")
	s = f.snap()
	require.ErrorIs(t, k.PenalizeExpiry(f.ctx, f.worker2), sdkerrors.ErrNotFound)
	require.Equal(t, s, f.snap())

	// With a zero slash fraction x/shard is not even called.
	f.setParams(func(p *types.Params) { p.ExpirySlashPpm = 0 })
	stub.err = nil
	n := len(stub.calls)
	require.NoError(t, k.PenalizeExpiry(f.ctx, f.worker))
	require.Len(t, stub.calls, n)
	f.requireSolvent()
}

// TestPenalizeExpiryWithRealShard slashes a worker registered with the real
// x/shard: the bond shrinks and the slashed coins become pool, exactly.
func TestPenalizeExpiryWithRealShard(t *testing.T) {
	f := newAppFixture(t)
	_, err := shardkeeper.NewMsgServerImpl(f.c.App.ShardKeeper).RegisterWorker(f.ctx, &shardtypes.MsgRegisterWorker{
		Worker: f.worker.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 10, Bond: urep(12_345_678),
	})
	require.NoError(t, err)
	shardAcc := authtypes.NewModuleAddress(shardtypes.ModuleName)
	s := f.snap()
	shardBefore := f.bal(shardAcc)

	require.NoError(t, f.k.PenalizeExpiry(f.ctx, f.worker))
	// ⌊12_345_678·10_000/1e6⌋ = 123_456
	require.Equal(t, "123456", f.pool().String())
	require.Equal(t, int64(123_456), f.delta(s, f.rwds))
	require.Equal(t, "-123456", f.bal(shardAcc).Sub(shardBefore).String())
	w, err := f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, urep(12_345_678-123_456), w.Bond)
	slashed, err := f.k.SlashedFrom(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, "123456", slashed.String())
	require.Equal(t, s.supply, f.supply())
	f.requireSolvent()

	// The next slash takes 1% of what is left: ⌊12_222_222·0.01⌋ = 122_222.
	require.NoError(t, f.k.PenalizeExpiry(f.ctx, f.worker))
	require.Equal(t, "245678", f.pool().String())
	f.requireSolvent()

	// A worker x/shard does not know: an error, nothing changes.
	s = f.snap()
	require.Error(t, f.k.PenalizeExpiry(f.ctx, f.worker2))
	require.Equal(t, s, f.snap())
}

func TestGenesisRoundTripWithState(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_000)))
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(1_000), 4, 5_000))
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(300)))
	require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker2}, urep(300), 0))
	_, err := f.k.FundPool(f.ctx, f.requester2, urep(77))
	require.NoError(t, err)
	require.NoError(t, f.k.Slashed.Set(f.ctx, f.worker2, sdkmath.NewInt(77)))

	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, "77", gs.Ledger.Funded.String())
	require.Len(t, gs.WorkerEpochs, 2)
	require.Len(t, gs.Owed, 2)
	require.Len(t, gs.Contributions, 1)
	require.Len(t, gs.Slashed, 1)
	require.Equal(t, "77", gs.Pool.String())
	require.NoError(t, gs.Validate())

	g := newFixture(t)
	require.NoError(t, g.keeper.InitGenesis(g.ctx, *gs))
	again, err := g.keeper.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, g.cdc.MustMarshal(gs), g.cdc.MustMarshal(again))
	total, err := g.keeper.GetTotalOwed(g.ctx)
	require.NoError(t, err)
	require.Equal(t, "1250", total.String(), "950 + 300: total owed is derived from the entries")

	// Invalid state is refused.
	dup := *gs
	dup.Owed = append(dup.Owed, dup.Owed[0])
	require.Error(t, dup.Validate())
	neg := *gs
	neg.Pool = sdkmath.NewInt(-1)
	require.Error(t, neg.Validate())
	badAddr := *gs
	badAddr.Owed = []types.WorkerAmount{{Worker: "cosmos1xyz", Amount: sdkmath.OneInt()}}
	h := newFixture(t)
	require.Error(t, h.keeper.InitGenesis(h.ctx, badAddr))
	require.Nil(t, h.rawParams(), "an invalid genesis writes nothing")
}
