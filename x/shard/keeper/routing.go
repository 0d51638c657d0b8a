package keeper

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/shard/types"
)

// Route picks the ACTIVE shard of class for a request. A requester whose
// reputation is at or above preferred_reputation_threshold_ppm goes to the
// least-loaded shard (lowest (in-flight + queued) / capacity, uncapped, so
// that it still discriminates under overload; ties by lowest id); any other requester
// is spread by a deterministic hash of the request id over the class's shards
// in id order: sha256 of the 8-byte big-endian id, first 8 bytes as a
// big-endian integer, modulo the number of shards. O(max_shards_per_class).
func (k Keeper) Route(ctx context.Context, class types.ShardClass, reputationPpm uint32, requestID uint64) (types.Shard, error) {
	if !class.IsValid() {
		return types.Shard{}, errorsmod.Wrapf(types.ErrInvalidClass, "cannot route class %s (%d)", class, int32(class))
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Shard{}, err
	}
	ids, err := k.activeShardIDsOfClass(ctx, class)
	if err != nil {
		return types.Shard{}, err
	}
	if len(ids) == 0 {
		return types.Shard{}, errorsmod.Wrapf(types.ErrNoActiveShard, "class %s", class)
	}
	if reputationPpm < params.PreferredReputationThresholdPpm {
		return k.getShard(ctx, ids[HashIndex(requestID, len(ids))])
	}
	var best types.Shard
	for i, id := range ids {
		s, err := k.getShard(ctx, id)
		if err != nil {
			return types.Shard{}, err
		}
		if i == 0 || lessLoaded(s, best) { // ids ascend: ties keep the lower id
			best = s
		}
	}
	return best, nil
}

// lessLoaded reports whether a's load, (in-flight + queued) / capacity, is
// strictly below b's. It compares the exact ratios (cross-multiplied in 128
// bits), not the load_ppm capped at 100%: under overload every shard shows
// 100%, yet one with a shorter queue per unit of capacity serves sooner. A
// shard without capacity is the most loaded.
func lessLoaded(a, b types.Shard) bool {
	if a.CapacityUnits == 0 || b.CapacityUnits == 0 {
		if a.CapacityUnits == 0 {
			return false
		}
		return true
	}
	ua, errA := shardLoadUnits(a)
	ub, errB := shardLoadUnits(b)
	if errA != nil || errB != nil {
		return errB != nil && errA == nil
	}
	// ua/ca < ub/cb  ⇔  ua·cb < ub·ca
	hiL, loL := bits.Mul64(ua, b.CapacityUnits)
	hiR, loR := bits.Mul64(ub, a.CapacityUnits)
	return hiL < hiR || (hiL == hiR && loL < loR)
}

// HashIndex is the index among n shards a request id hashes to.
func HashIndex(requestID uint64, n int) int {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], requestID)
	h := sha256.Sum256(b[:])
	return int(binary.BigEndian.Uint64(h[:8]) % uint64(n))
}

// GetShard returns a shard by id, or ErrShardNotFound.
func (k Keeper) GetShard(ctx context.Context, shardID uint64) (types.Shard, error) {
	return k.getShard(ctx, shardID)
}

// GetWorker returns a worker by address, or ErrWorkerNotFound.
func (k Keeper) GetWorker(ctx context.Context, addr sdk.AccAddress) (types.Worker, error) {
	return k.getWorker(ctx, addr)
}

// DrainableShardIDs returns the ids of ACTIVE and DRAINING shards in id order.
func (k Keeper) DrainableShardIDs(ctx context.Context) ([]uint64, error) {
	iter, err := k.DrainableShards.Iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	return iter.Keys()
}

// NetworkLoadPpm is (in-flight + queued units) / capacity over all ACTIVE
// shards, in ppm, capped at 1_000_000; 1_000_000 when there is no capacity. O(1).
func (k Keeper) NetworkLoadPpm(ctx context.Context) (uint32, error) {
	t, err := k.getTotals(ctx)
	if err != nil {
		return 0, err
	}
	return LoadPpm(t.LoadUnits, t.CapacityUnits), nil
}

// freeFromRange ranges over a shard's FreeCapacity keys from (shard, units)
// inclusive to the end of the shard, ascending.
type freeFromRange struct{ shard, units uint64 }

func (r freeFromRange) RangeValues() (start, end *collections.RangeKey[FreeKey], order collections.Order, err error) {
	return collections.RangeKeyExact(collections.TripleSuperPrefix[uint64, uint64, sdk.AccAddress](r.shard, r.units)),
		collections.RangeKeyPrefixEnd(collections.TriplePrefix[uint64, uint64, sdk.AccAddress](r.shard)),
		collections.OrderAscending, nil
}

// FindWorker returns the ACTIVE worker of the shard whose free capacity is the
// smallest that still fits units (best fit; ties by address), other than the
// excluded ones: x/deferral excludes the request's requester (nobody serves,
// and is paid for, their own work) and the workers that let an assignment of
// the request expire. O(log n + len(excluded)): each worker has one entry, so
// at most len(excluded) entries are skipped. It returns false when no other
// worker of the shard has units free.
func (k Keeper) FindWorker(ctx context.Context, shardID, units, dataBytes uint64, excluded []sdk.AccAddress) (sdk.AccAddress, bool, error) {
	iter, err := k.FreeCapacity.Iterate(ctx, freeFromRange{shard: shardID, units: units})
	if err != nil {
		return nil, false, err
	}
	defer iter.Close()
	for ; iter.Valid(); iter.Next() {
		key, err := iter.Key()
		if err != nil {
			return nil, false, err
		}
		if !isExcluded(key.K3(), excluded) {
			return key.K3(), true, nil
		}
	}
	return nil, false, nil
}

// MaxFreeCapacity returns the largest free capacity of an ACTIVE worker of
// the shard, 0 when none has any. O(log n).
func (k Keeper) MaxFreeCapacity(ctx context.Context, shardID uint64) (uint64, error) {
	iter, err := k.FreeCapacity.Iterate(ctx, collections.NewPrefixedTripleRangeReversed[uint64, uint64, sdk.AccAddress](shardID))
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	if !iter.Valid() {
		return 0, nil
	}
	key, err := iter.Key()
	if err != nil {
		return 0, err
	}
	return key.K2(), nil
}

// isExcluded reports whether addr is one of excluded.
func isExcluded(addr sdk.AccAddress, excluded []sdk.AccAddress) bool {
	for _, e := range excluded {
		if addr.Equals(e) {
			return true
		}
	}
	return false
}
