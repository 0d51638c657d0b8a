package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// A worker that lets max_consecutive_expiries assignments in a row expire is
// marked unresponsive — x/shard is told it is not eligible, whatever its
// score — and stays so through later outcomes until it resumes; any other
// outcome between expiries breaks the run.
func TestConsecutiveExpiriesMarkTheWorkerUnresponsive(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	f.setParams(t, func(p *types.Params) {
		p.MaxConsecutiveExpiries = 3
		p.MinWorkerScorePpm = 0 // the score pause stays out of the way
	})
	w := testAddr("sleepy")
	ctx := f.at(10)

	// two expiries, a completion, two expiries: never three in a row
	f.record(t, ctx, w, outcome.WorkerExpired, outcome.WorkerExpired, outcome.WorkerCompleted, outcome.WorkerExpired, outcome.WorkerExpired)
	p, _ := f.worker(t, ctx, w)
	require.False(t, p.Unresponsive)
	require.Equal(t, uint32(2), p.ConsecutiveExpiries)
	require.True(t, f.standing.last().eligible)
	require.Empty(t, eventsOf[*types.EventWorkerUnresponsive](t, ctx))

	ctx = f.at(11)
	f.record(t, ctx, w, outcome.WorkerExpired)
	p, _ = f.worker(t, ctx, w)
	require.True(t, p.Unresponsive, "the third expiry in a row")
	require.False(t, p.Paused, "not a score pause")
	require.Equal(t, standing{worker: w, score: p.Score, eligible: false}, f.standing.last())
	ev := eventsOf[*types.EventWorkerUnresponsive](t, ctx)
	require.Len(t, ev, 1)
	require.Equal(t, uint32(3), ev[0].ConsecutiveExpiries)

	// a late completion of an earlier assignment ends the run but not the mark
	ctx = f.at(12)
	f.record(t, ctx, w, outcome.WorkerCompleted)
	p, _ = f.worker(t, ctx, w)
	require.True(t, p.Unresponsive)
	require.Zero(t, p.ConsecutiveExpiries)
	require.False(t, f.standing.last().eligible)
	require.Empty(t, eventsOf[*types.EventWorkerUnresponsive](t, ctx), "marked once")

	ctx = f.at(13)
	require.NoError(t, f.keeper.ResumeUnresponsiveWorker(ctx, w))
	p, _ = f.worker(t, ctx, w)
	require.False(t, p.Unresponsive)
	require.Equal(t, standing{worker: w, score: p.Score, eligible: true}, f.standing.last())
	resp := eventsOf[*types.EventWorkerResponsive](t, ctx)
	require.Len(t, resp, 1)
	require.False(t, resp[0].Paused)
}

// Resuming a worker that is not marked unresponsive — or has no profile —
// is refused with ErrWorkerNotUnresponsive and writes nothing.
func TestResumeOfAResponsiveWorkerIsRefused(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	ctx := f.at(5)
	w := testAddr("fine")
	before := f.dump()
	require.ErrorIs(t, f.keeper.ResumeUnresponsiveWorker(ctx, w), types.ErrWorkerNotUnresponsive)
	require.Equal(t, before, f.dump())

	f.record(t, ctx, w, outcome.WorkerExpired)
	before = f.dump()
	calls := len(f.standing.calls)
	require.ErrorIs(t, f.keeper.ResumeUnresponsiveWorker(ctx, w), types.ErrWorkerNotUnresponsive)
	require.Equal(t, before, f.dump())
	require.Len(t, f.standing.calls, calls, "x/shard is told nothing")
}

// A worker paused by its score and marked unresponsive stays paused after it
// resumes: the response says so, and x/shard keeps it out of assignment.
func TestResumeKeepsAScorePause(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	f.setParams(t, func(p *types.Params) { p.MaxConsecutiveExpiries = 2 })
	w := testAddr("bad")
	ctx := f.at(20)
	n := f.pauseByExpiries(t, ctx, w)
	require.Greater(t, n, 2)
	p, _ := f.worker(t, ctx, w)
	require.True(t, p.Unresponsive)
	require.True(t, p.Paused)
	require.NoError(t, f.keeper.ResumeUnresponsiveWorker(ctx, w))
	p, _ = f.worker(t, ctx, w)
	require.False(t, p.Unresponsive)
	require.True(t, p.Paused)
	require.False(t, f.standing.last().eligible)
	require.False(t, keeper.Eligible(p))
}

// Version 2 adds max_consecutive_expiries and max_item_failures: the
// migration sets their defaults on a chain whose stored params lack them, and
// leaves the other params alone.
func TestMigrate1to2SetsTheNewParams(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	old := f.params(t)
	old.MaxConsecutiveExpiries = 0
	old.MaxItemFailures = 0
	old.WorkerPauseBlocks = 777
	require.NoError(t, f.keeper.Params.Set(f.ctx, old))
	require.NoError(t, keeper.NewMigrator(f.keeper).Migrate1to2(f.ctx))
	got := f.params(t)
	require.Equal(t, types.DefaultParams().MaxConsecutiveExpiries, got.MaxConsecutiveExpiries)
	require.Equal(t, types.DefaultParams().MaxItemFailures, got.MaxItemFailures)
	require.Equal(t, uint64(777), got.WorkerPauseBlocks)
	require.NoError(t, got.Validate())
}
