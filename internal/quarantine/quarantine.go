// Package quarantine takes EndBlock work items that keep failing out of their
// step's way.
//
// Every per-block step of the repshard modules runs its items through
// internal/isolate: an item that fails is rolled back alone and reported,
// and the step goes on. Without more, an item that fails in every block
// keeps its place at the head of its index and is retried and reported
// forever, and enough of them fill the step's per-block cap. This package
// counts each item's consecutive failures (a small map keyed by step and
// item, written only on a failure and deleted on the next success); after
// max_item_failures (a param of each module) the item is quarantined: its
// record moves to the module's quarantine index, with the step, the item,
// the entry it had in the step's index, the last error, the failure count
// and the heights, and the module removes it from the step. Governance then
// retries it (it goes back into its step with its count reset) or drops it
// (the module releases what it holds). See docs/architecture.md ("A block").
//
// Step-level errors (a step that cannot read its own state) are reported
// with EventEndBlockStepFailed and the step is skipped for the block
// (ReportStepFailure); only an error of the quarantine's own bookkeeping,
// which means the store itself is broken, is wrapped in ErrBrokenStore and
// returned from EndBlock.
package quarantine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/internal/nodemetrics"
	"github.com/repshard/repshard/internal/quarantine/types"
)

// MaxErrorBytes bounds the error text kept with a quarantined item.
const MaxErrorBytes = 512

// MaxItemFailuresLimit bounds every module's max_item_failures.
const MaxItemFailuresLimit = 1_000

// DefaultMaxItemFailures is every module's default max_item_failures.
const DefaultMaxItemFailures = 5

// ErrBrokenStore marks an error of the quarantine's own writes: the store
// itself is broken, the one case an EndBlock returns an error for.
var ErrBrokenStore = errors.New("quarantine bookkeeping failed: the store is broken")

// ValidateMaxItemFailures checks a module's max_item_failures param.
func ValidateMaxItemFailures(v uint32) error {
	if v == 0 || v > MaxItemFailuresLimit {
		return fmt.Errorf("max_item_failures must be 1..%d, got %d", MaxItemFailuresLimit, v)
	}
	return nil
}

// Key is (step, item), the key of both collections.
type Key = collections.Pair[string, string]

// Store is one module's quarantine: the failure counters of items that are
// failing and the quarantine index.
type Store struct {
	module string
	// Failures counts the consecutive failures of items not quarantined.
	Failures collections.Map[Key, types.ItemFailures]
	// Items is the quarantine index.
	Items collections.Map[Key, types.QuarantinedItem]
}

// NewStore declares the two collections of a module's quarantine on sb.
func NewStore(sb *collections.SchemaBuilder, failuresPrefix, itemsPrefix collections.Prefix, cdc codec.BinaryCodec, module string) Store {
	kc := collections.PairKeyCodec(collections.StringKey, collections.StringKey)
	return Store{
		module:   module,
		Failures: collections.NewMap(sb, failuresPrefix, "item_failures", kc, codec.CollValue[types.ItemFailures](cdc)),
		Items:    collections.NewMap(sb, itemsPrefix, "quarantined_items", kc, codec.CollValue[types.QuarantinedItem](cdc)),
	}
}

// Module is the module the store belongs to.
func (s Store) Module() string { return s.module }

// Tracker follows the items of one step in one block: Succeed wraps each
// item, Fail counts an item that failed and quarantines it at the limit.
type Tracker struct {
	store Store
	step  string
	max   uint32
	// pending says the step had failure counters when the block began: only
	// then can a success have a counter to clear. One seek per step per
	// block, so a step without failures pays nothing per item.
	pending bool
}

// Track starts following step in this block, quarantining an item at its
// maxFailures-th consecutive failure (at least 1).
func (s Store) Track(ctx context.Context, step string, maxFailures uint32) (*Tracker, error) {
	it, err := s.Failures.Iterate(ctx, collections.NewPrefixedPairRange[string, string](step))
	if err != nil {
		return nil, err
	}
	pending := it.Valid()
	if err := it.Close(); err != nil {
		return nil, err
	}
	return &Tracker{store: s, step: step, max: max(maxFailures, 1), pending: pending}, nil
}

// Step is the step the tracker follows.
func (t *Tracker) Step() string { return t.step }

// Succeed returns fn followed, when fn succeeds, by clearing item's failure
// counter in fn's own context, so the clear commits (or is rolled back)
// with the item's writes.
func (t *Tracker) Succeed(item string, fn func(ctx sdk.Context) error) func(ctx sdk.Context) error {
	if !t.pending {
		return fn
	}
	return func(ctx sdk.Context) error {
		if err := fn(ctx); err != nil {
			return err
		}
		return t.store.clear(ctx, t.step, item)
	}
}

