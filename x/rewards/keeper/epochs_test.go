package keeper_test

import (
	"context"
	"testing"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/rewards/keeper"
	"github.com/repshard/repshard/x/rewards/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// endEpoch runs the rewards EndBlock at the last block of the open epoch and
// moves the context to the first block of the next one.
func (f *appFixture) endEpoch() {
	f.t.Helper()
	open, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(f.t, err)
	params, err := f.k.GetParams(f.ctx)
	require.NoError(f.t, err)
	end := keeper.EpochEndHeight(open, params)
	if end < f.ctx.BlockHeight() {
		end = f.ctx.BlockHeight()
	}
	f.ctx = f.ctx.WithBlockHeight(end)
	require.NoError(f.t, f.k.EndBlock(f.ctx))
	after, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(f.t, err)
	require.Equal(f.t, open.Number+1, after.Number, "the epoch closed")
	f.ctx = f.ctx.WithBlockHeight(end + 1)
}

// contribute records a completed one-unit request of f.requester's whose
// protocol share (default 5%) is points: the fee is 20·points.
func (f *appFixture) contribute(worker sdk.AccAddress, points int64) {
	f.t.Helper()
	p, err := f.k.GetParams(f.ctx)
	require.NoError(f.t, err)
	require.Equal(f.t, uint32(50_000), p.ProtocolFeeSharePpm, "contribute assumes the default protocol share")
	before, err := f.k.GetContribution(f.ctx, worker)
	require.NoError(f.t, err)
	require.NoError(f.t, f.k.EscrowFee(f.ctx, f.requester, urep(20*points)))
	require.NoError(f.t, f.k.PayCompletion(f.ctx, worker, urep(20*points), 1, 0))
	after, err := f.k.GetContribution(f.ctx, worker)
	require.NoError(f.t, err)
	require.Equal(f.t, before.TotalPoints.AddRaw(points).String(), after.TotalPoints.String())
}

// touchByCompletion records a completed request with no fee: an attempt that
// earns no points and moves no coin.
func (f *appFixture) touchByCompletion(worker sdk.AccAddress) {
	f.t.Helper()
	require.NoError(f.t, f.k.PayCompletion(f.ctx, worker, urep(0), 1, 0))
}

func (f *appFixture) fund(from sdk.AccAddress, amount int64) {
	f.t.Helper()
	_, err := f.msgs.FundPool(f.ctx, &types.MsgFundPool{Funder: from.String(), Amount: urep(amount)})
	require.NoError(f.t, err)
}

func (f *appFixture) pending(addr sdk.AccAddress) *types.QueryPendingRewardsResponse {
	f.t.Helper()
	res, err := f.query.PendingRewards(f.ctx, &types.QueryPendingRewardsRequest{Address: addr.String()})
	require.NoError(f.t, err)
	return res
}

func (f *appFixture) ledger() types.Ledger {
	f.t.Helper()
	l, err := f.k.GetLedger(f.ctx)
	require.NoError(f.t, err)
	return l
}

// requireBooks checks the module's full accounting and that the rewards
// account holds exactly what it accounts for.
func (f *appFixture) requireBooks() {
	f.t.Helper()
	require.NoError(f.t, f.k.CheckAccounting(f.ctx))
	l := f.ledger()
	held := f.totalOwed().Add(f.pool()).Add(l.EpochRewardsOwed).Add(l.Unsettled).Add(l.Dust)
	require.Equal(f.t, held.String(), f.bal(f.rwds).String(), "rewards account = fees owed + pool + epoch owed + unsettled + dust")
}

// Two workers share an epoch's emission pro rata to their points; the
// rounding remainder is dust, carried into the next epoch's emission.
func TestEpochEmissionProRataWithDust(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 1_000_000)     // default: 1 REP scheduled per epoch
	f.contribute(f.worker, 1_000_000)  // fee 20 000 000: 1 000 000 points
	f.contribute(f.worker2, 2_000_000) // fee 40 000 000: 2 000 000 points
	require.Equal(t, "0", f.pending(f.worker).EpochRewards.Amount.String(), "nothing before the epoch closes")
	f.endEpoch()
	f.requireBooks()

	// E = min(1e6, 3e6 points) = 1e6; rpp = ⌊1e6·1e18/3e6⌋ =
	// 333333333333333333; 1e6 points → 333 333, 2e6 → 666 666; reserved
	// ⌊3e6·rpp/1e18⌋ = 999 999; dust 1.
	rec, err := f.k.GetEpochRecord(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "1000000", rec.Scheduled.String())
	require.Equal(t, "1000000", rec.Emitted.String(), "below the points: not capped")
	require.Equal(t, "333333333333333333", rec.RewardPerPoint.String())
	require.Equal(t, "999999", rec.UnsettledAmount.String())
	require.Equal(t, "1", f.ledger().Dust.String())
	require.Equal(t, "0", f.pool().String())
	require.Equal(t, urep(333_333), f.pending(f.worker).EpochRewards)
	require.Equal(t, urep(666_666), f.pending(f.worker2).EpochRewards)

	// Epoch 2: only worker earns points (1 000); the pool has 500: 500 + 1 dust.
	f.fund(f.requester, 500)
	f.contribute(f.worker, 1_000)
	f.endEpoch()
	f.requireBooks()
	require.Equal(t, "0", f.ledger().Dust.String(), "the dust went out with epoch 2")
	require.Equal(t, urep(333_333+501), f.pending(f.worker).EpochRewards)

	before := f.bal(f.worker)
	res, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(333_834), res.EpochRewards)
	require.Equal(t, urep(19_000_000+19_000), res.Fees, "95% of the fees 20 000 000 and 20 000")
	require.Equal(t, "19352834", f.bal(f.worker).Sub(before).String())
	f.requireBooks()

	res, err = f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker2.String()})
	require.NoError(t, err)
	require.Equal(t, urep(666_666), res.EpochRewards)
	f.requireBooks()
	// Every worker of epoch 1 settled: the epoch's leftover (0 here) is dust.
	rec, err = f.k.GetEpochRecord(f.ctx, 1)
	require.NoError(t, err)
	require.True(t, rec.UnsettledPoints.IsZero())
	require.True(t, rec.UnsettledAmount.IsZero())
	l := f.ledger()
	require.Equal(t, "1000500", l.Funded.String())
	require.Equal(t, "1000500", l.EpochRewardsClaimed.String(), "funded = claimed: nothing lost, nothing minted")
}

