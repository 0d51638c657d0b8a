//go:build loadwave

package app_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/testutil/loadwave"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// FullWave is the wave of `make loadwave`: 12 workers of 4 units, each
// request served in 2 blocks (24 requests a block of throughput), ramped to
// 10× that, held, and ramped down. Topology params are the defaults except
// a shorter sustain and cooldown, a merge threshold of 30%, so the wave fits in ~200 blocks.
func FullWave() loadwave.Config {
	return loadwave.Config{
		Class: shardtypes.ClassComputeIntensive, Workers: 12, WorkerCapacity: 4, ServiceBlocks: 2, Requesters: 16,
		BaseLoadPct: 10, PeakLoadPct: 1000,
		WarmBlocks: 15, RampUpBlocks: 20, HoldBlocks: 30, RampDownBlocks: 15, Cool: 90,
		ShardParams: func(p *shardtypes.Params) {
			p.SustainBlocks, p.TopologyCooldownBlocks = 5, 8
			p.MaxShardsPerClass = 6
			p.MergeLoadThresholdPpm = 300_000
			p.MaxMigrationsPerBlock = 20
		},
		DeferralParams: func(p *deferraltypes.Params) {
			p.MaxWaitBlocks, p.QueueTtlBlocks = 30, 60
			p.MaxExpirationsPerBlock = 2_000
		},
		CheckInvariants: true,
	}
}

// TestLoadWaveFull runs FullWave, checks what the small wave of `make test`
// checks, and writes docs/loadwave.csv and docs/loadwave.png.
func TestLoadWaveFull(t *testing.T) {
	cfg := FullWave()
	res := loadwave.Run(t, cfg)
	docs := filepath.Join("..", "docs")
	f, err := os.Create(filepath.Join(docs, "loadwave.csv"))
	require.NoError(t, err)
	require.NoError(t, res.WriteCSV(f))
	require.NoError(t, f.Close())
	require.NoError(t, res.WritePNG(filepath.Join(docs, "loadwave.png"),
		"repshard load wave: 12 workers, surge to 10x their throughput, one class (compute-intensive)"))
	require.Empty(t, res.InvariantErrors)
	for _, b := range res.Blocks {
		require.LessOrEqual(t, b.WorkersMoved+b.RequestsMoved, uint64(res.MigrationCap), "block %d", b.Height)
	}
	require.Greater(t, res.MaxActiveShards(), 1, "splits under the surge")
	require.Less(t, res.Blocks[len(res.Blocks)-1].ActiveShards, res.MaxActiveShards(), "merges after it")
	hi, lo := loadwave.Mean(res.HighWaits), loadwave.Mean(res.LowWaits)
	require.Less(t, hi, lo)

	t.Logf("blocks %d, submitted %d, completed %d; splits %d, merges %d, retires %d; max ACTIVE shards %d; max migrated/block %d (cap %d)",
		len(res.Blocks), res.Submitted, res.Completed,
		res.Count(func(b loadwave.Block) int { return b.Splits }), res.Count(func(b loadwave.Block) int { return b.Merges }),
		res.Count(func(b loadwave.Block) int { return b.Retires }), res.MaxActiveShards(), res.MaxMigratedPerBlock(), res.MigrationCap)
	t.Logf("mean queue wait in the hold phase: high reputation %.2f blocks (%d), low %.2f (%d); expired in queue %d",
		hi, len(res.HighWaits), lo, len(res.LowWaits), res.Count(func(b loadwave.Block) int { return b.ExpiredQueued }))
}
