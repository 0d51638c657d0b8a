package keeper_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/shard/types"
)

// Under WithFreeCapacityCache, FindWorker returns what it returns from the
// store, whatever the workers' tiers, free units, storage, pauses and
// exclusions, the candidate bound included, while the workers change under
// the cached context (assignments, completions, scores, pauses, capacity
// and storage updates, unregistrations) and after rolled-back changes
// followed by ResetFreeCapacityCache.
func TestFreeCapacityCacheMatchesTheStore(t *testing.T) {
	const workers = 12
	ch := newChain(t, workers, func(gs *types.GenesisState) {
		gs.Params.MaxAssignmentCandidates = 3
		gs.Params.MaxWorkersPerShard = workers
	})
	storages := []uint64{0, 1_000, 1 << 20, 1 << 30}
	for i := 0; i < workers; i++ {
		_, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
			Worker: ch.addr(i).String(), Classes: []types.ShardClass{types.ClassHighPriority},
			CapacityUnits: uint64(1 + i%4*7), Bond: minBond, StorageBytes: storages[i%len(storages)],
		})
		require.NoError(t, err)
	}
	const shardID = 1
	cached := ch.k.WithFreeCapacityCache(ch.ctx, shardID)
	rng := rand.New(rand.NewSource(7))
	addr := func() sdk.AccAddress { return ch.addr(rng.Intn(workers)) }

	// change makes one random change to the workers under ctx; errors (a
	// worker without room, not in flight, unregistered) change nothing.
	change := func(ctx sdk.Context) {
		switch rng.Intn(7) {
		case 0, 1:
			_ = ch.k.AddInFlight(ctx, shardID, addr(), uint64(1+rng.Intn(6)))
		case 2:
			_ = ch.k.RemoveInFlight(ctx, shardID, addr(), uint64(1+rng.Intn(3)), outcome.Completed)
		case 3:
			_ = ch.k.SetWorkerStanding(ctx, addr(), uint32(rng.Intn(1_000_001)), rng.Intn(5) > 0)
		case 4:
			_, _ = ch.msgs.UpdateWorker(ctx, &types.MsgUpdateWorker{
				Worker: addr().String(), CapacityUnits: uint64(1 + rng.Intn(30)), StorageBytes: storages[rng.Intn(len(storages))],
			})
		case 5:
			if rng.Intn(10) == 0 {
				_, _ = ch.msgs.UnregisterWorker(ctx, &types.MsgUnregisterWorker{Worker: addr().String()})
			}
		case 6:
			_ = ch.k.AssignQueued(ctx, shardID, addr(), 1)
		}
	}
	found := 0
	for step := 0; step < 3_000; step++ {
		switch r := rng.Intn(10); {
		case r < 5:
			units := uint64(1 + rng.Intn(30))
			dataBytes := []uint64{0, 500, 5_000, 1 << 25, 1 << 31}[rng.Intn(5)]
			var excluded []sdk.AccAddress
			for n := rng.Intn(4); n > 0; n-- {
				excluded = append(excluded, addr())
			}
			want, wantOK, err := ch.k.FindWorker(ch.ctx, shardID, units, dataBytes, excluded)
			require.NoError(t, err)
			got, gotOK, err := ch.k.FindWorker(cached, shardID, units, dataBytes, excluded)
			require.NoError(t, err)
			require.Equal(t, wantOK, gotOK, "step %d: found", step)
			require.Equal(t, want, got, "step %d: worker", step)
			if gotOK {
				found++
			}
		case r < 9:
			change(cached)
		default:
			// Changes rolled back: the cache must be reset.
			cc, _ := cached.CacheContext()
			for n := 1 + rng.Intn(4); n > 0; n-- {
				change(cc)
			}
			ch.k.ResetFreeCapacityCache(cc)
		}
	}
	require.Greater(t, found, 200, "the queries find workers often enough to mean something")
}

// A cache is only for its shard: FindWorker on another shard reads the store.
func TestFreeCapacityCacheIsPerShard(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.register(t, 0, 5, types.ClassHighPriority)
	ch.register(t, 1, 5, types.ClassLowPriority)
	cached := ch.k.WithFreeCapacityCache(ch.ctx, 1)
	for shard, want := range map[uint64]sdk.AccAddress{1: ch.addr(0), 2: ch.addr(1)} {
		got, ok, err := ch.k.FindWorker(cached, shard, 1, 0, nil)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, got, "shard %d", shard)
	}
}