// Clear deletes item's failure counter (an item the step found stale and
// dropped from its index, or one that no longer fails).
func (t *Tracker) Clear(ctx context.Context, item string) error {
	if !t.pending {
		return nil
	}
	return t.store.clear(ctx, t.step, item)
}

func (s Store) clear(ctx context.Context, step, item string) error {
	key := collections.Join(step, item)
	has, err := s.Failures.Has(ctx, key)
	if err != nil || !has {
		return err
	}
	return s.Failures.Remove(ctx, key)
}

// Fail counts one more failure of item with cause. Below the limit the
// counter is written and Fail returns false. At the limit the counter is
// deleted, the item is recorded in the quarantine index (with indexKey, the
// entry it had in the step's index, which the caller removes from there) and
// reported with EventItemQuarantined, and Fail returns true. Its errors wrap
// ErrBrokenStore.
func (t *Tracker) Fail(ctx sdk.Context, item string, indexKey []byte, cause error) (bool, error) {
	key := collections.Join(t.step, item)
	f, err := t.store.Failures.Get(ctx, key)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		f = types.ItemFailures{Step: t.step, Item: item, FirstFailureHeight: ctx.BlockHeight()}
	case err != nil:
		return false, broken(err)
	}
	f.Count++
	if f.Count < t.max {
		if err := t.store.Failures.Set(ctx, key, f); err != nil {
			return false, broken(err)
		}
		return false, nil
	}
	if err := t.store.Failures.Remove(ctx, key); err != nil {
		return false, broken(err)
	}
	q := types.QuarantinedItem{
		Step: t.step, Item: item, IndexKey: indexKey, Error: Truncate(cause.Error()),
		Failures: f.Count, FirstFailureHeight: f.FirstFailureHeight, QuarantinedHeight: ctx.BlockHeight(),
	}
	if err := t.store.Items.Set(ctx, key, q); err != nil {
		return false, broken(err)
	}
	ctx.Logger().Error("end block item quarantined", "module", t.store.module, "step", t.step, "item", item,
		"failures", f.Count, "err", q.Error)
	if err := ctx.EventManager().EmitTypedEvent(&types.EventItemQuarantined{
		Module: t.store.module, Step: t.step, Item: item, Error: q.Error, Failures: f.Count,
	}); err != nil {
		return true, broken(err)
	}
	nodemetrics.ItemQuarantined(t.store.module, t.step)
	return true, nil
}

func broken(err error) error { return fmt.Errorf("%w: %w", ErrBrokenStore, err) }

// IsQuarantined reports whether item of step is in quarantine: for steps
// that pass over quarantined items rather than remove them from an index.
func (s Store) IsQuarantined(ctx context.Context, step, item string) (bool, error) {
	return s.Items.Has(ctx, collections.Join(step, item))
}

// Get returns a quarantined item; collections.ErrNotFound when there is none.
func (s Store) Get(ctx context.Context, step, item string) (types.QuarantinedItem, error) {
	return s.Items.Get(ctx, collections.Join(step, item))
}

// Retried removes q from quarantine once the module has put it back into its
// step, and emits EventQuarantinedItemRetried. Its counter was deleted at
// the quarantine, so the item starts again from zero failures.
func (s Store) Retried(ctx sdk.Context, q types.QuarantinedItem) error {
	if err := s.Items.Remove(ctx, collections.Join(q.Step, q.Item)); err != nil {
		return err
	}
	return ctx.EventManager().EmitTypedEvent(&types.EventQuarantinedItemRetried{Module: s.module, Step: q.Step, Item: q.Item})
}

// Dropped removes q from quarantine once the module has released what it
// held, and emits EventQuarantinedItemDropped with outcome.
func (s Store) Dropped(ctx sdk.Context, q types.QuarantinedItem, outcome string) error {
	if err := s.Items.Remove(ctx, collections.Join(q.Step, q.Item)); err != nil {
		return err
	}
	return ctx.EventManager().EmitTypedEvent(&types.EventQuarantinedItemDropped{
		Module: s.module, Step: q.Step, Item: q.Item, Outcome: outcome,
	})
}

