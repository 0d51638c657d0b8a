package keeper_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/x/deferral/keeper"
)

func newEndBlockFixture(t *testing.T) (sdk.Context, keeper.Keeper) {
	t.Helper()
	f := newFixture(t).withDefaults(t)
	return f.ctx, f.keeper
}

func failedItemEvents(ctx sdk.Context) []sdk.Event {
	var out []sdk.Event
	for _, e := range ctx.EventManager().Events() {
		if e.Type == "repshard.deferral.v1.EventEndBlockItemFailed" {
			out = append(out, e)
		}
	}
	return out
}

// An item that writes state and then fails must leave no trace but the
// failure event; the next item still runs and commits.
func TestRunIsolatedRollsBackAFailingItemAlone(t *testing.T) {
	ctx, k := newEndBlockFixture(t)
	before, err := k.Params.Get(ctx)
	require.NoError(t, err)

	ok := k.RunIsolated(ctx, keeper.StepDrainQueues, "request/7", func(c sdk.Context) error {
		p := before
		p.MaxAttempts = 99
		require.NoError(t, k.Params.Set(c, p))
		c.EventManager().EmitEvent(sdk.NewEvent("should_be_discarded"))
		return errors.New("worker vanished")
	})
	require.False(t, ok)
	after, err := k.Params.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "a failed item's writes must be rolled back")

	failed := failedItemEvents(ctx)
	require.Len(t, failed, 1)
	attrs := map[string]string{}
	for _, a := range failed[0].Attributes {
		attrs[a.Key] = a.Value
	}
	require.Equal(t, `"drain_queues"`, attrs["step"])
	require.Equal(t, `"request/7"`, attrs["item"])
	require.Equal(t, `"worker vanished"`, attrs["error"])
	for _, e := range ctx.EventManager().Events() {
		require.NotEqual(t, "should_be_discarded", e.Type, "a failed item's events must be discarded")
	}

	ok = k.RunIsolated(ctx, keeper.StepDrainQueues, "request/8", func(c sdk.Context) error {
		p := before
		p.MaxAttempts = 5
		c.EventManager().EmitEvent(sdk.NewEvent("kept"))
		return k.Params.Set(c, p)
	})
	require.True(t, ok)
	after, err = k.Params.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, uint32(5), after.MaxAttempts, "a successful item's writes must be committed")
	require.Equal(t, "kept", ctx.EventManager().Events()[len(ctx.EventManager().Events())-1].Type)
}

// A panicking item must not halt the chain: it is recovered, rolled back and reported.
func TestRunIsolatedRecoversAPanic(t *testing.T) {
	ctx, k := newEndBlockFixture(t)
	before, err := k.Params.Get(ctx)
	require.NoError(t, err)
	require.NotPanics(t, func() {
		ok := k.RunIsolated(ctx, keeper.StepPruneFinished, "request/1", func(c sdk.Context) error {
			p := before
			p.RetentionBlocks = 1
			require.NoError(t, k.Params.Set(c, p))
			panic("index corrupted")
		})
		require.False(t, ok)
	})
	after, err := k.Params.Get(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Len(t, failedItemEvents(ctx), 1)
}

// Without params no step can run: EndBlock reports it
// (EventEndBlockStepFailed) and skips the steps, but returns no error, which
// would halt the chain.
func TestEndBlockerWithoutParamsReportsAndGoesOn(t *testing.T) {
	ctx, k := newEndBlockFixture(t)
	require.NoError(t, k.Params.Remove(ctx))
	ctx = ctx.WithEventManager(sdk.NewEventManager())
	require.NoError(t, k.EndBlocker(ctx))
	evs := ctx.EventManager().Events()
	require.Len(t, evs, 1)
	require.Equal(t, "repshard.quarantine.v1.EventEndBlockStepFailed", evs[0].Type)
	step, ok := evs[0].GetAttribute("step")
	require.True(t, ok)
	require.Equal(t, `"params"`, step.Value)
}

// The drain's item group tells its hooks of every rollback (the drain
// session is then reset) — an item failing in its group, then alone — and
// of every commit; the outcome of each item is RunIsolated's.
func TestItemGroupHooks(t *testing.T) {
	ctx, k := newEndBlockFixture(t)
	ok := func(sdk.Context) error { return nil }
	fns := []func(sdk.Context) error{
		ok, ok,
		func(sdk.Context) error { return errors.New("boom") },
		ok,
		func(sdk.Context) error { panic("kaput") },
		ok,
	}
	discarded, commits := 0, 0
	got := k.RunItemGroupForTest(ctx, 4, fns, isolate.GroupHooks{
		BeforeCommit: func(sdk.Context) error { commits++; return nil },
		Discarded:    func(sdk.Context) { discarded++ },
	})
	require.Equal(t, []bool{true, true, false, true, false, true}, got)
	// Each failing item is rolled back twice: with its group, then alone.
	require.Equal(t, 4, discarded)
	// Items 0, 1 and 3 run again alone (a commit each); item 5's group.
	require.Equal(t, 4, commits)
	require.Len(t, failedItemEvents(ctx), 2)
}
