package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/shard/types"
)

// LoadPpm is used/capacity in ppm, capped at 1_000_000; full load when there
// is no capacity.
func LoadPpm(used, capacity uint64) uint32 {
	if capacity == 0 || used >= capacity {
		return ppm.Max
	}
	return uint32(ppm.MulDiv(used, ppm.Max, capacity))
}

func addU64(a, b uint64) (uint64, error) {
	if a > ^uint64(0)-b {
		return 0, errorsmod.Wrapf(types.ErrOverflow, "%d + %d", a, b)
	}
	return a + b, nil
}

func subU64(a, b uint64, what string) (uint64, error) {
	if b > a {
		return 0, errorsmod.Wrapf(types.ErrCounterUnderflow, "%s: %d - %d", what, a, b)
	}
	return a - b, nil
}

// shardLoadUnits is what counts towards a shard's load: in-flight + queued.
func shardLoadUnits(s types.Shard) (uint64, error) {
	return addU64(s.InFlightUnits, s.QueuedUnits)
}

// getShard returns a shard or ErrShardNotFound (under a drain session, the
// session's copy: session.go).
func (k Keeper) getShard(ctx context.Context, id uint64) (types.Shard, error) {
	var s types.Shard
	var err error
	if sess := sessionOf(ctx); sess != nil {
		var r *sessionRecord[types.Shard]
		if r, err = k.sessionShardOf(ctx, sess, id); err == nil {
			s = r.cur
		}
	} else {
		s, err = k.Shards.Get(ctx, id)
	}
	if errors.Is(err, collections.ErrNotFound) {
		return s, errorsmod.Wrapf(types.ErrShardNotFound, "shard %d", id)
	}
	return s, err
}

// getWorker returns a worker or ErrWorkerNotFound (under a drain session,
// the session's copy).
func (k Keeper) getWorker(ctx context.Context, addr sdk.AccAddress) (types.Worker, error) {
	var w types.Worker
	var err error
	if sess := sessionOf(ctx); sess != nil {
		var r *sessionWorker
		if r, err = k.sessionWorkerOf(ctx, sess, addr); err == nil {
			w = copyWorker(r.cur)
		}
	} else {
		w, err = k.Workers.Get(ctx, addr)
	}
	if errors.Is(err, collections.ErrNotFound) {
		return w, errorsmod.Wrapf(types.ErrWorkerNotFound, "worker %s", addr)
	}
	return w, err
}

// getTotals returns the network totals (zero before the first shard; under
// a drain session, the session's copy).
func (k Keeper) getTotals(ctx context.Context) (types.NetworkTotals, error) {
	if sess := sessionOf(ctx); sess != nil {
		r, err := k.sessionTotalsOf(ctx, sess)
		if err != nil {
			return types.NetworkTotals{}, err
		}
		return r.cur, nil
	}
	t, err := k.Totals.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.NetworkTotals{}, nil
	}
	return t, err
}

// putTotals writes the network totals (under a drain session, to the
// session's copy, written at its flush).
func (k Keeper) putTotals(ctx context.Context, t types.NetworkTotals) error {
	if sess := sessionOf(ctx); sess != nil {
		r, err := k.sessionTotalsOf(ctx, sess)
		if err != nil {
			return err
		}
		r.cur, r.dirty = t, true
		return nil
	}
	return k.Totals.Set(ctx, t)
}

// putShard writes the record of a shard; under a drain session, a shard read
// under it (before not nil) is written to the session's copy, written at its
// flush.
func (k Keeper) putShard(ctx context.Context, before *types.Shard, after types.Shard) error {
	if sess := sessionOf(ctx); sess != nil {
		if r, ok := sess.shardI[after.Id]; ok {
			if before != nil {
				r.cur, r.dirty = after, true
				return nil
			}
			r.cur, r.dirty = after, false // written below
		}
	}
	return k.Shards.Set(ctx, after.Id, after)
}

// deferWorkerWrite reports whether the write of a worker's record (before →
// after) is left to the flush of the drain session ctx carries: when the
// session read the worker and the caller writes what it read (before not
// nil). A worker the session read and the caller writes as new is first
// flushed, so the store is up to date for the write.
func (k Keeper) deferWorkerWrite(ctx context.Context, addr sdk.AccAddress, before *types.Worker) (bool, error) {
	sess := sessionOf(ctx)
	if sess == nil {
		return false, nil
	}
	if _, ok := sess.workerI[string(addr)]; !ok {
		return false, nil
	}
	if before != nil {
		return true, nil
	}
	return false, k.FlushDrainSession(ctx)
}

