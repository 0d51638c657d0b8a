package keeper_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/shard/types"
)

// sessionOp is one change to the workers of TestDrainSessionMatchesTheStore;
// errors (a worker without room, nothing in flight, unregistered) are part
// of the behaviour compared.
type sessionOp struct {
	kind     int
	worker   int
	units    uint64
	score    uint32
	eligible bool
	storage  uint64
}

func (ch chain) applySessionOp(ctx sdk.Context, op sessionOp) error {
	const shardID = 1
	addr := ch.addr(op.worker)
	switch op.kind {
	case 0:
		return ch.k.AddInFlight(ctx, shardID, addr, op.units)
	case 1:
		return ch.k.RemoveInFlight(ctx, shardID, addr, op.units, outcome.Completed)
	case 2:
		return ch.k.SetWorkerStanding(ctx, addr, op.score, op.eligible)
	case 3:
		_, err := ch.msgs.UpdateWorker(ctx, &types.MsgUpdateWorker{Worker: addr.String(), CapacityUnits: op.units, StorageBytes: op.storage})
		return err
	case 4:
		_, err := ch.msgs.UnregisterWorker(ctx, &types.MsgUnregisterWorker{Worker: addr.String()})
		return err
	case 5:
		return ch.k.AddQueued(ctx, shardID, op.units)
	case 6:
		return ch.k.RemoveQueued(ctx, shardID, op.units)
	case 7:
		return ch.k.DeleteWorkerForTest(ctx, addr)
	default:
		return ch.k.AssignQueued(ctx, shardID, addr, op.units)
	}
}

// Under a drain session, x/shard does what it does without one: FindWorker
// returns the same workers (whatever the tiers, free units, storage, pauses,
// exclusions and candidate bound), every operation the same result, and
// after each flush the x/shard store is the same as the one written without
// a session — while the workers change (assignments, completions, queue
// counts, scores, pauses, capacity and storage updates, unregistrations,
// removals),
// and after changes rolled back and followed by ResetDrainSession.
func TestDrainSessionMatchesTheStore(t *testing.T) {
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
	plain, _ := ch.ctx.CacheContext()
	withSession, _ := ch.ctx.CacheContext()
	withSession = ch.k.WithDrainSession(withSession, shardID)
	storeKey := ch.c.App.GetKey(types.StoreKey)
	rng := rand.New(rand.NewSource(7))
	randomOp := func() sessionOp {
		op := sessionOp{kind: rng.Intn(9), worker: rng.Intn(workers), units: uint64(1 + rng.Intn(6)),
			score: uint32(rng.Intn(1_000_001)), eligible: rng.Intn(5) > 0, storage: storages[rng.Intn(len(storages))]}
		if op.kind == 3 {
			op.units = uint64(1 + rng.Intn(30))
		}
		if op.kind == 4 && rng.Intn(10) > 0 || op.kind == 7 && rng.Intn(25) > 0 {
			op.kind = 1 // unregister and delete rarely
		}
		return op
	}
	found, flushes := 0, 0
	for step := 0; step < 3_000; step++ {
		switch r := rng.Intn(20); {
		case r < 9:
			units := uint64(1 + rng.Intn(30))
			dataBytes := []uint64{0, 500, 5_000, 1 << 25, 1 << 31}[rng.Intn(5)]
			var excluded []sdk.AccAddress
			for n := rng.Intn(4); n > 0; n-- {
				excluded = append(excluded, ch.addr(rng.Intn(workers)))
			}
			want, wantOK, err := ch.k.FindWorker(plain, shardID, units, dataBytes, excluded)
			require.NoError(t, err)
			got, gotOK, err := ch.k.FindWorker(withSession, shardID, units, dataBytes, excluded)
			require.NoError(t, err)
			require.Equal(t, wantOK, gotOK, "step %d: found", step)
			require.Equal(t, want, got, "step %d: worker", step)
			if gotOK {
				found++
			}
		case r < 10:
			// Readers of the store's free-capacity index flush the session.
			want, err := ch.k.MaxFreeCapacity(plain, shardID)
			require.NoError(t, err)
			got, err := ch.k.MaxFreeCapacity(withSession, shardID)
			require.NoError(t, err)
			require.Equal(t, want, got, "step %d: max free capacity", step)
		case r < 17:
			op := randomOp()
			wantErr := ch.applySessionOp(plain, op)
			gotErr := ch.applySessionOp(withSession, op)
			require.Equal(t, wantErr == nil, gotErr == nil, "step %d: %+v: %v / %v", step, op, wantErr, gotErr)
			if wantErr != nil {
				require.Equal(t, wantErr.Error(), gotErr.Error(), "step %d", step)
			}
			for _, i := range []int{op.worker, rng.Intn(workers)} {
				w1, err1 := ch.k.GetWorker(plain, ch.addr(i))
				w2, err2 := ch.k.GetWorker(withSession, ch.addr(i))
				require.Equal(t, err1 == nil, err2 == nil)
				require.Equal(t, w1, w2, "step %d: worker %d", step, i)
			}
			s1, err := ch.k.GetShard(plain, shardID)
			require.NoError(t, err)
			s2, err := ch.k.GetShard(withSession, shardID)
			require.NoError(t, err)
			require.Equal(t, s1, s2, "step %d: shard", step)
		case r < 19:
			require.NoError(t, ch.k.FlushDrainSession(withSession))
			require.Equal(t, dumpStore(plain, storeKey), dumpStore(withSession, storeKey), "step %d: store after the flush", step)
			flushes++
		default:
			// Changes rolled back: flushed first (the caller's commit point),
			// then made in a cached context that is dropped, then the reset.
			require.NoError(t, ch.k.FlushDrainSession(withSession))
			cc, _ := withSession.CacheContext()
			for n := 1 + rng.Intn(4); n > 0; n-- {
				_ = ch.applySessionOp(cc, randomOp())
			}
			ch.k.ResetDrainSession(cc)
		}
	}
	require.NoError(t, ch.k.FlushDrainSession(withSession))
	require.Equal(t, dumpStore(plain, storeKey), dumpStore(withSession, storeKey), "store at the end")
	t.Logf("found %d, flushes %d", found, flushes)
	require.Greater(t, found, 200, "the queries find workers often enough to mean something")
	require.Greater(t, flushes, 100)
}

