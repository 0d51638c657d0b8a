package isolate_test

import (
	"errors"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	storetypes "cosmossdk.io/store/types"

	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/isolate"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

var (
	storeKey = storetypes.NewKVStoreKey("isolate")
	key      = []byte("k")
)

func newCtx(t *testing.T) sdk.Context {
	return testutil.DefaultContextWithDB(t, storeKey, storetypes.NewTransientStoreKey("isolate_t")).Ctx.
		WithEventManager(sdk.NewEventManager())
}

// writeThen writes key and emits an event, then ends with end.
func writeThen(end func() error) func(sdk.Context) error {
	return func(c sdk.Context) error {
		c.KVStore(storeKey).Set(key, []byte("v"))
		if err := c.EventManager().EmitTypedEvent(&deferraltypes.EventEndBlockItemFailed{Step: "inner"}); err != nil {
			return err
		}
		return end()
	}
}

func report(err error) proto.Message {
	return &deferraltypes.EventEndBlockItemFailed{Step: "report", Error: err.Error()}
}

func TestRunCommitsWritesAndEventsOnSuccess(t *testing.T) {
	ctx := newCtx(t)
	err := isolate.Run(ctx, "item", writeThen(func() error { return nil }), report)
	require.NoError(t, err)
	require.Equal(t, []byte("v"), ctx.KVStore(storeKey).Get(key))
	evs := ctx.EventManager().Events()
	require.Len(t, evs, 1, "the item's own event is committed, no failure event")
	require.Equal(t, "repshard.deferral.v1.EventEndBlockItemFailed", evs[0].Type)
	attr, ok := evs[0].GetAttribute("step")
	require.True(t, ok)
	require.Equal(t, `"inner"`, attr.Value)
}

func TestRunDiscardsWritesAndReportsOnError(t *testing.T) {
	ctx := newCtx(t)
	boom := errors.New("boom")
	err := isolate.Run(ctx, "item", writeThen(func() error { return boom }), report)
	require.ErrorIs(t, err, boom)
	require.Nil(t, ctx.KVStore(storeKey).Get(key), "the failed item's write is rolled back")
	requireOnlyReport(t, ctx, "boom")
}

func TestRunRecoversPanicAndReports(t *testing.T) {
	ctx := newCtx(t)
	err := isolate.Run(ctx, "item", writeThen(func() error { panic("kaput") }), report)
	require.ErrorContains(t, err, "panic: kaput")
	require.Nil(t, ctx.KVStore(storeKey).Get(key), "the panicking item's write is rolled back")
	requireOnlyReport(t, ctx, "panic: kaput")
}

func TestRunWithoutReportEmitsNothing(t *testing.T) {
	ctx := newCtx(t)
	err := isolate.Run(ctx, "item", writeThen(func() error { return errors.New("x") }), nil)
	require.Error(t, err)
	require.Empty(t, ctx.EventManager().Events())
	require.Nil(t, ctx.KVStore(storeKey).Get(key))
}

// requireOnlyReport checks that the only event on ctx is the report of a
// failure whose error is msg (the item's own event was discarded).
func requireOnlyReport(t *testing.T, ctx sdk.Context, msg string) {
	t.Helper()
	evs := ctx.EventManager().Events()
	require.Len(t, evs, 1)
	step, ok := evs[0].GetAttribute("step")
	require.True(t, ok)
	require.Equal(t, `"report"`, step.Value)
	errAttr, ok := evs[0].GetAttribute("error")
	require.True(t, ok)
	require.Equal(t, `"`+msg+`"`, errAttr.Value)
}

// Running out of gas is not an item failure: it panics on, so the
// transaction that ran the item fails as the gas meter intends.
func TestRunLetsOutOfGasPanicThrough(t *testing.T) {
	ctx := newCtx(t).WithGasMeter(storetypes.NewGasMeter(10))
	require.PanicsWithValue(t, storetypes.ErrorOutOfGas{Descriptor: "test"}, func() {
		_ = isolate.Run(ctx, "item", func(c sdk.Context) error {
			c.GasMeter().ConsumeGas(11, "test")
			return nil
		}, report)
	})
	require.Empty(t, ctx.EventManager().Events(), "no failure is reported")
}

// item is a Group item that writes its key, emits an event named after it,
// and fails (an error or, for "panic", a panic) when fail says so.
func item(name string, fail bool) func(sdk.Context) error {
	return func(c sdk.Context) error {
		c.KVStore(storeKey).Set([]byte(name), []byte("v"))
		if err := c.EventManager().EmitTypedEvent(&deferraltypes.EventEndBlockItemFailed{Step: "inner", Item: name}); err != nil {
			return err
		}
		if fail && name == "panic" {
			panic("kaput")
		}
		if fail {
			return errors.New("boom " + name)
		}
		return nil
	}
}

// groupItems are the items of TestGroupMatchesRunPerItem.
var groupItems = []string{"a", "b", "c", "panic", "e", "f", "g"}

// The outcome of a Group is the outcome of Run for every item, for any
// group size and any set of failing items: the same results, writes and
// events in the same order.
func TestGroupMatchesRunPerItem(t *testing.T) {
	failSets := [][]bool{
		{false, false, false, false, false, false, false},
		{true, false, false, false, false, false, false},
		{false, false, true, true, false, false, true},
		{false, true, false, false, false, true, false},
		{true, true, true, true, true, true, true},
	}
	for _, fails := range failSets {
		for _, size := range []int{0, 1, 2, 3, 100} {
			want, wantErrs := newCtx(t), []string{}
			for i, name := range groupItems {
				if err := isolate.Run(want, name, item(name, fails[i]), report); err != nil {
					wantErrs = append(wantErrs, err.Error())
				}
			}
			got, gotErrs := newCtx(t), []string{}
			g := isolate.NewGroup(got, size, isolate.GroupHooks{})
			for i, name := range groupItems {
				if err := g.Run(name, item(name, fails[i]), report); err != nil {
					gotErrs = append(gotErrs, err.Error())
				}
			}
			g.Flush()
			require.Equal(t, wantErrs, gotErrs, "fails %v, size %d", fails, size)
			require.Equal(t, want.EventManager().Events(), got.EventManager().Events(), "fails %v, size %d", fails, size)
			for i, name := range groupItems {
				require.Equal(t, want.KVStore(storeKey).Get([]byte(name)), got.KVStore(storeKey).Get([]byte(name)), "fails %v, size %d, item %d", fails, size, i)
			}
		}
	}
}

// A Group commits every size items and at Flush, not before.
func TestGroupCommitsEverySizeItems(t *testing.T) {
	ctx := newCtx(t)
	g := isolate.NewGroup(ctx, 2, isolate.GroupHooks{})
	require.NoError(t, g.Run("a", item("a", false), report))
	require.Nil(t, ctx.KVStore(storeKey).Get([]byte("a")), "not committed before the group is full")
	require.Empty(t, ctx.EventManager().Events())
	require.NoError(t, g.Run("b", item("b", false), report))
	require.NotNil(t, ctx.KVStore(storeKey).Get([]byte("a")), "a full group is committed")
	require.Len(t, ctx.EventManager().Events(), 2)
	require.NoError(t, g.Run("c", item("c", false), report))
	require.Nil(t, ctx.KVStore(storeKey).Get([]byte("c")))
	g.Flush()
	require.NotNil(t, ctx.KVStore(storeKey).Get([]byte("c")), "Flush commits the rest")
	require.Len(t, ctx.EventManager().Events(), 3)
	g.Flush()
	require.Len(t, ctx.EventManager().Events(), 3, "a second Flush commits nothing more")
}

// Running out of gas in a group item panics on, as with Run.
func TestGroupLetsOutOfGasPanicThrough(t *testing.T) {
	ctx := newCtx(t).WithGasMeter(storetypes.NewGasMeter(10))
	g := isolate.NewGroup(ctx, 10, isolate.GroupHooks{})
	require.PanicsWithValue(t, storetypes.ErrorOutOfGas{Descriptor: "test"}, func() {
		_ = g.Run("item", func(c sdk.Context) error {
			c.GasMeter().ConsumeGas(11, "test")
			return nil
		}, report)
	})
}

// counter is state an item keeps beside the store, as a drain session does:
// it counts in memory and writes the count at BeforeCommit; Discarded drops
// what it holds.
type counter struct {
	loaded      bool
	base, added int
}

func (c *counter) hooks() isolate.GroupHooks {
	return isolate.GroupHooks{
		BeforeCommit: func(ctx sdk.Context) error {
			if c.loaded && c.added > 0 {
				c.base += c.added
				c.added = 0
				ctx.KVStore(storeKey).Set(key, []byte{byte(c.base)})
			}
			return nil
		},
		Discarded: func(sdk.Context) { *c = counter{} },
	}
}

// increment adds one to the count, through c when it is not nil, in the
// store otherwise, and then fails when fail says so.
func increment(c *counter, fail bool) func(sdk.Context) error {
	return func(ctx sdk.Context) error {
		if c == nil {
			n := 0
			if v := ctx.KVStore(storeKey).Get(key); v != nil {
				n = int(v[0])
			}
			ctx.KVStore(storeKey).Set(key, []byte{byte(n + 1)})
		} else {
			if !c.loaded {
				if v := ctx.KVStore(storeKey).Get(key); v != nil {
					c.base = int(v[0])
				}
				c.loaded = true
			}
			c.added++
		}
		if fail {
			return errors.New("boom")
		}
		return nil
	}
}

// With hooks, state kept beside the store comes out as if every item had
// written the store itself under Run: committed with its group or its item,
// dropped with the writes rolled back.
func TestGroupHooksKeepStateBesideTheStore(t *testing.T) {
	for _, fails := range [][]bool{
		{false, false, false, false, false, false, false},
		{true, false, false, false, false, false, false},
		{false, false, true, true, false, false, true},
		{false, true, false, false, false, true, false},
		{true, true, true, true, true, true, true},
	} {
		for _, size := range []int{1, 2, 3, 100} {
			want := newCtx(t)
			var wantOK []bool
			for _, fail := range fails {
				wantOK = append(wantOK, isolate.Run(want, "i", increment(nil, fail), report) == nil)
			}
			got := newCtx(t)
			c := &counter{}
			g := isolate.NewGroup(got, size, c.hooks())
			var gotOK []bool
			for _, fail := range fails {
				gotOK = append(gotOK, g.Run("i", increment(c, fail), report) == nil)
			}
			g.Flush()
			require.Equal(t, wantOK, gotOK, "fails %v, size %d", fails, size)
			require.Equal(t, want.KVStore(storeKey).Get(key), got.KVStore(storeKey).Get(key), "fails %v, size %d", fails, size)
			require.Equal(t, want.EventManager().Events(), got.EventManager().Events())
		}
	}
}
