package keeper_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/shard/types"
)

// priceChain is a chain whose topology checks move prices every block and
// never split or merge on their own, with the price bounds of the test.
func priceChain(t *testing.T, floor, ceiling int64, split bool) chain {
	return newChain(t, 4, func(gs *types.GenesisState) {
		p := &gs.Params
		p.PriceFloor, p.PriceCeiling = urep(floor), urep(ceiling)
		p.PriceTargetLoadPpm, p.PriceMaxChangePpm = 500_000, 125_000
		p.LoadEmaWeightPpm = 1_000_000
		p.MergeLoadThresholdPpm, p.SplitLoadThresholdPpm = 0, 999_999
		if split {
			p.SplitLoadThresholdPpm, p.SustainBlocks, p.TopologyCooldownBlocks = 100_000, 1, 0
			p.MinShardsPerClass, p.MaxShardsPerClass = 1, 2
		}
		for i := range gs.Shards {
			gs.Shards[i].UnitPrice = p.PriceFloor.Amount
		}
	})
}

// stepBlocks runs n topology checks, one per block from height h+1, and
// returns the shard's price after each.
func (ch chain) stepBlocks(t *testing.T, shardID uint64, n int) []sdkmath.Int {
	t.Helper()
	h := ch.ctx.BlockHeight()
	var prices []sdkmath.Int
	for i := 1; i <= n; i++ {
		at := ch.atHeight(h + int64(i))
		_, err := at.k.PlanTopology(at.ctx)
		require.NoError(t, err)
		prices = append(prices, at.shard(t, shardID).UnitPrice)
	}
	return prices
}

// A shard held above its target load gets dearer block by block, each step
// at most price_max_change_ppm of the price, and stops at the ceiling.
func TestPriceRisesUnderLoadByAtMostTheStepUpToTheCeiling(t *testing.T) {
	ch := priceChain(t, 1_000, 5_000, false)
	id := ch.register(t, 1, 10, types.ClassHighPriority)
	require.NoError(t, ch.k.AddQueued(ch.ctx, id, 1_000)) // load capped at 100%, far above the 50% target

	prev := sdkmath.NewInt(1_000)
	prices := ch.stepBlocks(t, id, 40)
	reachedAt := -1
	for i, p := range prices {
		require.True(t, p.GTE(prev), "block %d: the price never falls under load (%s after %s)", i+1, p, prev)
		// at most +12.5%: 8·(p − prev) ≤ prev
		require.True(t, p.Sub(prev).MulRaw(8).LTE(prev), "block %d: %s → %s is more than the 12.5%% step", i+1, prev, p)
		require.True(t, p.LTE(sdkmath.NewInt(5_000)), "block %d: %s above the ceiling", i+1, p)
		if p.Equal(sdkmath.NewInt(5_000)) && reachedAt < 0 {
			reachedAt = i
		}
		if reachedAt < 0 {
			require.True(t, p.GT(prev), "block %d: the price rises while below the ceiling", i+1)
		}
		prev = p
	}
	require.GreaterOrEqual(t, reachedAt, 0, "the price reached the ceiling within 40 blocks: %v", prices)
	// ln(5)/ln(1.125) ≈ 13.7: it cannot get there in fewer than 14 steps.
	require.GreaterOrEqual(t, reachedAt+1, 14, "the ceiling reached after %d blocks: faster than the step allows", reachedAt+1)
}

// An idle shard (workers, no load) gets cheaper block by block down to the
// floor and stays there.
func TestPriceFallsToTheFloorWhenIdle(t *testing.T) {
	ch := priceChain(t, 1_000, 5_000, false)
	id := ch.register(t, 1, 10, types.ClassHighPriority)
	s := ch.shard(t, id)
	s.UnitPrice = sdkmath.NewInt(5_000)
	require.NoError(t, ch.k.Shards.Set(ch.ctx, id, s))

	prev := sdkmath.NewInt(5_000)
	prices := ch.stepBlocks(t, id, 40)
	for i, p := range prices {
		require.True(t, p.LTE(prev), "block %d: an idle shard's price never rises", i+1)
		require.True(t, prev.Sub(p).MulRaw(8).LTE(prev), "block %d: %s → %s is more than the 12.5%% step", i+1, prev, p)
		require.True(t, p.GTE(sdkmath.NewInt(1_000)), "block %d: below the floor", i+1)
		prev = p
	}
	require.Equal(t, sdkmath.NewInt(1_000), prices[len(prices)-1], "an idle shard ends at the floor: %v", prices)
}

