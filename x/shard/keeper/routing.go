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
// It returns the shard with its price per compute unit and whether the
// requester was routed as preferred.
func (k Keeper) Route(ctx context.Context, class types.ShardClass, reputationPpm uint32, requestID uint64) (types.RoutedShard, error) {
	if !class.IsValid() {
		return types.RoutedShard{}, errorsmod.Wrapf(types.ErrInvalidClass, "cannot route class %s (%d)", class, int32(class))
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.RoutedShard{}, err
	}
	ids, err := k.activeShardIDsOfClass(ctx, class)
	if err != nil {
		return types.RoutedShard{}, err
	}
	if len(ids) == 0 {
		return types.RoutedShard{}, errorsmod.Wrapf(types.ErrNoActiveShard, "class %s", class)
	}
	routed := func(s types.Shard, preferred bool) types.RoutedShard {
		return types.RoutedShard{Shard: s, Preferred: preferred, UnitPrice: types.EffectiveUnitPrice(params, s)}
	}
	if reputationPpm < params.PreferredReputationThresholdPpm {
		s, err := k.getShard(ctx, ids[HashIndex(requestID, len(ids))])
		return routed(s, false), err
	}
	var best types.Shard
	for i, id := range ids {
		s, err := k.getShard(ctx, id)
		if err != nil {
			return types.RoutedShard{}, err
		}
		if i == 0 || lessLoaded(s, best) { // ids ascend: ties keep the lower id
			best = s
		}
	}
	return routed(best, true), nil
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

// freeFromRange ranges ascending over a shard's FreeCapacity keys from
// (shard, tier, units) inclusive to the end of the shard: the entries of the
// inverted tier with at least units free, then every entry of the lower
// tiers.
type freeFromRange struct {
	shard uint64
	tier  uint32
	units uint64
}

func (r freeFromRange) RangeValues() (start, end *collections.RangeKey[FreeKey], order collections.Order, err error) {
	return collections.RangeKeyExact(collections.QuadSuperPrefix3[uint64, uint32, uint64, sdk.AccAddress](r.shard, r.tier, r.units)),
		collections.RangeKeyPrefixEnd(collections.QuadPrefix[uint64, uint32, uint64, sdk.AccAddress](r.shard)),
		collections.OrderAscending, nil
}

// freeBelowTierRange ranges descending over a shard's FreeCapacity keys
// before the inverted tier belowTier (the whole shard when all is set): its
// first key is the largest free capacity of the lowest remaining tier.
type freeBelowTierRange struct {
	shard     uint64
	belowTier uint32
	all       bool
}

func (r freeBelowTierRange) RangeValues() (start, end *collections.RangeKey[FreeKey], order collections.Order, err error) {
	end = collections.RangeKeyPrefixEnd(collections.QuadPrefix[uint64, uint32, uint64, sdk.AccAddress](r.shard))
	if !r.all {
		end = collections.RangeKeyExact(collections.QuadSuperPrefix[uint64, uint32, uint64, sdk.AccAddress](r.shard, r.belowTier))
	}
	return collections.RangeKeyExact(collections.QuadPrefix[uint64, uint32, uint64, sdk.AccAddress](r.shard)), end,
		collections.OrderDescending, nil
}

// FindWorker returns the worker that takes a request of units compute units
// and dataBytes of data on the shard: among the ACTIVE workers that are not
// paused, those of the highest score tier (score_ppm / 100_000) first, and
// within a tier the one whose free capacity is the smallest that still fits
// units (best fit; ties by address). A candidate whose storage_bytes is below
// dataBytes, or that is excluded (x/deferral excludes the request's requester
// — nobody serves, and is paid for, their own work — and the workers that let
// an assignment of the request expire), is passed over; after
// max_assignment_candidates such candidates FindWorker gives up and returns
// false, as it does when no worker fits.
//
// O(tiers · log n + max_assignment_candidates): one range seek per non-empty
// tier (at most 11); a tier's entries with too few free units are never read.
//
// Under a drain session of the shard (WithDrainSession), it reads the same
// entries from the session's in-memory copy of the index instead.
func (k Keeper) FindWorker(ctx context.Context, shardID, units, dataBytes uint64, excluded []sdk.AccAddress) (sdk.AccAddress, bool, error) {
	if c, err := k.freeCacheOf(ctx, shardID); err != nil || c != nil {
		if err != nil {
			return nil, false, err
		}
		return c.find(ctx, k, units, dataBytes, excluded)
	}
	if err := k.FlushDrainSession(ctx); err != nil { // the store's index is read
		return nil, false, err
	}
	s := candidateScan{units: units, dataBytes: dataBytes, excluded: excluded}
	for tier := uint32(0); tier <= types.MaxWorkerTier; {
		next, more, err := k.scanFrom(ctx, shardID, tier, &s)
		if err != nil || s.found != nil || !more {
			return s.found, s.found != nil, err
		}
		tier = next
	}
	return nil, false, nil
}

// candidateScan is the state of one FindWorker: what the request needs, the
// candidates passed over so far, their bound (read from the params at the
// first one passed over, so that the common case — the first candidate
// takes the request — reads no params) and the worker found.
type candidateScan struct {
	units, dataBytes uint64
	excluded         []sdk.AccAddress
	passed           uint32
	maxPassed        uint32
	found            sdk.AccAddress
}

// pass counts a candidate passed over and reports whether the bound is
// reached.
func (s *candidateScan) pass(ctx context.Context, k Keeper) (bool, error) {
	if s.maxPassed == 0 {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return false, err
		}
		s.maxPassed = max(params.MaxAssignmentCandidates, 1)
	}
	s.passed++
	return s.passed >= s.maxPassed, nil
}

