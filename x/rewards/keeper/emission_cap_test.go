package keeper_test

import (
	"errors"
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/rewards/types"
)

// The emission cap (docs/rewards.md, docs/economics.md#emission-rewards-that-self-dealing-cannot-farm): an epoch
// emits at most the protocol shares its completions paid, so no completion
// earns back more from the pool than it paid to the protocol, and a
// requester paying a worker it controls cannot profit from the pool.

// lastEpochClosed returns the last EventEpochClosed emitted on f.ctx.
func (f *appFixture) lastEpochClosed() *types.EventEpochClosed {
	f.t.Helper()
	closed := typedEvents[*types.EventEpochClosed](f.t, f.ctx)
	require.NotEmpty(f.t, closed)
	return closed[len(closed)-1]
}

// wealth is what the accounts hold, summed.
func (f *appFixture) wealth(addrs ...sdk.AccAddress) sdkmath.Int {
	sum := sdkmath.ZeroInt()
	for _, a := range addrs {
		sum = sum.Add(f.bal(a))
	}
	return sum
}

// claimAll claims what worker is owed (nothing owed is fine) and returns the
// epoch rewards in it.
func (f *appFixture) claimAll(worker sdk.AccAddress) sdkmath.Int {
	f.t.Helper()
	_, _, epochRewards, err := f.k.Claim(f.ctx, worker)
	if errors.Is(err, types.ErrNothingToClaim) {
		return sdkmath.ZeroInt()
	}
	require.NoError(f.t, err)
	return epochRewards.Amount
}

// An epoch scheduled to emit far more than its completions paid the
// protocol emits only what they paid; the rest stays in the pool, and the
// pool's book balances to the micro-unit. An epoch whose completions paid
// more than the schedule emits the schedule.
func TestEpochEmissionCappedAtProtocolShares(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester2, 5_000_000) // a third party; 1 000 000 scheduled per epoch (default)
	requester, worker := f.requester, f.worker

	before := f.wealth(requester, worker)
	community := f.communityPool()
	for range 10 { // ten one-unit requests at 1 000 urep between the pair
		require.NoError(t, f.k.EscrowFee(f.ctx, requester, urep(1_000)))
		require.NoError(t, f.k.PayCompletion(f.ctx, worker, urep(1_000), 1, 0))
	}
	protocolPaid := f.communityPool().Sub(community)
	require.True(t, protocolPaid.IsPositive())
	f.endEpoch()
	f.requireBooks()

	ev := f.lastEpochClosed()
	require.Equal(t, urep(1_000_000), ev.Scheduled, "the schedule offered 1 REP")
	require.True(t, ev.Emitted.Amount.LTE(protocolPaid), "emitted %s ≤ protocol shares paid %s", ev.Emitted, protocolPaid)
	require.Equal(t, protocolPaid.String(), ev.Emitted.Amount.String(), "the cap binds: exactly the protocol shares")
	require.True(t, ev.RewardPerPoint.LTE(sdkmath.NewIntWithDecimal(1, 18)), "at most one urep per point")
	require.Equal(t, sdkmath.NewInt(5_000_000).Sub(ev.Emitted.Amount).String(), f.pool().String(),
		"what the cap withheld stays in the pool")
	rec, err := f.k.GetEpochRecord(f.ctx, ev.Number)
	require.NoError(t, err)
	require.Equal(t, ev.Scheduled.Amount.String(), rec.Scheduled.String())
	require.Equal(t, ev.Emitted.Amount.String(), rec.Emitted.String())

	// The pair claims everything: it is not richer than before.
	epochRewards := f.claimAll(worker)
	require.True(t, epochRewards.LTE(protocolPaid))
	net := f.wealth(requester, worker).Sub(before)
	require.False(t, net.IsPositive(), "pair's net %s must not be positive", net)
	f.requireBooks()
	l := f.ledger()
	require.Equal(t, "5000000", l.Funded.String())
	require.Equal(t, l.Funded.String(), l.EpochRewardsClaimed.Add(l.EpochRewardsOwed).Add(l.Unsettled).Add(f.pool()).Add(l.Dust).String())

	// An epoch whose completions paid more than the schedule (2 000 000 of
	// protocol share) emits the schedule: the cap only ever lowers it.
	pool := f.pool()
	f.contribute(f.worker2, 2_000_000)
	f.endEpoch()
	f.requireBooks()
	ev = f.lastEpochClosed()
	require.Equal(t, urep(1_000_000), ev.Scheduled)
	require.Equal(t, ev.Scheduled, ev.Emitted)
	require.Equal(t, pool.SubRaw(1_000_000).String(), f.pool().String())
}