// Page lists the quarantined items in (step, item) order, of one step when
// step is not empty.
func (s Store) Page(ctx context.Context, step string, page *query.PageRequest) ([]types.QuarantinedItem, *query.PageResponse, error) {
	var opts []func(*query.CollectionsPaginateOptions[Key])
	if step != "" {
		opts = append(opts, query.WithCollectionPaginationPairPrefix[string, string](step))
	}
	return query.CollectionPaginate(ctx, s.Items, page,
		func(_ Key, q types.QuarantinedItem) (types.QuarantinedItem, error) { return q, nil }, opts...)
}

// Export returns every quarantined item and every failure counter, in key
// order (genesis export).
func (s Store) Export(ctx context.Context) ([]types.QuarantinedItem, []types.ItemFailures, error) {
	items, err := values(ctx, s.Items)
	if err != nil {
		return nil, nil, err
	}
	failures, err := values(ctx, s.Failures)
	if err != nil {
		return nil, nil, err
	}
	return items, failures, nil
}

func values[V any](ctx context.Context, m collections.Map[Key, V]) ([]V, error) {
	it, err := m.Iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	return it.Values()
}

// Import writes quarantined items and failure counters (genesis import).
func (s Store) Import(ctx context.Context, items []types.QuarantinedItem, failures []types.ItemFailures) error {
	for _, q := range items {
		if err := s.Items.Set(ctx, collections.Join(q.Step, q.Item), q); err != nil {
			return err
		}
	}
	for _, f := range failures {
		if err := s.Failures.Set(ctx, collections.Join(f.Step, f.Item), f); err != nil {
			return err
		}
	}
	return nil
}

// ValidateGenesis checks quarantined items and failure counters of a
// module's genesis: known steps, named items, no duplicates, counts from 1,
// bounded error texts.
func ValidateGenesis(steps []string, items []types.QuarantinedItem, failures []types.ItemFailures) error {
	known := func(step string) bool {
		for _, s := range steps {
			if s == step {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	check := func(kind, step, item string, count uint32) error {
		if !known(step) {
			return fmt.Errorf("%s %q/%q: unknown step (the steps are %s)", kind, step, item, strings.Join(steps, ", "))
		}
		if item == "" {
			return fmt.Errorf("%s of step %q: empty item", kind, step)
		}
		if count == 0 {
			return fmt.Errorf("%s %q/%q: zero failures", kind, step, item)
		}
		k := kind + "\x00" + step + "\x00" + item
		if seen[k] {
			return fmt.Errorf("%s %q/%q: listed twice", kind, step, item)
		}
		seen[k] = true
		return nil
	}
	for _, q := range items {
		if err := check("quarantined item", q.Step, q.Item, q.Failures); err != nil {
			return err
		}
		if len(q.Error) > MaxErrorBytes {
			return fmt.Errorf("quarantined item %q/%q: error longer than %d bytes", q.Step, q.Item, MaxErrorBytes)
		}
	}
	for _, f := range failures {
		if err := check("item failures", f.Step, f.Item, f.Count); err != nil {
			return err
		}
		if seen["quarantined item\x00"+f.Step+"\x00"+f.Item] {
			return fmt.Errorf("item %q/%q: both quarantined and counting failures", f.Step, f.Item)
		}
	}
	return nil
}

// Truncate bounds an error text to MaxErrorBytes, on a rune boundary.
func Truncate(s string) string {
	if len(s) <= MaxErrorBytes {
		return s
	}
	cut := MaxErrorBytes
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// ReportStepFailure reports a step that could not run in this block: the
// error is logged and emitted as EventEndBlockStepFailed, and the caller
// skips the step for the block.
func ReportStepFailure(ctx sdk.Context, module, step string, err error) {
	ctx.Logger().Error("end block step failed; skipped for this block", "module", module, "step", step, "err", err)
	if emitErr := ctx.EventManager().EmitTypedEvent(&types.EventEndBlockStepFailed{
		Module: module, Step: step, Error: Truncate(err.Error()),
	}); emitErr != nil {
		ctx.Logger().Error("emit end block step failure", "module", module, "step", step, "err", emitErr)
	}
}

// EncodeKey encodes key with kc, as Fail stores it in QuarantinedItem.index_key.
func EncodeKey[K any](kc collcodec.KeyCodec[K], key K) ([]byte, error) {
	buf := make([]byte, kc.Size(key))
	n, err := kc.Encode(buf, key)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// DecodeKey decodes an index key stored by EncodeKey; it must use all of b.
func DecodeKey[K any](kc collcodec.KeyCodec[K], b []byte) (K, error) {
	n, key, err := kc.Decode(b)
	if err != nil {
		return key, err
	}
	if n != len(b) {
		var zero K
		return zero, fmt.Errorf("index key of %d bytes has %d trailing bytes", len(b), len(b)-n)
	}
	return key, nil
}
