package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/shard/types"
)

// registerStorage registers account i on the high-priority shard (1) with
// the given capacity and storage.
func (ch chain) registerStorage(t *testing.T, i int, capacity, storage uint64) {
	t.Helper()
	resp, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: ch.addr(i).String(), Classes: []types.ShardClass{types.ClassHighPriority},
		CapacityUnits: capacity, StorageBytes: storage, Bond: minBond,
	})
	require.NoError(t, err)
	require.Equal(t, uint64(1), resp.ShardId)
}

func (ch chain) standing(t *testing.T, i int, score uint32, eligible bool) {
	t.Helper()
	require.NoError(t, ch.k.SetWorkerStanding(ch.ctx, ch.addr(i), score, eligible))
}

// find runs FindWorker on shard 1 and returns the index of the account found,
// -1 for none.
func (ch chain) find(t *testing.T, units, dataBytes uint64, excluded ...int) int {
	t.Helper()
	var ex []sdk.AccAddress
	for _, i := range excluded {
		ex = append(ex, ch.addr(i))
	}
	a, ok, err := ch.k.FindWorker(ch.ctx, 1, units, dataBytes, ex)
	require.NoError(t, err)
	if !ok {
		return -1
	}
	for i := range ch.c.Accounts {
		if ch.addr(i).Equals(a) {
			return i
		}
	}
	t.Fatalf("FindWorker returned an unknown address %s", a)
	return -1
}

func (ch chain) maxFree(t *testing.T) uint64 {
	t.Helper()
	m, err := ch.k.MaxFreeCapacity(ch.ctx, 1)
	require.NoError(t, err)
	return m
}

func withWorkers(n uint32) func(gs *types.GenesisState) {
	return func(gs *types.GenesisState) { gs.Params.MaxWorkersPerShard = n }
}

// A worker of a higher score tier is found before a better-fitting worker of
// a lower tier; within a tier the best fit wins; a score change within a
// tier does not change the order; the highest tier that has room is taken
// even when its smallest free capacity is below the units (a new seek in that
// tier, not a scan of it).
func TestFindWorkerPrefersTheHigherTier(t *testing.T) {
	ch := newChain(t, 5, withWorkers(10))
	ch.registerStorage(t, 0, 10, 1<<30)  // best fit for 5
	ch.registerStorage(t, 1, 50, 1<<30)  // worse fit
	ch.registerStorage(t, 2, 3, 1<<30)   // too small for 5
	ch.registerStorage(t, 3, 200, 1<<30) // worst fit
	require.Equal(t, 0, ch.find(t, 5, 0), "all new workers share a tier: best fit")

	ch.standing(t, 0, 300_000, true) // tier 3
	ch.standing(t, 1, 800_000, true) // tier 8
	ch.standing(t, 2, 900_000, true) // tier 9, but only 3 free
	ch.standing(t, 3, 300_000, true) // tier 3
	require.Equal(t, 1, ch.find(t, 5, 0), "tier 8 before the better-fitting tier 3")
	require.Equal(t, 2, ch.find(t, 3, 0), "tier 9 when it fits")
	require.Equal(t, 3, ch.find(t, 51, 0), "only tier 3 has 51 free")

	ch.standing(t, 1, 399_999, true) // tier 3, same as 0 and 3
	require.Equal(t, 0, ch.find(t, 5, 0), "one tier again: best fit")
	ch.standing(t, 0, 300_001, true)
	require.Equal(t, 0, ch.find(t, 5, 0), "a score change within the tier keeps the order")
	ch.standing(t, 3, 400_000, true) // tier 4
	require.Equal(t, 3, ch.find(t, 5, 0))
	require.Equal(t, 3, ch.find(t, 5, 0, 2), "excluding a worker that does not fit changes nothing")
	require.Equal(t, 0, ch.find(t, 5, 0, 3), "excluded: the next tier's best fit")
	require.Equal(t, 1, ch.find(t, 11, 0, 3))
	require.Equal(t, -1, ch.find(t, 201, 0))
	require.Equal(t, uint64(200), ch.maxFree(t), "the largest free capacity of any tier")

	// the free-capacity index holds exactly the ACTIVE, unpaused workers with
	// free units, each under its tier
	ch.standing(t, 2, 900_000, false)
	require.NoError(t, ch.k.AddInFlight(ch.ctx, 1, ch.addr(0), 10))
	iter, err := ch.k.FreeCapacity.Iterate(ch.ctx, nil)
	require.NoError(t, err)
	kvs, err := iter.KeyValues()
	require.NoError(t, err)
	require.Len(t, kvs, 2, "0 is full, 2 is paused")
	require.Equal(t, ch.addr(3), kvs[0].Key.K4(), "tier 4 first")
	require.Equal(t, uint32(types.MaxWorkerTier-4), kvs[0].Key.K2())
	require.Equal(t, ch.addr(1), kvs[1].Key.K4())
	require.Equal(t, uint64(1<<30), kvs[1].Value, "the value is the worker's storage")
}

