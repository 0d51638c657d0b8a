package keeper

import (
	"bytes"
	"context"
	"errors"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/keyscan"
	"github.com/repshard/repshard/x/deferral/types"
)

// The indexes of the request records, and the reads that range over them.
//
// Two kinds: the plain multi-indexes (requester, shard), which every record
// has one entry in whatever its status, are RequestIndexes, kept by the
// Requests IndexedMap itself; the status-dependent ones (the queue, queue
// expiries, deadlines, finished) and the worker index (a record has a worker
// only once assigned) are key sets kept by saveRequest through indexKeysOf
// and applyIndexKeys.

// RequestIndexes are the multi-indexes of Requests: (requester, id) and
// (shard, id).
type RequestIndexes struct {
	Requester *indexes.Multi[sdk.AccAddress, uint64, types.Request]
	Shard     *indexes.Multi[uint64, uint64, types.Request]
}

// The key codecs of the RequestIndexes entries.
var (
	requesterIndexCodec = collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key)
	shardIndexCodec     = collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)
)

func newRequestIndexes(sb *collections.SchemaBuilder, addressCodec address.Codec) RequestIndexes {
	return RequestIndexes{
		Requester: indexes.NewMulti(sb, types.ByRequesterKey, "by_requester", sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, r types.Request) (sdk.AccAddress, error) {
				return addressCodec.StringToBytes(r.Requester)
			}),
		Shard: indexes.NewMulti(sb, types.ByShardKey, "by_shard", collections.Uint64Key, collections.Uint64Key,
			func(_ uint64, r types.Request) (uint64, error) { return r.ShardId, nil }),
	}
}

// IndexesList gives the IndexedMap a single index that keeps both
// multi-indexes (see changedRefs).
func (i RequestIndexes) IndexesList() []collections.Index[uint64, types.Request] {
	return []collections.Index[uint64, types.Request]{changedRefs{i}}
}

// changedRefs keeps the RequestIndexes on a Set or Remove of a record. The
// IndexedMap hands each of its indexes its own lazy read of the stored
// record, and indexes.Multi removes and rewrites its entry on every Set; one
// index over both reads the record once, and rewrites an entry only when its
// reference changed. Most Sets are status changes, which keep the requester
// and the shard: they write no entry here, as before the IndexedMap.
type changedRefs struct{ RequestIndexes }

// Reference indexes r under id; stored reads the record it replaces
// (collections.ErrNotFound for a new one).
func (c changedRefs) Reference(ctx context.Context, id uint64, r types.Request, stored func() (types.Request, error)) error {
	old, err := stored()
	isNew := errors.Is(err, collections.ErrNotFound)
	if err != nil && !isNew {
		return err
	}
	was := func() (types.Request, error) { return old, err }
	if isNew || old.Requester != r.Requester {
		if err := c.Requester.Reference(ctx, id, r, was); err != nil {
			return err
		}
	}
	if isNew || old.ShardId != r.ShardId {
		return c.Shard.Reference(ctx, id, r, was)
	}
	return nil
}

// Unreference removes the entries of the record stored under id.
func (c changedRefs) Unreference(ctx context.Context, id uint64, stored func() (types.Request, error)) error {
	if err := c.Requester.Unreference(ctx, id, stored); err != nil {
		return err
	}
	return c.Shard.Unreference(ctx, id, stored)
}

// indexView is a read-only key set over the entries of one of the
// RequestIndexes, for query.CollectionPaginate, which needs IterateRaw (an
// indexes.Multi has none). It reads the same prefix with the same key codec;
// its schema builder is its own and never built, so the prefix is registered
// once, by the index.
func indexView[K any](storeService storetypes.KVStoreService, prefix collections.Prefix, name string, kc collcodec.KeyCodec[K]) collections.KeySet[K] {
	return collections.NewKeySet(collections.NewSchemaBuilder(storeService), prefix, name, kc)
}

// indexKeys are the entries of one record in the indexes saveRequest keeps;
// nil pointers mean "no entry".
type indexKeys struct {
	// workers: the worker of a request, or each replica's worker.
	workers     []collections.Pair[sdk.AccAddress, uint64]
	queue       *collections.Triple[uint64, uint64, uint64]
	queueExpiry *collections.Pair[uint64, uint64]
	deadline    *collections.Pair[uint64, uint64]
	finished    *collections.Pair[uint64, uint64]
}

func (k Keeper) indexKeysOf(r types.Request) (indexKeys, error) {
	var ks indexKeys
	if r.Worker != "" && !isReplicated(r) {
		worker, err := k.addressCodec.StringToBytes(r.Worker)
		if err != nil {
			return indexKeys{}, err
		}
		ks.workers = []collections.Pair[sdk.AccAddress, uint64]{collections.Join(sdk.AccAddress(worker), r.Id)}
	}
	for _, run := range r.ReplicaRuns {
		worker, err := k.addressCodec.StringToBytes(run.Worker)
		if err != nil {
			return indexKeys{}, err
		}
		ks.workers = append(ks.workers, collections.Join(sdk.AccAddress(worker), r.Id))
	}
	switch r.Status {
	case types.StatusQueued:
		ks.queue = ptr(queueKey(r))
		ks.queueExpiry = ptr(collections.Join(uint64(r.QueueExpiryHeight), r.Id))
	case types.StatusAssigned:
		ks.deadline = ptr(collections.Join(uint64(r.DeadlineHeight), r.Id))
	default:
		ks.finished = ptr(collections.Join(uint64(r.FinishHeight), r.Id))
	}
	return ks, nil
}