// Per-worker rounding: three equal workers of an epoch that emits 10 get 3
// each; when the last one settles the leftover 1 becomes dust.
func TestPerWorkerRoundingBecomesDust(t *testing.T) {
	f := newAppFixture(t)
	f.setParams(func(p *types.Params) { p.EpochEmissionFixed = urep(10) })
	f.fund(f.requester, 10)
	// Points 100 each: rpp = ⌊10·1e18/300⌋, reserved ⌊300·rpp/1e18⌋ = 9,
	// dust 1 at emission; each worker ⌊100·rpp/1e18⌋ = 3.
	for _, w := range []sdk.AccAddress{f.worker, f.worker2, f.requester2} {
		f.contribute(w, 100)
	}
	f.endEpoch()
	require.Equal(t, "1", f.ledger().Dust.String())
	for _, w := range []sdk.AccAddress{f.worker, f.worker2, f.requester2} {
		require.Equal(t, urep(3), f.pending(w).EpochRewards)
		_, _, _, err := f.k.Claim(f.ctx, w)
		require.NoError(t, err)
		f.requireBooks()
	}
	require.Equal(t, "1", f.ledger().Dust.String())
	require.Equal(t, "9", f.ledger().EpochRewardsClaimed.String())

	// Unequal points: 100 and 200, emission 10 + dust 1 = 11, rpp
	// ⌊11e18/300⌋, reserved ⌊300·rpp/1e18⌋ = 10 (dust 1 again); paid 3 and 7.
	f.fund(f.requester, 10)
	f.contribute(f.worker, 100)
	f.contribute(f.worker2, 200)
	f.endEpoch()
	f.requireBooks()
	require.Equal(t, urep(3), f.pending(f.worker).EpochRewards, "⌊100·⌊11e18/300⌋/1e18⌋")
	require.Equal(t, urep(7), f.pending(f.worker2).EpochRewards, "⌊200·⌊11e18/300⌋/1e18⌋")
	_, _, _, err := f.k.Claim(f.ctx, f.worker)
	require.NoError(t, err)
	_, _, _, err = f.k.Claim(f.ctx, f.worker2)
	require.NoError(t, err)
	f.requireBooks()
	l := f.ledger()
	require.Equal(t, l.Funded.String(), l.EpochRewardsClaimed.Add(l.Dust).Add(f.pool()).String())
	require.Equal(t, "1", l.Dust.String(), "11 emitted, 10 paid: 1 carried")
}

