package quarantine_test

import (
	"errors"
	"strings"
	"testing"

	"cosmossdk.io/collections"
	storetypes "cosmossdk.io/store/types"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/internal/quarantine/types"
)

var storeKey = storetypes.NewKVStoreKey("quarantine_test")

// newStore returns a quarantine store of module "m" and a context at height 10.
func newStore(t *testing.T) (quarantine.Store, sdk.Context) {
	t.Helper()
	ctx := testutil.DefaultContextWithDB(t, storeKey, storetypes.NewTransientStoreKey("quarantine_test_t")).Ctx.
		WithEventManager(sdk.NewEventManager()).WithBlockHeight(10)
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(storeKey))
	s := quarantine.NewStore(sb, collections.NewPrefix(64), collections.NewPrefix(65),
		codec.NewProtoCodec(codectypes.NewInterfaceRegistry()), "m")
	_, err := sb.Build()
	require.NoError(t, err)
	return s, ctx
}

func typed[T any](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	for _, e := range ctx.EventManager().ABCIEvents() {
		msg, err := sdk.ParseTypedEvent(e)
		require.NoError(t, err)
		if v, ok := msg.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// An item is quarantined at its max_item_failures-th failure in a row, with
// the entry it had in its step's index, the last error, the count and the
// heights; until then only its counter is written, and at the quarantine the
// counter goes.
func TestFailQuarantinesAtTheLimit(t *testing.T) {
	s, ctx := newStore(t)
	tr, err := s.Track(ctx, "drain", 3)
	require.NoError(t, err)
	for i, h := range []int64{10, 11} {
		q, err := tr.Fail(ctx.WithBlockHeight(h), "request/7", []byte{1, 2}, errors.New("boom"))
		require.NoError(t, err)
		require.False(t, q, "failure %d", i+1)
		f, err := s.Failures.Get(ctx, collections.Join("drain", "request/7"))
		require.NoError(t, err)
		require.Equal(t, types.ItemFailures{Step: "drain", Item: "request/7", Count: uint32(i + 1), FirstFailureHeight: 10}, f)
		has, err := s.IsQuarantined(ctx, "drain", "request/7")
		require.NoError(t, err)
		require.False(t, has)
	}
	require.Empty(t, typed[*types.EventItemQuarantined](t, ctx))

	q, err := tr.Fail(ctx.WithBlockHeight(12), "request/7", []byte{1, 2}, errors.New("boom at last"))
	require.NoError(t, err)
	require.True(t, q)
	has, err := s.Failures.Has(ctx, collections.Join("drain", "request/7"))
	require.NoError(t, err)
	require.False(t, has, "the counter goes at the quarantine")
	item, err := s.Get(ctx, "drain", "request/7")
	require.NoError(t, err)
	require.Equal(t, types.QuarantinedItem{
		Step: "drain", Item: "request/7", IndexKey: []byte{1, 2}, Error: "boom at last",
		Failures: 3, FirstFailureHeight: 10, QuarantinedHeight: 12,
	}, item)
	evs := typed[*types.EventItemQuarantined](t, ctx)
	require.Len(t, evs, 1)
	require.Equal(t, types.EventItemQuarantined{Module: "m", Step: "drain", Item: "request/7", Error: "boom at last", Failures: 3}, *evs[0])

	// Another item and another step count on their own.
	q, err = tr.Fail(ctx, "request/8", nil, errors.New("x"))
	require.NoError(t, err)
	require.False(t, q)
	other, err := s.Track(ctx, "prune", 1)
	require.NoError(t, err)
	q, err = other.Fail(ctx, "request/7", nil, errors.New("x"))
	require.NoError(t, err)
	require.True(t, q, "max 1: the first failure quarantines")
}

// A success clears the item's counter, in the item's own context: written
// when the item commits, not when it fails.
func TestSucceedClearsTheCounterWithTheItem(t *testing.T) {
	s, ctx := newStore(t)
	tr, err := s.Track(ctx, "drain", 5)
	require.NoError(t, err)
	_, err = tr.Fail(ctx, "request/1", nil, errors.New("x"))
	require.NoError(t, err)
	_, err = tr.Fail(ctx, "request/2", nil, errors.New("x"))
	require.NoError(t, err)

	tr, err = s.Track(ctx, "drain", 5) // the next block: the step has counters
	require.NoError(t, err)
	key1, key2 := collections.Join("drain", "request/1"), collections.Join("drain", "request/2")

	failing := tr.Succeed("request/1", func(sdk.Context) error { return errors.New("again") })
	require.Error(t, failing(ctx))
	has, err := s.Failures.Has(ctx, key1)
	require.NoError(t, err)
	require.True(t, has, "a failure clears nothing")

	cc, write := ctx.CacheContext()
	require.NoError(t, tr.Succeed("request/2", func(sdk.Context) error { return nil })(cc))
	has, err = s.Failures.Has(ctx, key2)
	require.NoError(t, err)
	require.True(t, has, "not before the item's writes are committed")
	write()
	has, err = s.Failures.Has(ctx, key2)
	require.NoError(t, err)
	require.False(t, has, "cleared with the item")

	require.NoError(t, tr.Clear(ctx, "request/1"))
	has, err = s.Failures.Has(ctx, key1)
	require.NoError(t, err)
	require.False(t, has)

	// A step without counters: Succeed and Clear write nothing at all.
	clean, err := s.Track(ctx, "prune", 5)
	require.NoError(t, err)
	before := storeDump(ctx)
	require.NoError(t, clean.Succeed("request/3", func(sdk.Context) error { return nil })(ctx))
	require.NoError(t, clean.Clear(ctx, "request/3"))
	require.Equal(t, before, storeDump(ctx))
}

func storeDump(ctx sdk.Context) [][2]string {
	it := ctx.KVStore(storeKey).Iterator(nil, nil)
	defer it.Close()
	var out [][2]string
	for ; it.Valid(); it.Next() {
		out = append(out, [2]string{string(it.Key()), string(it.Value())})
	}
	return out
}

// Retried and Dropped take the item out of quarantine and report it.
func TestRetriedAndDropped(t *testing.T) {
	s, ctx := newStore(t)
	tr, err := s.Track(ctx, "drain", 1)
	require.NoError(t, err)
	for _, item := range []string{"request/1", "request/2"} {
		q, err := tr.Fail(ctx, item, nil, errors.New("x"))
		require.NoError(t, err)
		require.True(t, q)
	}
	q1, err := s.Get(ctx, "drain", "request/1")
	require.NoError(t, err)
	require.NoError(t, s.Retried(ctx, q1))
	q2, err := s.Get(ctx, "drain", "request/2")
	require.NoError(t, err)
	require.NoError(t, s.Dropped(ctx, q2, "refunded"))
	for _, item := range []string{"request/1", "request/2"} {
		_, err := s.Get(ctx, "drain", item)
		require.ErrorIs(t, err, collections.ErrNotFound)
	}
	require.Equal(t, []*types.EventQuarantinedItemRetried{{Module: "m", Step: "drain", Item: "request/1"}},
		typed[*types.EventQuarantinedItemRetried](t, ctx))
	require.Equal(t, []*types.EventQuarantinedItemDropped{{Module: "m", Step: "drain", Item: "request/2", Outcome: "refunded"}},
		typed[*types.EventQuarantinedItemDropped](t, ctx))
}

// Page lists every quarantined item, or one step's, page by page; Export and
// Import carry items and counters.
func TestPageExportImport(t *testing.T) {
	s, ctx := newStore(t)
	for _, step := range []string{"a", "b"} {
		tr, err := s.Track(ctx, step, 1)
		require.NoError(t, err)
		for _, item := range []string{"x/1", "x/2", "x/3"} {
			_, err := tr.Fail(ctx, item, nil, errors.New("e"))
			require.NoError(t, err)
		}
	}
	counting, err := s.Track(ctx, "c", 9)
	require.NoError(t, err)
	_, err = counting.Fail(ctx, "x/9", nil, errors.New("e"))
	require.NoError(t, err)

	all, page, err := s.Page(ctx, "", &query.PageRequest{Limit: 4})
	require.NoError(t, err)
	require.Len(t, all, 4)
	require.NotEmpty(t, page.NextKey)
	rest, _, err := s.Page(ctx, "", &query.PageRequest{Key: page.NextKey, Limit: 4})
	require.NoError(t, err)
	require.Len(t, rest, 2)
	require.Equal(t, "a", all[0].Step)
	require.Equal(t, "b", rest[1].Step)

	onlyB, _, err := s.Page(ctx, "b", nil)
	require.NoError(t, err)
	require.Len(t, onlyB, 3)
	for _, q := range onlyB {
		require.Equal(t, "b", q.Step)
	}

	items, failures, err := s.Export(ctx)
	require.NoError(t, err)
	require.Len(t, items, 6)
	require.Equal(t, []types.ItemFailures{{Step: "c", Item: "x/9", Count: 1, FirstFailureHeight: 10}}, failures)
	s2, ctx2 := newStore(t)
	require.NoError(t, s2.Import(ctx2, items, failures))
	items2, failures2, err := s2.Export(ctx2)
	require.NoError(t, err)
	require.Equal(t, items, items2)
	require.Equal(t, failures, failures2)
}

func TestValidateGenesis(t *testing.T) {
	steps := []string{"drain", "prune"}
	ok := []types.QuarantinedItem{{Step: "drain", Item: "request/1", Failures: 5}}
	okF := []types.ItemFailures{{Step: "prune", Item: "request/1", Count: 2}}
	require.NoError(t, quarantine.ValidateGenesis(steps, ok, okF))
	for name, c := range map[string]struct {
		items    []types.QuarantinedItem
		failures []types.ItemFailures
		want     string
	}{
		"unknown step":        {[]types.QuarantinedItem{{Step: "nope", Item: "i", Failures: 1}}, nil, "unknown step"},
		"empty item":          {[]types.QuarantinedItem{{Step: "drain", Failures: 1}}, nil, "empty item"},
		"zero failures":       {nil, []types.ItemFailures{{Step: "drain", Item: "i"}}, "zero failures"},
		"twice":               {append(ok, ok[0]), nil, "listed twice"},
		"long error":          {[]types.QuarantinedItem{{Step: "drain", Item: "i", Failures: 1, Error: strings.Repeat("e", quarantine.MaxErrorBytes+1)}}, nil, "longer than"},
		"quarantined counter": {ok, []types.ItemFailures{{Step: "drain", Item: "request/1", Count: 1}}, "both quarantined and counting"},
	} {
		err := quarantine.ValidateGenesis(steps, c.items, c.failures)
		require.ErrorContains(t, err, c.want, name)
	}
}

func TestValidateMaxItemFailures(t *testing.T) {
	require.ErrorContains(t, quarantine.ValidateMaxItemFailures(0), "max_item_failures")
	require.ErrorContains(t, quarantine.ValidateMaxItemFailures(quarantine.MaxItemFailuresLimit+1), "max_item_failures")
	require.NoError(t, quarantine.ValidateMaxItemFailures(1))
	require.NoError(t, quarantine.ValidateMaxItemFailures(quarantine.MaxItemFailuresLimit))
	require.NoError(t, quarantine.ValidateMaxItemFailures(quarantine.DefaultMaxItemFailures))
}

func TestTruncate(t *testing.T) {
	require.Equal(t, "short", quarantine.Truncate("short"))
	long := strings.Repeat("é", quarantine.MaxErrorBytes) // 2 bytes each
	got := quarantine.Truncate(long)
	require.LessOrEqual(t, len(got), quarantine.MaxErrorBytes)
	require.Equal(t, strings.Repeat("é", quarantine.MaxErrorBytes/2), got, "cut on a rune boundary")
}

func TestEncodeDecodeKey(t *testing.T) {
	kc := collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)
	raw, err := quarantine.EncodeKey(kc, collections.Join(uint64(7), uint64(42)))
	require.NoError(t, err)
	key, err := quarantine.DecodeKey(kc, raw)
	require.NoError(t, err)
	require.Equal(t, uint64(7), key.K1())
	require.Equal(t, uint64(42), key.K2())
	_, err = quarantine.DecodeKey(kc, append(raw, 0))
	require.ErrorContains(t, err, "trailing")
	_, err = quarantine.DecodeKey(kc, raw[:3])
	require.Error(t, err)
}

// A step failure is reported with EventEndBlockStepFailed.
func TestReportStepFailure(t *testing.T) {
	_, ctx := newStore(t)
	quarantine.ReportStepFailure(ctx, "m", "drain", errors.New("cannot read"))
	require.Equal(t, []*types.EventEndBlockStepFailed{{Module: "m", Step: "drain", Error: "cannot read"}},
		typed[*types.EventEndBlockStepFailed](t, ctx))
}