// A paused worker is never found and its free units do not count in
// MaxFreeCapacity; resumed it is found again in its tier; its work in flight
// finishes normally while paused.
func TestFindWorkerNeverReturnsAPausedWorker(t *testing.T) {
	ch := newChain(t, 3, withWorkers(10))
	ch.registerStorage(t, 0, 10, 1<<30)
	ch.registerStorage(t, 1, 40, 1<<30)
	require.NoError(t, ch.k.AddInFlight(ch.ctx, 1, ch.addr(0), 2))
	ch.standing(t, 0, 900_000, false)
	for _, units := range []uint64{1, 5, 8, 40} {
		require.Equal(t, 1, ch.find(t, units, 0), "units %d", units)
	}
	require.Equal(t, -1, ch.find(t, 5, 0, 1), "the paused worker is not found even alone")
	require.Equal(t, uint64(40), ch.maxFree(t))
	ch.standing(t, 1, 500_000, false)
	require.Equal(t, -1, ch.find(t, 1, 0))
	require.Zero(t, ch.maxFree(t), "nobody to assign to")

	// in-flight work of a paused worker finishes; its counters move
	require.NoError(t, ch.k.RemoveInFlight(ch.ctx, 1, ch.addr(0), 2, outcome.Completed))
	require.Equal(t, -1, ch.find(t, 1, 0))

	ch.standing(t, 0, 900_000, true)
	require.Equal(t, 0, ch.find(t, 5, 0))
	require.Equal(t, uint64(10), ch.maxFree(t))
	w := ch.worker(t, 0)
	require.False(t, w.Paused)
	require.Equal(t, uint32(900_000), w.ScorePpm)

	// a paused worker that updates its offer stays paused
	ch.standing(t, 1, 500_000, false)
	_, err := ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(1).String(), CapacityUnits: 100, StorageBytes: 1 << 30})
	require.NoError(t, err)
	require.Equal(t, 0, ch.find(t, 5, 0))
	require.Equal(t, -1, ch.find(t, 50, 0))
}

// A request goes only to a worker whose storage covers its data: the best
// fit with too little storage is passed over, and a MsgUpdateWorker that
// raises the storage makes the worker eligible for it at once.
func TestFindWorkerMatchesStorage(t *testing.T) {
	ch := newChain(t, 3, withWorkers(10))
	ch.registerStorage(t, 0, 10, 100)  // best fit, little storage
	ch.registerStorage(t, 1, 20, 1000) // more storage
	require.Equal(t, 0, ch.find(t, 5, 100), "exactly enough storage")
	require.Equal(t, 1, ch.find(t, 5, 101), "too little storage: passed over")
	require.Equal(t, 1, ch.find(t, 5, 1000))
	require.Equal(t, -1, ch.find(t, 5, 1001), "nobody stores that much")
	require.Equal(t, -1, ch.find(t, 15, 101, 1))

	_, err := ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(0).String(), CapacityUnits: 10, StorageBytes: 5000})
	require.NoError(t, err)
	require.Equal(t, 0, ch.find(t, 5, 1001), "the index follows the storage update")
	_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(0).String(), CapacityUnits: 10, StorageBytes: 0})
	require.NoError(t, err)
	require.Equal(t, 1, ch.find(t, 5, 1))
	require.Equal(t, 0, ch.find(t, 5, 0), "a request without data needs no storage")
}

