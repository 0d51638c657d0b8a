// Package netgas meters a message's store access by its net effect.
//
// The SDK charges every store operation as if it reached the disk: a record
// read three times in one message pays three reads, and a record written by
// each of a hundred entries of a batch pays a hundred writes, although the
// message's cache serves the repeated reads and only the last value of a key
// reaches IAVL. Run charges instead, at the SDK's KV gas prices:
//
//   - the first access to a key (a read or a has) as the SDK would, and every
//     later access to it at the SDK's transient-store prices (a cache hit);
//   - each key the message changed once, when it ends, by its final value: a
//     write (flat + per byte of key and value) or a delete; every further
//     change of a key already changed at the transient-store prices;
//   - iteration exactly as the SDK does (per step and per byte).
//
// Everything else that consumes gas (explicit charges such as the prepaid
// drain) passes through unchanged. The charges depend only on the keys and
// values the message touches, so every node and every simulation of the same
// message on the same state charges the same gas.
package netgas

import (
	"io"

	"cosmossdk.io/store/gaskv"
	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Descriptors of the charges Run makes, as they appear in gas traces.
const (
	DescFirstRead  = "netgas: first read"
	DescCachedRead = "netgas: cached access"
	DescWrite      = "netgas: write (final value)"
	DescDelete     = "netgas: delete"
	DescCachedSet  = "netgas: cached write"
)

// Run calls fn with a context whose store access is metered by its net
// effect and settles the deferred write charges when fn returns, whether it
// failed or not (a failed message still pays for what it did).
func Run(ctx sdk.Context, fn func(sdk.Context) error) error {
	t := &tracker{
		meter: ctx.GasMeter(), full: ctx.KVGasConfig(), cached: storetypes.TransientGasConfig(),
		keys: map[string]int{},
	}
	inner := ctx.WithMultiStore(multiStore{MultiStore: ctx.MultiStore(), t: t}).WithKVGasConfig(storetypes.GasConfig{})
	err := fn(inner)
	t.settle()
	return err
}

// key is what the tracker knows of one store key.
type key struct {
	id       string // store name + 0x00 + key
	keyLen   int
	valueLen int
	written  bool // changed by the message
	deleted  bool // its final change is a delete
}

type tracker struct {
	meter  storetypes.GasMeter
	full   storetypes.GasConfig
	cached storetypes.GasConfig
	keys   map[string]int // id → index in order
	order  []key          // first-touch order, so settling never ranges a map
}

// touch returns the entry of a key and whether this is its first access.
func (t *tracker) touch(store string, k []byte) (*key, bool) {
	id := store + "\x00" + string(k)
	if i, ok := t.keys[id]; ok {
		return &t.order[i], false
	}
	t.keys[id] = len(t.order)
	t.order = append(t.order, key{id: id, keyLen: len(k)})
	return &t.order[len(t.order)-1], true
}

func (t *tracker) read(store string, k []byte, value []byte) {
	if _, first := t.touch(store, k); first {
		t.meter.ConsumeGas(t.full.ReadCostFlat+t.full.ReadCostPerByte*storetypes.Gas(len(k)+len(value)), DescFirstRead)
		return
	}
	t.meter.ConsumeGas(t.cached.ReadCostFlat+t.cached.ReadCostPerByte*storetypes.Gas(len(k)+len(value)), DescCachedRead)
}

func (t *tracker) has(store string, k []byte) {
	if _, first := t.touch(store, k); first {
		t.meter.ConsumeGas(t.full.HasCost, DescFirstRead)
		return
	}
	t.meter.ConsumeGas(t.cached.HasCost, DescCachedRead)
}

// set and delete charge a change of a key the message already changed at
// the cached prices; the first change of a key is charged by settle.
func (t *tracker) set(store string, k, value []byte) {
	e, _ := t.touch(store, k)
	if e.written {
		t.meter.ConsumeGas(t.cached.WriteCostFlat+t.cached.WriteCostPerByte*storetypes.Gas(len(k)+len(value)), DescCachedSet)
	}
	e.written, e.deleted, e.valueLen = true, false, len(value)
}

func (t *tracker) delete(store string, k []byte) {
	e, _ := t.touch(store, k)
	if e.written {
		t.meter.ConsumeGas(t.cached.DeleteCost, DescCachedSet)
	}
	e.written, e.deleted, e.valueLen = true, true, 0
}

// settle charges each changed key once, by its final state.
func (t *tracker) settle() {
	var writes, deletes storetypes.Gas
	for i := range t.order {
		e := &t.order[i]
		switch {
		case !e.written:
		case e.deleted:
			deletes += t.full.DeleteCost
		default:
			writes += t.full.WriteCostFlat + t.full.WriteCostPerByte*storetypes.Gas(e.keyLen+e.valueLen)
		}
	}
	if writes > 0 {
		t.meter.ConsumeGas(writes, DescWrite)
	}
	if deletes > 0 {
		t.meter.ConsumeGas(deletes, DescDelete)
	}
}

// multiStore hands out metered KV stores and keeps metering in branches.
type multiStore struct {
	storetypes.MultiStore
	t *tracker
}

func (m multiStore) GetKVStore(k storetypes.StoreKey) storetypes.KVStore {
	return wrap(m.MultiStore.GetKVStore(k), k, m.t)
}

func (m multiStore) CacheMultiStore() storetypes.CacheMultiStore {
	return cacheMultiStore{branch: m.MultiStore.CacheMultiStore(), t: m.t}
}

func (m multiStore) SetTracer(w io.Writer) storetypes.MultiStore {
	return multiStore{MultiStore: m.MultiStore.SetTracer(w), t: m.t}
}

// cacheMultiStore is a branch (a cache context) that keeps the metering.
type cacheMultiStore struct {
	branch
	t *tracker
}

type branch = storetypes.CacheMultiStore

func (m cacheMultiStore) GetKVStore(k storetypes.StoreKey) storetypes.KVStore {
	return wrap(m.branch.GetKVStore(k), k, m.t)
}

func (m cacheMultiStore) CacheMultiStore() storetypes.CacheMultiStore {
	return cacheMultiStore{branch: m.branch.CacheMultiStore(), t: m.t}
}

func wrap(parent storetypes.KVStore, k storetypes.StoreKey, t *tracker) storetypes.KVStore {
	if _, transient := k.(*storetypes.TransientStoreKey); transient {
		return parent // the context still meters transient stores itself
	}
	return &store{KVStore: parent, name: k.Name(), t: t}
}

// store meters one KV store through the tracker.
type store struct {
	storetypes.KVStore
	name string
	t    *tracker
}

func (s *store) Get(k []byte) []byte {
	v := s.KVStore.Get(k)
	s.t.read(s.name, k, v)
	return v
}

func (s *store) Has(k []byte) bool {
	s.t.has(s.name, k)
	return s.KVStore.Has(k)
}

func (s *store) Set(k, v []byte) {
	storetypes.AssertValidKey(k)
	storetypes.AssertValidValue(v)
	s.t.set(s.name, k, v)
	s.KVStore.Set(k, v)
}

func (s *store) Delete(k []byte) {
	s.t.delete(s.name, k)
	s.KVStore.Delete(k)
}

// Iterators are charged as the SDK charges them: per step and per byte.
func (s *store) Iterator(start, end []byte) storetypes.Iterator {
	return gasKV(s).Iterator(start, end)
}

func (s *store) ReverseIterator(start, end []byte) storetypes.Iterator {
	return gasKV(s).ReverseIterator(start, end)
}

func gasKV(s *store) storetypes.KVStore {
	return gaskv.NewStore(s.KVStore, s.t.meter, s.t.full)
}