func TestEpochWithoutPointsEmitsNothing(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 5_000_000)
	f.endEpoch()
	f.endEpoch()
	require.Equal(t, "5000000", f.pool().String(), "no contribution, no emission: the pool keeps it")
	_, err := f.k.GetEpochRecord(f.ctx, 1)
	require.Error(t, err)
	ep, err := f.query.Epoch(f.ctx, &types.QueryEpochRequest{Number: 2})
	require.NoError(t, err)
	require.Equal(t, uint64(3), ep.Current.Number)
	require.Equal(t, "0", ep.Closed.Emitted.String())
	f.requireBooks()

	// A fraction of the pool instead of a fixed amount: 10% of 5 000 000
	// (below the 1 000 000 points).
	f.setParams(func(p *types.Params) {
		p.EpochEmissionFixed = urep(0)
		p.EpochEmissionFractionPpm = 100_000
	})
	f.contribute(f.worker, 1_000_000)
	f.endEpoch()
	require.Equal(t, "4500000", f.pool().String())
	require.Equal(t, urep(500_000), f.pending(f.worker).EpochRewards)
	ep, err = f.query.Epoch(f.ctx, &types.QueryEpochRequest{})
	require.NoError(t, err)
	require.Equal(t, uint64(3), ep.Closed.Number, "the last closed epoch with contributions")
	require.Equal(t, "500000", ep.Closed.Emitted.String())
	f.requireBooks()
}

func TestClaimTwicePaysOnceAndNonContributorGetsNothing(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 2_000_000)
	require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(1_000)))
	require.NoError(t, f.k.PayCompletion(f.ctx, f.worker, urep(1_000), 2, 0)) // fees 950, protocol 50
	f.endEpoch()

	// 1 000 000 scheduled, 50 emitted: the 50 points the fee paid the protocol.
	before := f.bal(f.worker)
	res, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(950), res.Fees)
	require.Equal(t, urep(50), res.EpochRewards)
	require.Equal(t, urep(1_000), res.Amount)
	require.Equal(t, "1000", f.bal(f.worker).Sub(before).String())

	s := f.snap()
	l := f.ledger()
	_, err = f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()})
	require.ErrorIs(t, err, types.ErrNothingToClaim)
	require.Equal(t, s, f.snap())
	require.Equal(t, l, f.ledger())

	// requester2 never contributed: nothing pending, nothing to claim,
	// however many epochs emitted.
	f.contribute(f.worker, 1_000)
	f.endEpoch()
	require.Equal(t, urep(0), f.pending(f.requester2).Total)
	s = f.snap()
	_, err = f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.requester2.String()})
	require.ErrorIs(t, err, types.ErrNothingToClaim)
	require.Equal(t, s, f.snap())
	f.requireBooks()
}