// The carried dust is part of what the schedule offers, and of what the cap
// can withhold: withheld dust goes back to the pool, and the book balances.
func TestEmissionCapWithCarriedDust(t *testing.T) {
	f := newAppFixture(t)
	f.fund(f.requester2, 3_000_000)
	// Epoch 1: 1 000 000 over 3 000 000 points: 999 999 reserved, dust 1.
	f.contribute(f.worker, 1_000_000)
	f.contribute(f.worker2, 2_000_000)
	f.endEpoch()
	require.Equal(t, "1", f.ledger().Dust.String())
	pool := f.pool()

	// Epoch 2: one point. Offered 1 000 000 + 1 dust; emitted 1.
	f.contribute(f.worker, 1)
	f.endEpoch()
	f.requireBooks()
	ev := f.lastEpochClosed()
	require.Equal(t, urep(1_000_001), ev.Scheduled)
	require.Equal(t, urep(1), ev.Emitted)
	require.Equal(t, "0", f.ledger().Dust.String())
	require.Equal(t, pool.String(), f.pool().String(), "the dust paid the one urep; the pool kept the whole schedule")

	// Epoch 3: no points: nothing emitted, nothing recorded.
	f.endEpoch()
	f.requireBooks()
	require.Equal(t, pool.String(), f.pool().String())
	for _, w := range []sdk.AccAddress{f.worker, f.worker2} {
		f.claimAll(w)
	}
	f.requireBooks()
	l := f.ledger()
	require.Equal(t, l.Funded.String(), l.EpochRewardsClaimed.Add(l.Unsettled).Add(f.pool()).Add(l.Dust).String())
}

// washParams draws rewards params over what Params.Validate accepts, with
// their extremes: a protocol share of 0, 1 ppm and 1 000 000 ppm, no
// emission, a fixed emission above any pool, a fraction of 1 ppm and of the
// whole pool.
func washParams(rng *rand.Rand, p *types.Params) {
	shares := []uint32{0, 1, 50_000, 999_999, 1_000_000}
	if rng.Intn(3) == 0 {
		p.ProtocolFeeSharePpm = uint32(rng.Intn(1_000_001))
	} else {
		p.ProtocolFeeSharePpm = shares[rng.Intn(len(shares))]
	}
	p.EpochEmissionFixed, p.EpochEmissionFractionPpm = urep(0), 0
	switch rng.Intn(7) {
	case 0: // no emission
	case 1:
		p.EpochEmissionFixed = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewIntWithDecimal(1, 76))
	case 2:
		p.EpochEmissionFixed = urep(1 + rng.Int63n(10_000_000))
	case 3:
		p.EpochEmissionFixed = urep(1)
	case 4:
		p.EpochEmissionFractionPpm = 1_000_000
	case 5:
		p.EpochEmissionFractionPpm = 1
	default:
		p.EpochEmissionFractionPpm = uint32(1 + rng.Intn(1_000_000))
	}
	if p.Validate() != nil {
		panic("washParams drew invalid params")
	}
}

// washFee draws a fee: the awkward small ones, a one-unit fee, or a large one.
func washFee(rng *rand.Rand) int64 {
	fees := []int64{0, 1, 19, 20, 21, 999, 1_000}
	if rng.Intn(3) == 0 {
		return rng.Int63n(50_000_000)
	}
	return fees[rng.Intn(len(fees))]
}