// FindWorker passes over at most max_assignment_candidates candidates that
// cannot take the request (too little storage, or excluded) and then finds
// nobody, even if a later candidate could have taken it.
func TestFindWorkerCandidateBound(t *testing.T) {
	ch := newChain(t, 6, func(gs *types.GenesisState) {
		gs.Params.MaxWorkersPerShard = 10
		gs.Params.MaxAssignmentCandidates = 3
	})
	for i, c := range []uint64{10, 11, 12, 13} { // better fits first, too little storage
		ch.registerStorage(t, i, c, 10)
	}
	ch.registerStorage(t, 4, 100, 1<<20)
	require.Equal(t, 0, ch.find(t, 5, 10), "small data: the best fit")
	require.Equal(t, -1, ch.find(t, 5, 11), "four candidates without the storage before the one with it: the bound of 3 is reached")
	require.Equal(t, -1, ch.find(t, 11, 11), "three candidates without the storage: the bound is reached")
	require.Equal(t, 4, ch.find(t, 12, 11), "two passed over, the third takes it")
	require.Equal(t, -1, ch.find(t, 5, 0, 0, 1, 2), "exclusions count against the bound too")
	require.Equal(t, 2, ch.find(t, 5, 0, 0, 1))

	p, err := ch.k.GetParams(ch.ctx)
	require.NoError(t, err)
	p.MaxAssignmentCandidates = 5
	_, err = ch.msgs.UpdateParams(ch.ctx, &types.MsgUpdateParams{Authority: ch.k.Authority(), Params: p})
	require.NoError(t, err)
	require.Equal(t, 4, ch.find(t, 5, 11), "a larger bound reaches it")
}

// SetWorkerStanding: an address that is not a worker is a no-op; a score
// above 1e6 is refused with nothing written; telling the same standing again
// writes nothing; an UNBONDING worker's standing is recorded but it stays
// out of the index.
func TestSetWorkerStanding(t *testing.T) {
	ch := newChain(t, 3, withWorkers(10))
	ch.registerStorage(t, 0, 10, 1<<30)
	before := ch.dump()
	require.NoError(t, ch.k.SetWorkerStanding(ch.ctx, ch.addr(2), 100_000, false), "not a worker")
	require.Equal(t, before, ch.dump())
	require.ErrorIs(t, ch.k.SetWorkerStanding(ch.ctx, ch.addr(0), 1_000_001, true), types.ErrInvalidScore)
	require.Equal(t, before, ch.dump())
	w := ch.worker(t, 0)
	require.NoError(t, ch.k.SetWorkerStanding(ch.ctx, ch.addr(0), w.ScorePpm, true))
	require.Equal(t, before, ch.dump(), "nothing changed: nothing written")

	ctx := ch.atHeight(5)
	require.NoError(t, ctx.k.SetWorkerStanding(ctx.ctx, ch.addr(0), 850_000, true))
	evs := typedEvents[*types.EventWorkerStandingChanged](t, ctx.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, types.EventWorkerStandingChanged{Worker: ch.addr(0).String(), ScorePpm: 850_000, Tier: 8}, *evs[0])
	ctx = ch.atHeight(6)
	require.NoError(t, ctx.k.SetWorkerStanding(ctx.ctx, ch.addr(0), 870_000, true))
	require.Empty(t, typedEvents[*types.EventWorkerStandingChanged](t, ctx.ctx), "same tier, same pause: no event")
	require.Equal(t, uint32(870_000), ch.worker(t, 0).ScorePpm)

	_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(0).String()})
	require.NoError(t, err)
	require.NoError(t, ch.k.SetWorkerStanding(ch.ctx, ch.addr(0), 200_000, true))
	w = ch.worker(t, 0)
	require.Equal(t, uint32(200_000), w.ScorePpm)
	require.Equal(t, -1, ch.find(t, 1, 0), "UNBONDING: never found")
}