// A worker that contributed in epoch 1 and then was absent for 100 epochs
// (others earning every epoch) settles exactly its epoch-1 reward on return.
func TestAbsentWorkerSettlesOnReturn(t *testing.T) {
	f := newAppFixture(t)
	f.setParams(func(p *types.Params) { p.EpochEmissionFixed = urep(1_000) })
	f.fund(f.requester, 200_000)
	f.contribute(f.worker, 3_000)
	f.contribute(f.worker2, 1_000)
	f.endEpoch()
	for i := 0; i < 100; i++ {
		f.contribute(f.worker2, 1_000)
		f.endEpoch()
	}
	require.NoError(t, f.k.CheckAccounting(f.ctx))
	// Epoch 1: rpp ⌊1000e18/4000⌋ = 25e16 → 750 for 3000 points.
	require.Equal(t, urep(750), f.pending(f.worker).EpochRewards)
	ws, err := f.k.WorkerEpochs.Get(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, uint64(1), ws.Epoch, "untouched for 100 epochs")

	// Its return (a completion) settles epoch 1 and starts epoch 102.
	f.contribute(f.worker, 1_000)
	ws, err = f.k.WorkerEpochs.Get(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, uint64(102), ws.Epoch)
	require.Equal(t, "750", ws.EpochRewardsOwed.String())
	require.Equal(t, "1000", ws.Points.String())
	f.requireBooks()

	res, err := f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, urep(750), res.EpochRewards)
	// worker2: 250 in epoch 1, 1000 in each of the 100 others (it was alone).
	res, err = f.msgs.ClaimRewards(f.ctx, &types.MsgClaimRewards{Worker: f.worker2.String()})
	require.NoError(t, err)
	require.Equal(t, urep(250+100*1_000), res.EpochRewards, "epochs 1–100 settled at each touch, epoch 101 now")
	f.requireBooks()
	l := f.ledger()
	require.Equal(t, "101000", l.EpochRewardsClaimed.Add(l.EpochRewardsOwed).Add(l.Unsettled).String(), "101 epochs × 1 000")
}

// A failure rate above the threshold over an epoch slashes
// failure_slash_ppm of the bond at the worker's first touch after the epoch.
func TestFailureRateSlash(t *testing.T) {
	f := newAppFixture(t)
	f.setParams(func(p *types.Params) {
		p.EpochEmissionFixed = urep(0) // the pool only grows by slashes here
		p.FailureSlashMinAttempts = 3
	})
	register := func(w sdk.AccAddress) {
		_, err := shardkeeper.NewMsgServerImpl(f.c.App.ShardKeeper).RegisterWorker(f.ctx, &shardtypes.MsgRegisterWorker{
			Worker: w.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 10, Bond: urep(10_000_000),
		})
		require.NoError(t, err)
	}
	register(f.worker)
	register(f.worker2)
	fail := func(w sdk.AccAddress) {
		require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(10)))
		require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{w}, urep(10), 500_000))
	}
	// worker: 1 completion, 2 failures → 666 666 ppm > 500 000.
	f.contribute(f.worker, 1_000)
	fail(f.worker)
	fail(f.worker)
	// worker2: 1 completion, 1 failure → exactly 500 000: not above.
	f.contribute(f.worker2, 1_000)
	fail(f.worker2)
	c, err := f.query.Contribution(f.ctx, &types.QueryContributionRequest{Address: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, uint64(3), c.Epoch.Attempts)
	require.Equal(t, uint64(2), c.Epoch.Failures)
	require.Equal(t, "2000", c.EpochTotalPoints.String())
	f.endEpoch()
	require.Equal(t, "0", f.pool().String(), "lazy: nothing happens at the boundary")

	f.contribute(f.worker, 1_000)
	f.contribute(f.worker2, 1_000)
	// 5% of 10 000 000.
	require.Equal(t, "500000", f.pool().String())
	w, err := f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, urep(9_500_000), w.Bond)
	w2, err := f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker2)
	require.NoError(t, err)
	require.Equal(t, urep(10_000_000), w2.Bond)
	require.Equal(t, urep(500_000), f.pending(f.worker).Slashed)
	f.requireBooks()

	// Touching again in the same epoch does not slash twice.
	f.contribute(f.worker, 1_000)
	require.Equal(t, "500000", f.pool().String())

	// An expiry counts as a failure too (and slashes 1% at once).
	require.NoError(t, f.k.PenalizeExpiry(f.ctx, f.worker2)) // 10 000 000 · 1% = 100 000
	require.NoError(t, f.k.PenalizeExpiry(f.ctx, f.worker2)) // 9 900 000 · 1% = 99 000
	f.endEpoch()
	f.contribute(f.worker2, 1_000) // 2 failures of 3 → 5% of 9 801 000 = 490 050
	require.Equal(t, "1189050", f.pool().String())
	f.requireBooks()

	// Below failure_slash_min_attempts a rate is not judged: 2 failures of 2
	// attempts (100%) slash nothing.
	f.endEpoch()
	fail(f.worker)
	fail(f.worker)
	f.endEpoch()
	f.contribute(f.worker, 1_000)
	require.Equal(t, "1189050", f.pool().String(), "2 attempts < failure_slash_min_attempts 3")
	w, err = f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker)
	require.NoError(t, err)
	require.Equal(t, urep(9_500_000), w.Bond)
	f.requireBooks()
}