// TestWashTradingNeverPaysProperty: over random params (every kind of
// setting Validate accepts, at its extremes), pool sizes, fees and numbers
// of requests, with honest third-party traffic — to other workers and to the
// pair's own worker, whose unused headroom wash requests might try to
// convert —, a requester–worker pair of one owner that adds wash requests to
// an epoch is never richer for it: its emission gain is at most the
// protocol share the wash requests paid, and (emission + fee earnings) −
// fees paid ≤ 0. Each trial runs the epoch twice from the same state, with
// and without the wash requests, and compares; the run with them goes on.
func TestWashTradingNeverPaysProperty(t *testing.T) {
	f := newAppFixture(t)
	rng := rand.New(rand.NewSource(7_919))
	pairR, pairW := f.requester, f.worker       // one owner
	honestR, honestW := f.requester2, f.worker2 // third parties
	const trials = 120
	var emitting, capped, gained, headroom int
	for trial := range trials {
		f.setParams(func(p *types.Params) { washParams(rng, p) })
		pools := []int64{0, 1, 1_000, 5_000_000, 1 + rng.Int63n(2_000_000_000)}
		if fund := pools[rng.Intn(len(pools))]; fund > 0 {
			f.fund(honestR, fund)
		}
		complete := func(r, w sdk.AccAddress, fee int64) {
			require.NoError(t, f.k.EscrowFee(f.ctx, r, urep(fee)))
			require.NoError(t, f.k.PayCompletion(f.ctx, w, urep(fee), uint64(1+rng.Intn(4)), uint64(rng.Intn(1_000_000))))
		}
		// Honest traffic, paid by a third party, some of it to the pair's worker.
		toW := rng.Intn(3) == 0
		for range rng.Intn(8) {
			complete(honestR, honestW, washFee(rng))
		}
		if toW {
			headroom++
			for range 1 + rng.Intn(4) {
				complete(honestR, pairW, washFee(rng))
			}
		}
		washFees := make([]int64, rng.Intn(20))
		for i := range washFees {
			washFees[i] = washFee(rng)
		}

		base := f.ctx
		type outcome struct {
			wealth, epochRewards, community sdkmath.Int
			ev                              *types.EventEpochClosed
			end                             sdk.Context
		}
		run := func(wash bool) (outcome, func()) {
			ctx, write := base.CacheContext()
			f.ctx = ctx
			community := f.communityPool()
			wealth := f.wealth(pairR, pairW)
			for _, fee := range washFees {
				if wash {
					complete(pairR, pairW, fee)
				}
			}
			washProtocol := f.communityPool().Sub(community)
			f.endEpoch()
			f.requireBooks()
			ev := f.lastEpochClosed()
			epochRewards := f.claimAll(pairW)
			f.requireBooks()
			return outcome{
				wealth: f.wealth(pairR, pairW).Sub(wealth), epochRewards: epochRewards,
				community: washProtocol, ev: ev, end: f.ctx,
			}, write
		}
		with, write := run(true)
		without, _ := run(false)

		// The cap itself: an epoch emits at most what it offered and at most
		// its points, one urep per point at most.
		require.True(t, with.ev.Emitted.IsLTE(with.ev.Scheduled), "trial %d", trial)
		require.True(t, with.ev.Emitted.Amount.LTE(with.ev.TotalPoints), "trial %d", trial)
		require.True(t, with.ev.RewardPerPoint.LTE(sdkmath.NewIntWithDecimal(1, 18)), "trial %d", trial)
		// The pair: its emission gain is at most the protocol share its wash
		// requests paid, and its wealth does not grow.
		gain := with.epochRewards.Sub(without.epochRewards)
		require.True(t, gain.LTE(with.community), "trial %d: emission gain %s > protocol share paid %s", trial, gain, with.community)
		net := with.wealth.Sub(without.wealth)
		require.False(t, net.IsPositive(), "trial %d: the wash requests made the pair %s richer (fees %v, params %v)",
			trial, net, washFees, f.params())
		if with.ev.Emitted.IsPositive() {
			emitting++
		}
		if with.ev.Emitted.IsLT(with.ev.Scheduled) {
			capped++
		}
		if gain.IsPositive() {
			gained++
		}

		write()
		f.ctx = base.WithBlockHeight(with.end.BlockHeight()).WithEventManager(sdk.NewEventManager())
		f.requireBooks()
	}
	t.Logf("%d trials: %d emitted, %d capped below the schedule, %d where the wash earned emission, %d with honest traffic to the pair's worker",
		trials, emitting, capped, gained, headroom)
	// The run exercised the cases it claims to.
	require.Greater(t, emitting, trials/4)
	require.Greater(t, capped, trials/10)
	require.Greater(t, gained, trials/10)
	require.Greater(t, headroom, trials/10)
}

// params returns the current rewards params.
func (f *appFixture) params() types.Params {
	f.t.Helper()
	p, err := f.k.GetParams(f.ctx)
	require.NoError(f.t, err)
	return p
}