// Scores, pauses and storage survive an export and an import into a fresh
// store byte for byte (the free-capacity index is rebuilt from the workers),
// and the imported keeper finds the same workers.
func TestGenesisRoundTripWithStandings(t *testing.T) {
	ch := newChain(t, 4, withWorkers(10))
	ch.registerStorage(t, 0, 10, 100)
	ch.registerStorage(t, 1, 20, 1<<30)
	ch.registerStorage(t, 2, 30, 1<<30)
	ch.registerStorage(t, 3, 40, 1<<30)
	ch.standing(t, 0, 950_000, true)
	ch.standing(t, 1, 120_000, false)
	ch.standing(t, 2, 640_000, true)

	exported, err := ch.k.ExportGenesis(ch.ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	f := newFixture(t)
	require.NoError(t, f.keeper.InitGenesis(f.ctx, *exported))
	require.Equal(t, ch.dump(), dumpStore(f.ctx, f.store.Key), "the imported store must be byte-identical")
	for _, q := range [][2]uint64{{5, 0}, {5, 101}, {25, 0}, {35, 0}, {5, 1 << 31}} {
		a, okA, err := ch.k.FindWorker(ch.ctx, 1, q[0], q[1], nil)
		require.NoError(t, err)
		b, okB, err := f.keeper.FindWorker(f.ctx, 1, q[0], q[1], nil)
		require.NoError(t, err)
		require.Equal(t, okA, okB)
		require.Equal(t, a, b)
	}

	bad := *exported
	bad.Workers = append([]types.Worker(nil), exported.Workers...)
	bad.Workers[0].ScorePpm = 1_000_001
	require.ErrorContains(t, bad.Validate(), "score_ppm")
}

// A worker that registers again keeps the standing x/reputation holds for
// it: leaving and coming back clears neither a low score nor a pause. A
// worker without a profile starts at new_worker_score_ppm.
func TestRegisterReadsTheStandingOfAReturningWorker(t *testing.T) {
	ch := newChain(t, 3, nil)
	returning, fresh := ch.addr(1), ch.addr(2)
	// The returning worker's record from an earlier registration: expiries
	// until x/reputation paused it.
	for i := 0; i < 8; i++ {
		require.NoError(t, ch.c.App.ReputationKeeper.RecordWorkerOutcome(ch.ctx, returning, outcome.WorkerExpired))
	}
	score, eligible, known, err := ch.c.App.ReputationKeeper.WorkerStanding(ch.ctx, returning)
	require.NoError(t, err)
	require.True(t, known)
	require.False(t, eligible, "eight expiries pause a worker")

	ch.register(t, 1, 10, types.ClassHighPriority)
	w := ch.worker(t, 1)
	require.True(t, w.Paused, "registering again does not lift the pause")
	require.Equal(t, score, w.ScorePpm)
	_, ok, err := ch.k.FindWorker(ch.ctx, w.ShardId, 1, 0, nil)
	require.NoError(t, err)
	require.False(t, ok, "a paused worker gets no assignment")

	ch.register(t, 2, 10, types.ClassHighPriority)
	require.False(t, ch.worker(t, 2).Paused)
	require.Equal(t, types.DefaultParams().NewWorkerScorePpm, ch.worker(t, 2).ScorePpm, "no profile: a new worker")
	found, ok, err := ch.k.FindWorker(ch.ctx, w.ShardId, 1, 0, nil)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, fresh, found)
}

func TestSetStandingKeeperIsSetOnce(t *testing.T) {
	ch := newChain(t, 1, nil)
	require.Panics(t, func() { ch.k.SetStandingKeeper(nil) }, "nil reader")
	require.Panics(t, func() { ch.k.SetStandingKeeper(ch.c.App.ReputationKeeper) }, "the app has set it already")
}