// Bad input to MsgFundPool: a clear error and no state change.
func TestFundPoolBadInput(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 100)
	cases := map[string]struct {
		msg *types.MsgFundPool
		err error
	}{
		"zero":            {&types.MsgFundPool{Funder: f.requester.String(), Amount: urep(0)}, types.ErrInvalidFunding},
		"wrong denom":     {&types.MsgFundPool{Funder: f.requester.String(), Amount: sdk.NewInt64Coin("uatom", 5)}, types.ErrInvalidFunding},
		"negative":        {&types.MsgFundPool{Funder: f.requester.String(), Amount: sdk.Coin{Denom: "urep", Amount: sdkmath.NewInt(-5)}}, types.ErrInvalidFunding},
		"cannot pay":      {&types.MsgFundPool{Funder: f.requester.String(), Amount: urep(2_000_000_000_000)}, types.ErrFunderCannotPay},
		"invalid address": {&types.MsgFundPool{Funder: "cosmos1xyz", Amount: urep(5)}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, l := f.snap(), f.ledger()
			_, err := f.msgs.FundPool(f.ctx, tc.msg)
			require.Error(t, err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			}
			require.Equal(t, s, f.snap())
			require.Equal(t, l, f.ledger())
		})
	}
	require.Equal(t, "100", f.pool().String())
	f.requireBooks()
}

// Governance funds the pool from the community pool: one proposal carrying
// distribution's MsgCommunityPoolSpend (to the gov account) and MsgFundPool
// with the gov account as funder. Run here through the app's msg router as
// gov executes a passed proposal.
func TestGovernanceFundsPoolFromCommunityPool(t *testing.T) {
	f := newAppFixture(t)
	require.NoError(t, f.c.App.DistrKeeper.FundCommunityPool(f.ctx, sdk.NewCoins(urep(3_000_000)), f.requester))
	community := f.communityPool()
	gov := authtypes.NewModuleAddress(govtypes.ModuleName)
	msgs := []sdk.Msg{
		&distrtypes.MsgCommunityPoolSpend{Authority: gov.String(), Recipient: gov.String(), Amount: sdk.NewCoins(urep(2_000_000))},
		&types.MsgFundPool{Funder: gov.String(), Amount: urep(2_000_000)},
	}
	for _, msg := range msgs {
		handler := f.c.App.MsgServiceRouter().Handler(msg)
		require.NotNil(t, handler)
		_, err := handler(f.ctx, msg)
		require.NoError(t, err)
	}
	require.Equal(t, community.SubRaw(2_000_000).String(), f.communityPool().String())
	require.Equal(t, "2000000", f.pool().String())
	require.Equal(t, "2000000", f.ledger().Funded.String())
	f.requireBooks()

	// Params stay governance-only.
	p, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	s := f.snap()
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.requester.String(), Params: p})
	require.ErrorIs(t, err, types.ErrUnauthorized)
	require.Equal(t, s, f.snap())
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: keepertest.Authority(), Params: p})
	require.NoError(t, err)
}

