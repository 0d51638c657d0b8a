package app_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/testutil/loadwave"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// SmallWave is the traffic wave `make test` runs: 6 workers of 2 units, each
// request served in 2 blocks (6 requests a block of throughput), ramped to
// 10× that and back. Fast topology params so the wave fits in ~100 blocks;
// a small migration cap so that migrations take several blocks.
func SmallWave() loadwave.Config {
	return loadwave.Config{
		Class: shardtypes.ClassComputeIntensive, Workers: 6, WorkerCapacity: 2, ServiceBlocks: 2, Requesters: 8,
		BaseLoadPct: 15, PeakLoadPct: 1000,
		WarmBlocks: 5, RampUpBlocks: 8, HoldBlocks: 25, RampDownBlocks: 8, Cool: 45,
		ShardParams: func(p *shardtypes.Params) {
			p.SustainBlocks, p.TopologyCooldownBlocks, p.LoadEmaWeightPpm = 3, 4, 300_000
			p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = 800_000, 400_000
			p.MinShardsPerClass, p.MaxShardsPerClass = 1, 3
			p.MaxMigrationsPerBlock = 6
		},
		DeferralParams: func(p *deferraltypes.Params) {
			p.MaxWaitBlocks, p.QueueTtlBlocks = 20, 30
		},
		CheckInvariants: true,
	}
}

// The wave through the full app (signed txs, EndBlock): the class splits
// during the surge and merges back after it; the invariants (every request in
// exactly one place, queue ↔ record, counters) hold after every block across
// the migrations; no block moves more than max_migrations_per_block workers
// and requests; under the surge, requesters with high reputation wait less in
// the queue than those with low reputation.
func TestLoadWaveSplitsAndMerges(t *testing.T) {
	if testing.Short() {
		t.Skip("drives ~100 blocks of traffic")
	}
	cfg := SmallWave()
	res := loadwave.Run(t, cfg)

	if testing.Verbose() {
		require.NoError(t, res.WriteCSV(os.Stdout))
	}
	require.Empty(t, res.InvariantErrors, "invariants must hold after every block")
	splits := res.Count(func(b loadwave.Block) int { return b.Splits })
	merges := res.Count(func(b loadwave.Block) int { return b.Merges })
	retires := res.Count(func(b loadwave.Block) int { return b.Retires })
	t.Logf("splits %d, merges %d, retires %d, max ACTIVE shards %d, max migrated in a block %d (cap %d)",
		splits, merges, retires, res.MaxActiveShards(), res.MaxMigratedPerBlock(), res.MigrationCap)

	surgeEnd := cfg.WarmBlocks + cfg.RampUpBlocks + cfg.HoldBlocks
	for i, b := range res.Blocks {
		require.LessOrEqual(t, b.WorkersMoved+b.RequestsMoved, uint64(res.MigrationCap), "block %d migrates over the cap", b.Height)
		require.Zero(t, b.ItemFailures, "block %d: an EndBlock item failed", b.Height)
		if i < cfg.WarmBlocks {
			require.Equal(t, 1, b.ActiveShards, "no split before the surge")
		}
	}
	peak := 0
	for _, b := range res.Blocks[:surgeEnd] {
		peak = max(peak, b.ActiveShards)
	}
	require.Greater(t, peak, 1, "the class splits during the surge")
	require.Greater(t, splits, 0)
	require.Greater(t, res.Count(func(b loadwave.Block) int { return int(b.RequestsMoved) }), 0, "queued requests migrate")
	last := res.Blocks[len(res.Blocks)-1]
	require.Less(t, last.ActiveShards, peak, "shards merge back after the surge")
	require.Greater(t, merges, 0)
	require.Greater(t, retires, 0, "drained shards retire")

	// The queries tell the same story: the change log (newest first) holds
	// the splits, merges and retirements; the topology shows each split's
	// children and the retired shards with where they merged into.
	ctx := res.Chain.Context()
	q := shardkeeper.NewQueryServerImpl(res.Chain.App.ShardKeeper)
	changes, err := q.TopologyChanges(ctx, &shardtypes.QueryTopologyChangesRequest{})
	require.NoError(t, err)
	kinds := map[shardtypes.TopologyChangeKind]int{}
	for i, ch := range changes.Changes {
		kinds[ch.Kind]++
		if i > 0 {
			require.Less(t, ch.Seq, changes.Changes[i-1].Seq, "newest first")
		}
	}
	require.Equal(t, splits, kinds[shardtypes.ChangeSplit])
	require.Equal(t, merges, kinds[shardtypes.ChangeMerge])
	require.Equal(t, retires, kinds[shardtypes.ChangeRetire])
	topo, err := q.Topology(ctx, &shardtypes.QueryTopologyRequest{})
	require.NoError(t, err)
	children, retired := 0, 0
	for _, n := range topo.Nodes {
		children += len(n.Children)
		for _, child := range n.Children {
			c, err := res.Chain.App.ShardKeeper.GetShard(ctx, child)
			require.NoError(t, err)
			require.Equal(t, n.Shard.Id, c.ParentId)
		}
		if n.Shard.Status == shardtypes.ShardRetired {
			retired++
			require.NotZero(t, n.Shard.MergedInto)
			require.Nil(t, n.Migration, "a retired shard's migration is over")
			require.Zero(t, n.Shard.QueuedCount+n.Shard.InFlightUnits+uint64(n.Shard.WorkerCount))
		}
	}
	require.Equal(t, splits, children)
	require.Equal(t, retires, retired)

	require.NotEmpty(t, res.HighWaits)
	require.NotEmpty(t, res.LowWaits)
	hi, lo := loadwave.Mean(res.HighWaits), loadwave.Mean(res.LowWaits)
	t.Logf("mean queue wait under the surge: high reputation %.2f blocks (%d requests), low %.2f (%d)",
		hi, len(res.HighWaits), lo, len(res.LowWaits))
	require.Less(t, hi, lo, "high-reputation requesters wait less under the surge")
}