// scanFrom reads the shard's FreeCapacity entries from (shard, tier, units)
// on, through the lower tiers, until a candidate takes the request (s.found),
// the candidate bound is reached, or the iterator meets a lower tier whose
// smallest free capacity is below units: then it returns that tier and more,
// for a new seek at (shard, that tier, units).
func (k Keeper) scanFrom(ctx context.Context, shardID uint64, tier uint32, s *candidateScan) (next uint32, more bool, err error) {
	iter, err := k.FreeCapacity.Iterate(ctx, freeFromRange{shard: shardID, tier: tier, units: s.units})
	if err != nil {
		return 0, false, err
	}
	defer iter.Close()
	for ; iter.Valid(); iter.Next() {
		kv, err := iter.KeyValue()
		if err != nil {
			return 0, false, err
		}
		key := kv.Key
		if key.K2() != tier {
			// The first entry of the next non-empty tier: the smallest free
			// capacity of that tier.
			if key.K3() < s.units {
				return key.K2(), true, nil
			}
			tier = key.K2()
		}
		if kv.Value >= s.dataBytes && !isExcluded(key.K4(), s.excluded) {
			s.found = key.K4()
			return 0, false, nil
		}
		if done, err := s.pass(ctx, k); err != nil || done {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// MaxFreeCapacity returns the largest free capacity of an ACTIVE worker of
// the shard that is not paused, whatever its tier and storage; 0 when none has
// any (then FindWorker finds nobody on the shard). O(tiers · log n): one
// reverse seek per non-empty tier.
func (k Keeper) MaxFreeCapacity(ctx context.Context, shardID uint64) (uint64, error) {
	if err := k.FlushDrainSession(ctx); err != nil { // the store's index is read
		return 0, err
	}
	var best uint64
	r := freeBelowTierRange{shard: shardID, all: true}
	for {
		key, ok, err := k.firstFreeKey(ctx, r)
		if err != nil || !ok {
			return best, err
		}
		best = max(best, key.K3())
		if key.K2() == 0 {
			return best, nil
		}
		r = freeBelowTierRange{shard: shardID, belowTier: key.K2()}
	}
}

// firstFreeKey returns the first FreeCapacity key of the range, if any.
func (k Keeper) firstFreeKey(ctx context.Context, r collections.Ranger[FreeKey]) (FreeKey, bool, error) {
	iter, err := k.FreeCapacity.Iterate(ctx, r)
	if err != nil {
		return FreeKey{}, false, err
	}
	defer iter.Close()
	if !iter.Valid() {
		return FreeKey{}, false, nil
	}
	key, err := iter.Key()
	return key, err == nil, err
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