// The accounting check catches a coin that goes missing from the book.
func TestCheckAccountingDetectsImbalance(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 1_000_000)
	f.contribute(f.worker, 1_000)
	f.endEpoch()
	f.requireBooks()
	l := f.ledger()
	l.Dust = l.Dust.AddRaw(1)
	require.NoError(t, f.k.Ledger.Set(f.ctx, l))
	require.ErrorIs(t, f.k.CheckLedger(f.ctx), types.ErrAccounting)
	l.Dust = l.Dust.SubRaw(1)
	require.NoError(t, f.k.Ledger.Set(f.ctx, l))
	rec, err := f.k.GetEpochRecord(f.ctx, 1)
	require.NoError(t, err)
	rec.UnsettledPoints = rec.UnsettledPoints.AddRaw(1)
	require.NoError(t, f.k.EpochRecords.Set(f.ctx, 1, rec))
	require.ErrorIs(t, f.k.CheckAccounting(f.ctx), types.ErrAccounting)
}

// A failure while closing an epoch is rolled back alone and reported; the
// epoch stays open and the next EndBlock closes it. The chain never halts.
func TestEpochCloseFailureIsIsolated(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 1_000)
	f.contribute(f.worker, 1_000)
	open, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(t, err)
	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	ctx := f.ctx.WithBlockHeight(keeper.EpochEndHeight(open, params)).WithEventManager(sdk.NewEventManager())

	// Corrupt the pool's encoding so the close fails half-way.
	store := ctx.KVStore(f.c.App.GetKey(types.StoreKey))
	good := store.Get(types.PoolKey)
	store.Set(types.PoolKey, []byte("not an integer"))
	require.NoError(t, f.k.EndBlock(ctx), "EndBlock reports, it does not fail")
	require.Contains(t, eventTypes(ctx), "repshard.rewards.v1.EventEpochCloseFailed")
	still, err := f.k.GetOpenEpoch(ctx)
	require.NoError(t, err)
	require.Equal(t, open, still, "the epoch stays open")
	_, err = f.k.GetEpochRecord(ctx, open.Number)
	require.Error(t, err, "no record written")

	store.Set(types.PoolKey, good)
	ctx = ctx.WithBlockHeight(ctx.BlockHeight() + 1)
	require.NoError(t, f.k.EndBlock(ctx))
	after, err := f.k.GetOpenEpoch(ctx)
	require.NoError(t, err)
	require.Equal(t, open.Number+1, after.Number)
	f.ctx = ctx
	require.Equal(t, urep(1_000), f.pending(f.worker).EpochRewards)
	f.requireBooks()
}

