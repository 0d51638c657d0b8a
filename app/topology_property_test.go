package app_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/testutil/loadwave"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// A property test over random starting topologies (1..max shards per class)
// and random topology params (thresholds, sustain, cooldown, EMA weight,
// migration and check caps, min/max shards): under a random traffic wave the
// app's invariants hold after every block — among them, each class keeps
// between min_shards_per_class and max_shards_per_class ACTIVE shards — and
// no block migrates more than the cap. The seeds are fixed so a failure
// replays.
func TestTopologyPropertyRandomParams(t *testing.T) {
	if testing.Short() {
		t.Skip("drives several random waves")
	}
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		minShards := uint32(1 + rng.Intn(2))
		maxShards := minShards + uint32(rng.Intn(3))
		merge := uint32(rng.Intn(500_000))
		split := merge + 1 + uint32(rng.Intn(int(ppm.Max-merge-1)))
		sustain := uint64(1 + rng.Intn(3))
		cooldown := uint64(rng.Intn(4))
		weight := uint32(100_000 + rng.Intn(900_001))
		capPerBlock := uint32(1 + rng.Intn(8))
		checks := uint32(1 + rng.Intn(8))
		start := make([]int, len(shardtypes.AllClasses))
		for i := range start {
			start[i] = int(minShards) + rng.Intn(int(maxShards-minShards)+1)
		}
		cfg := loadwave.Config{
			Class: shardtypes.AllClasses[rng.Intn(len(shardtypes.AllClasses))], Workers: 2 + rng.Intn(6),
			WorkerCapacity: uint64(1 + rng.Intn(3)), ServiceBlocks: int64(1 + rng.Intn(3)), Requesters: 4,
			BaseLoadPct: rng.Intn(40), PeakLoadPct: 100 + rng.Intn(800),
			WarmBlocks: 2 + rng.Intn(4), RampUpBlocks: 1 + rng.Intn(5), HoldBlocks: 5 + rng.Intn(10),
			RampDownBlocks: 1 + rng.Intn(5), Cool: 10 + rng.Intn(15),
			ShardParams: func(p *shardtypes.Params) {
				p.MinShardsPerClass, p.MaxShardsPerClass = minShards, maxShards
				p.SplitLoadThresholdPpm, p.MergeLoadThresholdPpm = split, merge
				p.SustainBlocks, p.TopologyCooldownBlocks, p.LoadEmaWeightPpm = sustain, cooldown, weight
				p.MaxMigrationsPerBlock, p.MaxTopologyChecksPerBlock = capPerBlock, checks
			},
			ShardGenesis: func(gs *shardtypes.GenesisState) {
				gs.Shards = nil
				for i, c := range shardtypes.AllClasses {
					for n := 0; n < start[i]; n++ {
						gs.Shards = append(gs.Shards, shardtypes.Shard{
							Id: uint64(len(gs.Shards) + 1), Class: c, Status: shardtypes.ShardActive, LoadPpm: ppm.Max,
						})
					}
				}
				gs.NextShardId = uint64(len(gs.Shards) + 1)
			},
			DeferralParams: func(p *deferraltypes.Params) {
				p.MaxWaitBlocks = uint64(5 + rng.Intn(20))
				p.QueueTtlBlocks = p.MaxWaitBlocks + uint64(rng.Intn(30))
			},
			CheckInvariants: true,
		}
		res := loadwave.Run(t, cfg)
		require.Empty(t, res.InvariantErrors, "seed %d: params min %d max %d split %d merge %d sustain %d cooldown %d cap %d",
			seed, minShards, maxShards, split, merge, sustain, cooldown, capPerBlock)
		for _, b := range res.Blocks {
			require.LessOrEqual(t, b.WorkersMoved+b.RequestsMoved, uint64(capPerBlock), "seed %d block %d", seed, b.Height)
			require.GreaterOrEqual(t, b.ActiveShards, int(minShards), "seed %d block %d", seed, b.Height)
			require.LessOrEqual(t, b.ActiveShards, int(maxShards), "seed %d block %d", seed, b.Height)
			require.Zero(t, b.ItemFailures, "seed %d block %d", seed, b.Height)
		}
		t.Logf("seed %d: min %d max %d, start %v, splits %d merges %d retires %d, max migrated %d/%d",
			seed, minShards, maxShards, start, res.Count(func(b loadwave.Block) int { return b.Splits }),
			res.Count(func(b loadwave.Block) int { return b.Merges }), res.Count(func(b loadwave.Block) int { return b.Retires }),
			res.MaxMigratedPerBlock(), capPerBlock)
	}
}
