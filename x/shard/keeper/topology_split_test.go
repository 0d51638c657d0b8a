package keeper_test

import (
	"bytes"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/shard/types"
)

// A split hands the new shard only ACTIVE workers: an UNBONDING worker with
// the highest address stays with the parent, so the new shard gets a worker
// that serves (capacity > 0) instead of a shard with nothing to drain it.
func TestSplitMovesOnlyActiveWorkers(t *testing.T) {
	ch := newChain(t, 4, func(gs *types.GenesisState) {
		p := &gs.Params
		p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = 100_000, 0
		p.SustainBlocks, p.TopologyCooldownBlocks, p.LoadEmaWeightPpm = 1, 0, 1_000_000
		p.MinShardsPerClass, p.MaxShardsPerClass = 1, 2
	})
	class := types.ClassComputeIntensive
	var parent uint64
	for i := 1; i <= 3; i++ {
		parent = ch.register(t, i, 10, class)
	}
	addrs := []sdk.AccAddress{ch.addr(1), ch.addr(2), ch.addr(3)}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i], addrs[j]) < 0 })
	highest := addrs[2]
	_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: highest.String()})
	require.NoError(t, err)
	w, err := ch.k.GetWorker(ch.ctx, highest)
	require.NoError(t, err)
	require.Equal(t, types.WorkerUnbonding, w.Status)
	require.Equal(t, uint32(2), ch.shard(t, parent).WorkerCount, "two ACTIVE workers left: a split is allowed")

	require.NoError(t, ch.k.AddQueued(ch.ctx, parent, 1_000)) // load far above the split threshold
	h := ch.ctx.BlockHeight()
	for i := int64(1); i <= 5; i++ {
		_, err := ch.atHeight(h + i).k.PlanTopology(ch.atHeight(h + i).ctx)
		require.NoError(t, err)
	}
	child := uint64(0)
	for _, a := range addrs {
		w, err := ch.k.GetWorker(ch.ctx, a)
		require.NoError(t, err)
		if w.ShardId != parent {
			child = w.ShardId
			require.Equal(t, types.WorkerActive, w.Status, "only ACTIVE workers move to the new shard")
		}
	}
	require.NotZero(t, child, "the shard split")
	w, err = ch.k.GetWorker(ch.ctx, highest)
	require.NoError(t, err)
	require.Equal(t, parent, w.ShardId, "the UNBONDING worker stays with the parent")
	s := ch.shard(t, child)
	require.Equal(t, uint32(1), s.WorkerCount)
	require.Equal(t, uint64(10), s.CapacityUnits)
	require.Equal(t, uint32(1), ch.shard(t, parent).WorkerCount)
}