// A panic while closing an epoch does not halt the chain: the close is rolled
// back and reported with EventEpochCloseFailed, the epoch stays open and the
// next EndBlock closes it. Here a corrupted book (negative dust) makes the
// emission negative, and building the closing event's coin panics after the
// close has written the pool, the book, the epoch record and the next epoch.
func TestEpochClosePanicIsRolledBackAndReported(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester, 1_000)
	f.contribute(f.worker, 1_000)
	open, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(t, err)
	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	ctx := f.ctx.WithBlockHeight(keeper.EpochEndHeight(open, params)).WithEventManager(sdk.NewEventManager())

	good := f.ledger()
	bad := good
	bad.Dust = sdkmath.NewInt(-1_000_000)
	require.NoError(t, f.k.Ledger.Set(ctx, bad))
	pool := f.pool()
	require.NotPanics(t, func() { require.NoError(t, f.k.EndBlock(ctx)) })

	failed := typedEvents[*types.EventEpochCloseFailed](t, ctx)
	require.Len(t, failed, 1)
	require.Equal(t, open.Number, failed[0].Number)
	require.Contains(t, failed[0].Error, "panic")
	require.Empty(t, typedEvents[*types.EventEpochClosed](t, ctx))
	still, err := f.k.GetOpenEpoch(ctx)
	require.NoError(t, err)
	require.Equal(t, open, still, "the epoch stays open")
	_, err = f.k.GetEpochRecord(ctx, open.Number)
	require.Error(t, err, "no record written")
	require.Equal(t, pool.String(), f.pool().String(), "the pool is untouched")
	l, err := f.k.GetLedger(ctx)
	require.NoError(t, err)
	require.Equal(t, bad, l, "the book is untouched")

	require.NoError(t, f.k.Ledger.Set(ctx, good))
	ctx = ctx.WithBlockHeight(ctx.BlockHeight() + 1)
	require.NoError(t, f.k.EndBlock(ctx))
	after, err := f.k.GetOpenEpoch(ctx)
	require.NoError(t, err)
	require.Equal(t, open.Number+1, after.Number)
	f.ctx = ctx
	require.Equal(t, urep(1_000), f.pending(f.worker).EpochRewards)
	f.requireBooks()
}

// panickingShards stands in for x/shard: its SlashBond moves the slashed
// coins, then panics.
type panickingShards struct{ stubShards }

func (s *panickingShards) SlashBond(ctx context.Context, worker sdk.AccAddress, fractionPpm uint32, toModule string) (sdk.Coin, error) {
	if _, err := s.stubShards.SlashBond(ctx, worker, fractionPpm, toModule); err != nil {
		return sdk.Coin{}, err
	}
	panic("bond index corrupted")
}

// A failure-rate slash that panics is rolled back (the coins it moved go
// back) and skipped with EventFailureRateSlashSkipped; the settlement that
// triggered it goes on.
func TestFailureRateSlashPanicIsRolledBackAndReported(t *testing.T) {
	f := newAppFixture(t)
	f.setParams(func(p *types.Params) {
		p.EpochEmissionFixed = urep(0)
		p.FailureSlashMinAttempts = 2
	})
	stub := &panickingShards{stubShards{bank: f.c.App.BankKeeper, bondHolder: f.requester2, bond: 10_000_000}}
	f.k = keeper.NewKeeper(f.c.App.AppCodec(), runtime.NewKVStoreService(f.c.App.GetKey(types.StoreKey)),
		keepertest.AddressCodec(), authtypes.NewModuleAddress(govtypes.ModuleName).String(),
		f.c.App.AccountKeeper, f.c.App.BankKeeper, f.c.App.DistrKeeper, stub)
	for range 2 { // 2 failures of 2 attempts: 100% > 50%
		require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(10)))
		require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker}, urep(10), 500_000))
	}
	f.endEpoch()
	f.ctx = f.ctx.WithEventManager(sdk.NewEventManager())
	s := f.snap()

	f.touchByCompletion(f.worker) // the first touch after the epoch: settles it and slashes
	require.Equal(t, []uint32{50_000}, stub.calls, "the slash ran")
	require.Equal(t, s.balances, f.snap().balances, "the coins it moved are back")
	require.Equal(t, "0", f.pool().String())
	slashed, err := f.k.SlashedFrom(f.ctx, f.worker)
	require.NoError(t, err)
	require.True(t, slashed.IsZero())
	require.Empty(t, typedEvents[*types.EventBondSlashed](t, f.ctx))
	skipped := typedEvents[*types.EventFailureRateSlashSkipped](t, f.ctx)
	require.Len(t, skipped, 1)
	require.Equal(t, f.worker.String(), skipped[0].Worker)
	require.Equal(t, uint64(1), skipped[0].Epoch)
	require.Contains(t, skipped[0].Error, "panic")

	c, err := f.query.Contribution(f.ctx, &types.QueryContributionRequest{Address: f.worker.String()})
	require.NoError(t, err)
	require.Equal(t, uint64(1), c.Epoch.Attempts, "the settlement went on: the completion counts in the new epoch")
	f.requireBooks()
}