// applyIndexKeys removes the entries of before that after lacks and adds
// those of after that before lacks.
func (k Keeper) applyIndexKeys(ctx context.Context, before, after indexKeys) error {
	return errors.Join(
		moveKeys(ctx, k.ByWorker, before.workers, after.workers),
		moveKey(ctx, k.Queue, before.queue, after.queue),
		moveKey(ctx, k.QueueExpiries, before.queueExpiry, after.queueExpiry),
		moveKey(ctx, k.Deadlines, before.deadline, after.deadline),
		moveKey(ctx, k.Finished, before.finished, after.finished),
	)
}

// moveKey replaces the entry from with to in set; nothing when they are
// equal. Keys are compared encoded: Pair and Triple hold pointers, so == on
// them compares identities, not values.
func moveKey[K any](ctx context.Context, set collections.KeySet[K], from, to *K) error {
	if from != nil && to != nil {
		a, err := collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), *from)
		if err != nil {
			return err
		}
		b, err := collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), *to)
		if err != nil {
			return err
		}
		if bytes.Equal(a, b) {
			return nil
		}
	}
	if from != nil {
		if err := set.Remove(ctx, *from); err != nil {
			return err
		}
	}
	if to != nil {
		return set.Set(ctx, *to)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// moveKeys replaces the entries from with to in set: the entries of from
// that to lacks are removed, those of to that from lacks are added. For the
// one-worker case it is moveKey.
func moveKeys[K any](ctx context.Context, set collections.KeySet[K], from, to []K) error {
	if len(from) <= 1 && len(to) <= 1 {
		var a, b *K
		if len(from) == 1 {
			a = &from[0]
		}
		if len(to) == 1 {
			b = &to[0]
		}
		return moveKey(ctx, set, a, b)
	}
	encode := func(keys []K) ([][]byte, error) {
		out := make([][]byte, len(keys))
		for i, key := range keys {
			b, err := collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), key)
			if err != nil {
				return nil, err
			}
			out[i] = b
		}
		return out, nil
	}
	fromRaw, err := encode(from)
	if err != nil {
		return err
	}
	toRaw, err := encode(to)
	if err != nil {
		return err
	}
	has := func(list [][]byte, b []byte) bool {
		for _, x := range list {
			if bytes.Equal(x, b) {
				return true
			}
		}
		return false
	}
	for i, key := range from {
		if !has(toRaw, fromRaw[i]) {
			if err := set.Remove(ctx, key); err != nil {
				return err
			}
		}
	}
	for i, key := range to {
		if !has(fromRaw, toRaw[i]) {
			if err := set.Set(ctx, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// index writes the entries of a record in the indexes saveRequest keeps
// (genesis import; Requests.Set writes the RequestIndexes).
func (k Keeper) index(ctx context.Context, r types.Request) error {
	keys, err := k.indexKeysOf(r)
	if err != nil {
		return err
	}
	return k.applyIndexKeys(ctx, indexKeys{}, keys)
}

// unindex removes the entries of a record from the indexes saveRequest keeps
// (pruning; Requests.Remove removes the RequestIndexes entries).
func (k Keeper) unindex(ctx context.Context, r types.Request) error {
	keys, err := k.indexKeysOf(r)
	if err != nil {
		return err
	}
	return k.applyIndexKeys(ctx, keys, indexKeys{})
}

// queueKey is the entry of a QUEUED request in Queue.
func queueKey(r types.Request) collections.Triple[uint64, uint64, uint64] {
	return collections.Join3(r.ShardId, uint64(r.DueHeight), r.Id)
}

// shardQueueRange ranges over one shard's queue, in serving order.
func shardQueueRange(shardID uint64) collections.Ranger[collections.Triple[uint64, uint64, uint64]] {
	return collections.NewPrefixedTripleRange[uint64, uint64, uint64](shardID)
}

// queuePosition counts the entries ahead of req in its shard's queue, up to
// QueuePositionScanLimit.
func (k Keeper) queuePosition(ctx context.Context, req types.Request) (uint64, bool, error) {
	it, err := k.Queue.Iterate(ctx, shardQueueRange(req.ShardId))
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	mine := queueKey(req)
	var ahead uint64
	for ; it.Valid(); it.Next() {
		key, err := it.Key()
		if err != nil {
			return 0, false, err
		}
		if key.K1() == mine.K1() && key.K2() == mine.K2() && key.K3() == mine.K3() { // a Triple holds pointers: compare the parts
			return ahead, false, nil
		}
		if ahead == types.QueuePositionScanLimit {
			return ahead, true, nil
		}
		ahead++
	}
	return ahead, false, nil
}

// dueKeys returns up to limit keys (height, id) with height ≤ upTo, in order.
// Keys are collected before any is changed: no writes with an open iterator.
func dueKeys(ctx context.Context, set collections.KeySet[collections.Pair[uint64, uint64]], upTo, limit uint64) ([]collections.Pair[uint64, uint64], error) {
	rng := new(collections.Range[collections.Pair[uint64, uint64]]).
		EndExclusive(collections.Join(upTo+1, uint64(0)))
	return keyscan.First(ctx, set, rng, limit)
}