// At exactly the target load the price holds; a shard without workers holds
// its price whatever its queue (there is no capacity to ration).
func TestPriceHoldsAtTargetAndWithoutWorkers(t *testing.T) {
	ch := priceChain(t, 1_000, 5_000, false)
	id := ch.register(t, 1, 10, types.ClassHighPriority)
	require.NoError(t, ch.k.AddQueued(ch.ctx, id, 5)) // 5 of 10 units: exactly 50%
	for _, p := range ch.stepBlocks(t, id, 5) {
		require.Equal(t, sdkmath.NewInt(1_000), p)
	}
	empty := uint64(2) // the low-priority genesis shard: no worker
	require.NoError(t, ch.k.AddQueued(ch.ctx, empty, 1_000))
	for _, p := range ch.stepBlocks(t, empty, 5) {
		require.Equal(t, sdkmath.NewInt(1_000), p, "no workers: the price holds")
	}
}

// A split child starts at its parent's price, so a split never opens a
// cheap lane into a congested class.
func TestSplitChildStartsAtItsParentsPrice(t *testing.T) {
	ch := priceChain(t, 1_000, 1_000_000, true)
	class := types.ClassComputeIntensive
	var parent uint64
	for i := 1; i <= 2; i++ {
		parent = ch.register(t, i, 10, class)
	}
	require.NoError(t, ch.k.AddQueued(ch.ctx, parent, 1_000))
	h := ch.ctx.BlockHeight()
	var child uint64
	var parentPriceBefore sdkmath.Int
	for i := int64(1); i <= 5 && child == 0; i++ {
		at := ch.atHeight(h + i)
		parentPriceBefore = at.shard(t, parent).UnitPrice
		_, err := at.k.PlanTopology(at.ctx)
		require.NoError(t, err)
		next, err := at.k.ShardSeq.Peek(at.ctx)
		require.NoError(t, err)
		if s, err := at.k.GetShard(at.ctx, next-1); err == nil && s.ParentId == parent {
			child = s.Id
		}
	}
	require.NotZero(t, child, "the shard split")
	got := ch.shard(t, child).UnitPrice
	require.True(t, got.GT(sdkmath.NewInt(1_000)), "the parent had become dearer than the floor before the split")
	require.True(t, got.Equal(parentPriceBefore) || got.Equal(ch.shard(t, parent).UnitPrice),
		"the child starts at the parent's price (%s), not the floor: %s", parentPriceBefore, got)
}

// Route prices a request at its shard's price clamped to the current
// bounds: governance lowering the ceiling applies at once.
func TestRouteQuotesTheClampedShardPrice(t *testing.T) {
	ch := priceChain(t, 1_000, 5_000, false)
	id := ch.register(t, 1, 10, types.ClassHighPriority)
	s := ch.shard(t, id)
	s.UnitPrice = sdkmath.NewInt(4_000)
	require.NoError(t, ch.k.Shards.Set(ch.ctx, id, s))
	routed, err := ch.k.Route(ch.ctx, types.ClassHighPriority, 0, 1)
	require.NoError(t, err)
	require.Equal(t, urep(4_000), routed.UnitPrice)
	require.False(t, routed.Preferred)

	p, err := ch.k.Params.Get(ch.ctx)
	require.NoError(t, err)
	p.PriceCeiling = urep(2_000)
	require.NoError(t, ch.k.Params.Set(ch.ctx, p))
	routed, err = ch.k.Route(ch.ctx, types.ClassHighPriority, p.PreferredReputationThresholdPpm, 1)
	require.NoError(t, err)
	require.Equal(t, urep(2_000), routed.UnitPrice, "clamped to the new ceiling")
	require.True(t, routed.Preferred, "at the threshold: preferred")
}