// typedEvents returns the typed events of type T emitted on ctx.
func typedEvents[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	var zero T
	name := proto.MessageName(zero)
	for _, e := range ctx.EventManager().Events() {
		if e.Type != name {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(e))
		require.NoError(t, err)
		out = append(out, msg.(T))
	}
	return out
}

// Leaving does not dodge the failure-rate slash: x/shard returns an
// unbonded worker's bond only after x/rewards has settled it. While the
// worker's last epoch with attempts is open the release is postponed; once
// it has closed, the slash lands on the bond before the bond is returned.
func TestBondReleaseWaitsForTheFailureRateSlash(t *testing.T) {
	f := newAppFixture(t)
	f.setParams(func(p *types.Params) {
		p.EpochEmissionFixed = urep(0)
		p.FailureSlashMinAttempts = 2
		p.EpochLengthBlocks = 1_000 // longer than the unbonding period
	})
	shardMsgs := shardkeeper.NewMsgServerImpl(f.c.App.ShardKeeper)
	_, err := shardMsgs.RegisterWorker(f.ctx, &shardtypes.MsgRegisterWorker{
		Worker: f.worker.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 10, Bond: urep(10_000_000),
	})
	require.NoError(t, err)
	for range 2 { // 2 failures of 2 attempts: 100% > 50%
		require.NoError(t, f.k.EscrowFee(f.ctx, f.requester, urep(10)))
		require.NoError(t, f.k.SettleFailure(f.ctx, f.requester, []sdk.AccAddress{f.worker}, urep(10), 500_000))
	}
	_, err = shardMsgs.UnregisterWorker(f.ctx, &shardtypes.MsgUnregisterWorker{Worker: f.worker.String()})
	require.NoError(t, err)
	w, err := f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker)
	require.NoError(t, err)
	balanceBefore := f.bal(f.worker)

	// The release height comes while the failing epoch is still open: postponed.
	open, err := f.k.GetOpenEpoch(f.ctx)
	require.NoError(t, err)
	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Less(t, w.ReleaseHeight, keeper.EpochEndHeight(open, params), "the test needs the release inside the epoch")
	f.ctx = f.ctx.WithBlockHeight(w.ReleaseHeight)
	require.NoError(t, f.c.App.ShardKeeper.EndBlocker(f.ctx))
	postponed, err := f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker)
	require.NoError(t, err, "the worker is still there")
	require.Greater(t, postponed.ReleaseHeight, w.ReleaseHeight)
	require.Equal(t, balanceBefore.String(), f.bal(f.worker).String(), "no bond returned yet")
	require.Equal(t, "0", f.pool().String())

	// After the epoch closes, the release slashes 5% first, then returns the rest.
	f.endEpoch()
	if f.ctx.BlockHeight() < postponed.ReleaseHeight {
		f.ctx = f.ctx.WithBlockHeight(postponed.ReleaseHeight)
	}
	require.NoError(t, f.c.App.ShardKeeper.EndBlocker(f.ctx))
	_, err = f.c.App.ShardKeeper.GetWorker(f.ctx, f.worker)
	require.ErrorIs(t, err, shardtypes.ErrWorkerNotFound, "released")
	require.Equal(t, "500000", f.pool().String(), "5% of 10 000 000 slashed into the pool")
	require.Equal(t, balanceBefore.Add(sdkmath.NewInt(9_500_000)).String(), f.bal(f.worker).String(), "the rest of the bond returned")
	f.requireBooks()
}
