package keeper

import (
	"bytes"
	"context"
	"sort"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// maxFreeCacheEntries bounds the entries a free-capacity cache holds: a shard
// with more free-capacity entries (far more workers than
// max_workers_per_shard allows today) is searched in the store as usual.
const maxFreeCacheEntries = 1_024

// freeCache is an in-memory copy of one shard's FreeCapacity entries, in key
// order, for a run of FindWorker calls on that shard in one drain session
// (session.go): the queue drain seeks the index once per request, thousands
// of times a block, while the index holds at most max_workers_per_shard
// entries. FindWorker reads the copy exactly as it reads the store (same
// order, same candidate bound, the params read at the same point), and
// setWorker and deleteWorker, the only writers of FreeCapacity, apply each
// change of an entry of the shard to the copy too, so the copy stays equal
// to the store it was read from plus the writes made since. When writes are
// rolled back the session is reset (ResetDrainSession) and the copy is read
// again from the store at the next FindWorker.
type freeCache struct {
	shardID uint64
	loaded  bool
	// tooBig: the shard has more than maxFreeCacheEntries entries; the store
	// is searched instead.
	tooBig  bool
	entries []cachedFree
}

// cachedFree is a FreeCapacity entry with its encoded key, which orders it.
type cachedFree struct {
	raw []byte
	freeEntry
}

// reset drops the copy; it is read again at the next use.
func (c *freeCache) reset() { c.loaded, c.entries = false, nil }

// freeCacheOf returns the free-capacity cache of shardID of the drain
// session ctx carries, filled, or nil when there is none (or the shard is
// too big for one).
func (k Keeper) freeCacheOf(ctx context.Context, shardID uint64) (*freeCache, error) {
	s := sessionOf(ctx)
	if s == nil || s.free.shardID != shardID || s.free.tooBig {
		return nil, nil
	}
	c := &s.free
	if !c.loaded {
		if err := c.load(ctx, k); err != nil {
			return nil, err
		}
		if c.tooBig {
			return nil, nil
		}
	}
	return c, nil
}

// freeShardRange ranges ascending over all of a shard's FreeCapacity keys.
type freeShardRange struct{ shard uint64 }

func (r freeShardRange) RangeValues() (start, end *collections.RangeKey[FreeKey], order collections.Order, err error) {
	prefix := collections.QuadPrefix[uint64, uint32, uint64, sdk.AccAddress](r.shard)
	return collections.RangeKeyExact(prefix), collections.RangeKeyPrefixEnd(prefix), collections.OrderAscending, nil
}

// load reads the shard's entries from the store.
func (c *freeCache) load(ctx context.Context, k Keeper) error {
	if err := k.FlushDrainSession(ctx); err != nil { // the store's index is read
		return err
	}
	iter, err := k.FreeCapacity.Iterate(ctx, freeShardRange{shard: c.shardID})
	if err != nil {
		return err
	}
	defer iter.Close()
	var entries []cachedFree
	for ; iter.Valid(); iter.Next() {
		if len(entries) == maxFreeCacheEntries {
			c.tooBig = true
			return nil
		}
		kv, err := iter.KeyValue()
		if err != nil {
			return err
		}
		e, err := k.cachedFreeOf(freeEntry{key: kv.Key, storage: kv.Value})
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	c.entries, c.loaded = entries, true
	return nil
}

func (k Keeper) cachedFreeOf(e freeEntry) (cachedFree, error) {
	raw, err := collections.EncodeKeyWithPrefix(nil, k.FreeCapacity.KeyCodec(), e.key)
	return cachedFree{raw: raw, freeEntry: e}, err
}

// find is FindWorker on the cached entries: the entries with at least units
// free, in key order (tier, free units, address), the first whose storage
// covers dataBytes and that is not excluded; at most the candidate bound of
// them passed over.
func (c *freeCache) find(ctx context.Context, k Keeper, units, dataBytes uint64, excluded []sdk.AccAddress) (sdk.AccAddress, bool, error) {
	s := candidateScan{units: units, dataBytes: dataBytes, excluded: excluded}
	for i := range c.entries {
		e := &c.entries[i]
		if e.key.K3() < units {
			continue
		}
		if e.storage >= dataBytes && !isExcluded(e.key.K4(), excluded) {
			return bytes.Clone(e.key.K4()), true, nil
		}
		if done, err := s.pass(ctx, k); err != nil || done {
			return nil, false, err
		}
	}
	return nil, false, nil
}

// observeFree applies a change of a worker's FreeCapacity entry (before →
// after; ok false: no entry) to the free-capacity cache ctx carries, if the
// entries are the cache's shard's.
func (k Keeper) observeFree(ctx context.Context, before freeEntry, beforeOK bool, after freeEntry, afterOK bool) error {
	s := sessionOf(ctx)
	if s == nil || !s.free.loaded {
		return nil
	}
	c := &s.free
	if beforeOK && before.key.K1() == c.shardID {
		e, err := k.cachedFreeOf(before)
		if err != nil {
			return err
		}
		i, found := c.search(e.raw)
		if !found { // cannot happen: the store had it; read the store again
			c.reset()
			return nil
		}
		c.entries = append(c.entries[:i], c.entries[i+1:]...)
	}
	if afterOK && after.key.K1() == c.shardID {
		e, err := k.cachedFreeOf(after)
		if err != nil {
			return err
		}
		i, found := c.search(e.raw)
		if found {
			c.entries[i] = e
			return nil
		}
		if len(c.entries) == maxFreeCacheEntries {
			c.reset()
			c.tooBig = true
			return nil
		}
		c.entries = append(c.entries, cachedFree{})
		copy(c.entries[i+1:], c.entries[i:])
		c.entries[i] = e
	}
	return nil
}

// search returns the position of the entry with key raw, or where it would go.
func (c *freeCache) search(raw []byte) (int, bool) {
	i := sort.Search(len(c.entries), func(i int) bool { return bytes.Compare(c.entries[i].raw, raw) >= 0 })
	return i, i < len(c.entries) && bytes.Equal(c.entries[i].raw, raw)
}