// putWorker is putShard for a worker (see deferWorkerWrite).
func (k Keeper) putWorker(ctx context.Context, addr sdk.AccAddress, before *types.Worker, after types.Worker) error {
	if sess := sessionOf(ctx); sess != nil {
		if r, ok := sess.workerI[string(addr)]; ok {
			if before != nil {
				r.cur, r.dirty = copyWorker(after), true
				return nil
			}
			r.cur, r.stored, r.dirty = copyWorker(after), copyWorker(after), false // written below
		}
	}
	return k.Workers.Set(ctx, addr, after)
}

// setShard writes after, recomputing its load_ppm, and keeps the class index,
// the drainable set and the network totals in step with the change from
// before (nil for a new shard). O(1).
func (k Keeper) setShard(ctx context.Context, before *types.Shard, after types.Shard) error {
	used, err := shardLoadUnits(after)
	if err != nil {
		return err
	}
	after.LoadPpm = LoadPpm(used, after.CapacityUnits)

	wasActive := before != nil && before.Status == types.ShardActive
	isActive := after.Status == types.ShardActive
	if wasActive || isActive {
		totals, err := k.getTotals(ctx)
		if err != nil {
			return err
		}
		totalsBefore := totals
		if wasActive {
			bu, err := shardLoadUnits(*before)
			if err != nil {
				return err
			}
			if totals.CapacityUnits, err = subU64(totals.CapacityUnits, before.CapacityUnits, "network capacity"); err != nil {
				return err
			}
			if totals.LoadUnits, err = subU64(totals.LoadUnits, bu, "network load"); err != nil {
				return err
			}
		}
		if isActive {
			if totals.CapacityUnits, err = addU64(totals.CapacityUnits, after.CapacityUnits); err != nil {
				return err
			}
			if totals.LoadUnits, err = addU64(totals.LoadUnits, used); err != nil {
				return err
			}
		}
		// Writes cost gas: only write what changed.
		if totals != totalsBefore {
			if err := k.putTotals(ctx, totals); err != nil {
				return err
			}
		}
	}

	sameClassEntry := wasActive && isActive && before.Class == after.Class
	if wasActive && !sameClassEntry {
		if err := k.ShardsByClass.Remove(ctx, collections.Join(int32(before.Class), before.Id)); err != nil {
			return err
		}
	}
	if isActive && !sameClassEntry {
		if err := k.ShardsByClass.Set(ctx, collections.Join(int32(after.Class), after.Id)); err != nil {
			return err
		}
	}
	wasDrainable := before != nil && drainable(before.Status)
	if isDrainable := drainable(after.Status); isDrainable != wasDrainable || before == nil {
		if isDrainable {
			if err := k.DrainableShards.Set(ctx, after.Id); err != nil {
				return err
			}
		} else if err := k.DrainableShards.Remove(ctx, after.Id); err != nil {
			return err
		}
	}
	return k.putShard(ctx, before, after)
}

// drainable reports whether x/deferral drains the queue of a shard in status s.
func drainable(s types.ShardStatus) bool {
	return s == types.ShardActive || s == types.ShardDraining
}

// freeEntry is a worker's FreeCapacity entry: its key and its value, the
// worker's storage_bytes.
type freeEntry struct {
	key     FreeKey
	storage uint64
}

// same compares two optional entries by value (a Quad holds pointers, so ==
// would compare identities).
func (a freeEntry) same(aOK bool, b freeEntry, bOK bool) bool {
	if !aOK || !bOK {
		return aOK == bOK
	}
	return a.key.K1() == b.key.K1() && a.key.K2() == b.key.K2() && a.key.K3() == b.key.K3() &&
		a.key.K4().Equals(b.key.K4()) && a.storage == b.storage
}

// invertedTier is the FreeCapacity key part of a worker score: the highest
// tier sorts first.
func invertedTier(scorePpm uint32) uint32 { return types.MaxWorkerTier - types.WorkerTier(scorePpm) }

// freeKey returns the FreeCapacity entry of w, if it has one: only ACTIVE
// workers that are not paused and have free units are eligible for new work.
func freeKey(addr sdk.AccAddress, w types.Worker) (freeEntry, bool) {
	if w.Status != types.WorkerActive || w.Paused || w.InFlightUnits >= w.CapacityUnits {
		return freeEntry{}, false
	}
	return freeEntry{
		key:     collections.Join4(w.ShardId, invertedTier(w.ScorePpm), w.CapacityUnits-w.InFlightUnits, addr),
		storage: w.StorageBytes,
	}, true
}