// A session is only for its shard: FindWorker on another shard reads the
// store.
func TestDrainSessionFindsWorkersOfItsShardOnly(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.register(t, 0, 5, types.ClassHighPriority)
	ch.register(t, 1, 5, types.ClassLowPriority)
	ctx := ch.k.WithDrainSession(ch.ctx, 1)
	for shard, want := range map[uint64]sdk.AccAddress{1: ch.addr(0), 2: ch.addr(1)} {
		got, ok, err := ch.k.FindWorker(ctx, shard, 1, 0, nil)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, got, "shard %d", shard)
	}
}

// A worker removed while the session holds a changed record of it leaves no
// free-capacity entry behind (the store's entry is the one of the record as
// last written).
func TestDrainSessionRemovesAChangedWorker(t *testing.T) {
	ch := newChain(t, 1, nil)
	ch.register(t, 0, 5, types.ClassHighPriority)
	storeKey := ch.c.App.GetKey(types.StoreKey)
	plain, _ := ch.ctx.CacheContext()
	withSession, _ := ch.ctx.CacheContext()
	withSession = ch.k.WithDrainSession(withSession, 1)
	for _, ctx := range []sdk.Context{plain, withSession} {
		require.NoError(t, ch.k.AddInFlight(ctx, 1, ch.addr(0), 2))
		require.NoError(t, ch.k.DeleteWorkerForTest(ctx, ch.addr(0)))
	}
	require.NoError(t, ch.k.FlushDrainSession(withSession))
	require.Equal(t, dumpStore(plain, storeKey), dumpStore(withSession, storeKey))
}