// setWorker writes after and keeps the free-capacity, by-shard and unbonding
// indexes in step with the change from before (nil for a new worker). O(1).
func (k Keeper) setWorker(ctx context.Context, addr sdk.AccAddress, before *types.Worker, after types.Worker) error {
	// Writes cost gas: index entries that do not change are left alone.
	var beforeEntry freeEntry
	beforeOK := false
	if before != nil {
		beforeEntry, beforeOK = freeKey(addr, *before)
	}
	afterEntry, afterOK := freeKey(addr, after)
	// Under a drain session, the record of a worker read under it and its
	// free-capacity entry are written at the flush (session.go).
	deferred, err := k.deferWorkerWrite(ctx, addr, before)
	if err != nil {
		return err
	}
	if !beforeEntry.same(beforeOK, afterEntry, afterOK) {
		if beforeOK && !deferred {
			if err := k.FreeCapacity.Remove(ctx, beforeEntry.key); err != nil {
				return err
			}
		}
		if afterOK && !deferred {
			if err := k.FreeCapacity.Set(ctx, afterEntry.key, afterEntry.storage); err != nil {
				return err
			}
		}
		if err := k.observeFree(ctx, beforeEntry, beforeOK, afterEntry, afterOK); err != nil {
			return err
		}
	}
	if before == nil || before.ShardId != after.ShardId {
		if before != nil {
			if err := k.WorkersByShard.Remove(ctx, collections.Join(before.ShardId, addr)); err != nil {
				return err
			}
		}
		if err := k.WorkersByShard.Set(ctx, collections.Join(after.ShardId, addr)); err != nil {
			return err
		}
	}
	var beforeRelease int64
	if before != nil {
		beforeRelease = before.ReleaseHeight
	}
	if beforeRelease != after.ReleaseHeight {
		if beforeRelease != 0 {
			if err := k.UnbondingQueue.Remove(ctx, collections.Join(beforeRelease, addr)); err != nil {
				return err
			}
		}
		if after.ReleaseHeight != 0 {
			if err := k.UnbondingQueue.Set(ctx, collections.Join(after.ReleaseHeight, addr)); err != nil {
				return err
			}
		}
	}
	return k.putWorker(ctx, addr, before, after)
}

// deleteWorker removes w and all its index entries.
func (k Keeper) deleteWorker(ctx context.Context, addr sdk.AccAddress, w types.Worker) error {
	// Under a drain session the store's free-capacity entry is the one of
	// the record as last written (session.go).
	stored := w
	if sess := sessionOf(ctx); sess != nil {
		if r, ok := sess.workerI[string(addr)]; ok {
			stored = r.stored
		}
	}
	if e, ok := freeKey(addr, stored); ok {
		if err := k.FreeCapacity.Remove(ctx, e.key); err != nil {
			return err
		}
	}
	if e, ok := freeKey(addr, w); ok {
		if err := k.observeFree(ctx, e, true, freeEntry{}, false); err != nil {
			return err
		}
	}
	if err := k.WorkersByShard.Remove(ctx, collections.Join(w.ShardId, addr)); err != nil {
		return err
	}
	if w.ReleaseHeight != 0 {
		if err := k.UnbondingQueue.Remove(ctx, collections.Join(w.ReleaseHeight, addr)); err != nil {
			return err
		}
	}
	if sess := sessionOf(ctx); sess != nil {
		sess.forgetWorker(addr)
	}
	return k.Workers.Remove(ctx, addr)
}

// activeShardsOfClass returns the ACTIVE shards of class in id order; at most
// max_shards_per_class of them.
func (k Keeper) activeShardsOfClass(ctx context.Context, class types.ShardClass) ([]types.Shard, error) {
	keys, err := k.activeShardIDsOfClass(ctx, class)
	if err != nil {
		return nil, err
	}
	shards := make([]types.Shard, 0, len(keys))
	for _, id := range keys {
		s, err := k.getShard(ctx, id)
		if err != nil {
			return nil, err
		}
		shards = append(shards, s)
	}
	return shards, nil
}

func (k Keeper) activeShardIDsOfClass(ctx context.Context, class types.ShardClass) ([]uint64, error) {
	iter, err := k.ShardsByClass.Iterate(ctx, collections.NewPrefixedPairRange[int32, uint64](int32(class)))
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(keys))
	for i, key := range keys {
		ids[i] = key.K2()
	}
	return ids, nil
}
