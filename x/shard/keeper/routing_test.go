package keeper_test

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/shard/types"
)

// compute-intensive shards 4 (genesis), 5, 6 and 7; 7 is DRAINING, so
// Route never picks it.
func routingChain(t *testing.T) chain {
	return newChain(t, 3, func(gs *types.GenesisState) {
		withShards(types.ClassComputeIntensive, types.ClassComputeIntensive, types.ClassComputeIntensive)(gs)
		gs.Shards[6].Status = types.ShardDraining
	})
}

func TestRouteReputableRequesterGoesToLeastLoaded(t *testing.T) {
	ch := routingChain(t)
	threshold := types.DefaultParams().PreferredReputationThresholdPpm
	ci := types.ClassComputeIntensive
	// one worker of capacity 100 on each of 4, 5, 6
	require.Equal(t, uint64(4), ch.register(t, 0, 100, ci))
	require.Equal(t, uint64(5), ch.register(t, 1, 100, ci))
	require.Equal(t, uint64(6), ch.register(t, 2, 100, ci))
	route := func(rep uint32, id uint64) uint64 {
		routed, err := ch.k.Route(ch.ctx, ci, rep, id)
		s := routed.Shard
		require.NoError(t, err)
		return s.Id
	}
	// loads 4=50%, 5=20%, 6=20%; 7 (DRAINING, no capacity) is never a candidate
	require.NoError(t, ch.k.AddQueued(ch.ctx, 4, 50))
	require.NoError(t, ch.k.AddQueued(ch.ctx, 5, 20))
	require.NoError(t, ch.k.AddInFlight(ch.ctx, 6, ch.addr(2), 20))
	for id := uint64(0); id < 20; id++ {
		require.Equal(t, uint64(5), route(threshold, id), "5 and 6 tie at 20%%: the lower id wins, whatever the request")
		require.Equal(t, uint64(5), route(1_000_000, id))
	}
	require.NoError(t, ch.k.AddQueued(ch.ctx, 5, 1))
	require.Equal(t, uint64(6), route(threshold, 1), "5 at 21%% is now above 6")
	require.NoError(t, ch.k.AddQueued(ch.ctx, 6, 40))
	require.NoError(t, ch.k.AddQueued(ch.ctx, 5, 40))
	// 4=50%, 5=61%, 6=60%
	require.Equal(t, uint64(4), route(threshold, 1))
	require.Equal(t, uint32(610_000), ch.shard(t, 5).LoadPpm)
}

// Below the threshold a request goes to shard ids[sha256(BE(id))[:8] mod n]
// among the class's ACTIVE shards in id order, whatever their load.
func TestRouteHashesOtherRequesters(t *testing.T) {
	ch := routingChain(t)
	threshold := types.DefaultParams().PreferredReputationThresholdPpm
	ci := types.ClassComputeIntensive
	ch.register(t, 0, 100, ci)
	require.NoError(t, ch.k.AddQueued(ch.ctx, 5, 1)) // loads differ; hashing ignores them
	active := []uint64{4, 5, 6}
	seen := map[uint64]int{}
	for id := uint64(0); id < 300; id++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], id)
		h := sha256.Sum256(b[:])
		want := active[binary.BigEndian.Uint64(h[:8])%3]
		for _, rep := range []uint32{0, threshold - 1} {
			routed, err := ch.k.Route(ch.ctx, ci, rep, id)
			s := routed.Shard
			require.NoError(t, err)
			require.Equal(t, want, s.Id, "request %d, reputation %d", id, rep)
		}
		seen[want]++
	}
	require.Len(t, seen, 3, "the hash spreads requests over every ACTIVE shard")
	for _, n := range seen {
		require.Greater(t, n, 60, "roughly even spread: %v", seen)
	}
	// known vectors, computed outside Go: sha256 of the 8-byte big-endian id
	for id, prefix := range map[uint64]uint64{0: 0xaf5570f5a1810b7a, 1: 0xcd2662154e6d76b2, 42: 0xa6bb133cb1e3638a} {
		routed, err := ch.k.Route(ch.ctx, ci, 0, id)
		s := routed.Shard
		require.NoError(t, err)
		require.Equal(t, active[prefix%3], s.Id, "request %d", id)
		require.Equal(t, uint64(6), s.Id, "all three vectors are 2 mod 3")
	}
}

func TestRouteErrors(t *testing.T) {
	ch := routingChain(t)
	for _, class := range []types.ShardClass{types.ClassUnspecified, 5, -1} {
		_, err := ch.k.Route(ch.ctx, class, 0, 1)
		require.ErrorIs(t, err, types.ErrInvalidClass, "class %d", class)
	}
	// a keeper without any shard: no ACTIVE shard for the class
	f := newFixture(t)
	require.NoError(t, f.keeper.Params.Set(f.ctx, types.DefaultParams()))
	_, err := f.keeper.Route(f.ctx, types.ClassHighPriority, 900_000, 1)
	require.ErrorIs(t, err, types.ErrNoActiveShard)
	_, err = f.keeper.Route(f.ctx, types.ClassHighPriority, 0, 1)
	require.ErrorIs(t, err, types.ErrNoActiveShard)
}

func TestShardLookups(t *testing.T) {
	ch := newChain(t, 1, func(gs *types.GenesisState) {
		withShards(types.ClassLowPriority, types.ClassLowPriority)(gs) // 5, 6
		gs.Shards[4].Status = types.ShardDraining
		gs.Shards[5].Status = types.ShardRetired
	})
	ids, err := ch.k.DrainableShardIDs(ch.ctx)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, ids, "ACTIVE and DRAINING, in id order; not RETIRED")

	s, err := ch.k.GetShard(ch.ctx, 5)
	require.NoError(t, err)
	require.Equal(t, types.ShardDraining, s.Status)
	_, err = ch.k.GetShard(ch.ctx, 99)
	require.ErrorIs(t, err, types.ErrShardNotFound)

	resp, err := ch.query.ShardsByClass(ch.ctx, &types.QueryShardsByClassRequest{Class: types.ClassLowPriority})
	require.NoError(t, err)
	require.Len(t, resp.Shards, 1, "only the ACTIVE low-priority shard")
	require.Equal(t, uint64(2), resp.Shards[0].Id)
}

// FindWorker never returns the requester: the best fit other than the
// requester is returned instead, and a requester that is the only worker
// with room finds nobody.
func TestFindWorkerSkipsTheRequester(t *testing.T) {
	ch := newChain(t, 3, func(gs *types.GenesisState) { gs.Params.MaxWorkersPerShard = 5 })
	hp := types.ClassHighPriority
	require.Equal(t, uint64(1), ch.register(t, 0, 10, hp)) // the best fit for 5
	require.Equal(t, uint64(1), ch.register(t, 1, 20, hp))
	find := func(units uint64, requester sdk.AccAddress) (sdk.AccAddress, bool) {
		a, ok, err := ch.k.FindWorker(ch.ctx, 1, units, 0, []sdk.AccAddress{requester})
		require.NoError(t, err)
		return a, ok
	}
	got, ok := find(5, ch.addr(2))
	require.True(t, ok)
	require.Equal(t, ch.addr(0), got, "a stranger gets the best fit")
	got, ok = find(5, ch.addr(0))
	require.True(t, ok)
	require.Equal(t, ch.addr(1), got, "the best fit is the requester: the next one is taken")
	_, ok = find(15, ch.addr(1))
	require.False(t, ok, "only the requester has 15 free")
	got, ok = find(15, ch.addr(0))
	require.True(t, ok)
	require.Equal(t, ch.addr(1), got)
}

// FindWorker returns the worker with the smallest free capacity that fits
// (ties by address); MaxFreeCapacity the largest free capacity.
func TestFindWorkerBestFit(t *testing.T) {
	ch := newChain(t, 6, func(gs *types.GenesisState) { gs.Params.MaxWorkersPerShard = 5 })
	hp := types.ClassHighPriority
	caps := []uint64{10, 30, 30, 50, 20} // accounts 0..4 on shard 1
	for i, c := range caps {
		require.Equal(t, uint64(1), ch.register(t, i, c, hp))
	}
	require.Equal(t, uint64(2), ch.register(t, 5, 1000, types.ClassLowPriority)) // another shard
	lo, hi := ch.addr(1), ch.addr(2)
	if sdkBytesCompare(lo, hi) > 0 {
		lo, hi = hi, lo
	}
	find := func(units uint64) (sdk.AccAddress, bool) {
		a, ok, err := ch.k.FindWorker(ch.ctx, 1, units, 0, nil)
		require.NoError(t, err)
		return a, ok
	}
	maxFree := func() uint64 {
		m, err := ch.k.MaxFreeCapacity(ch.ctx, 1)
		require.NoError(t, err)
		return m
	}
	for units, want := range map[uint64]sdk.AccAddress{1: ch.addr(0), 10: ch.addr(0), 11: ch.addr(4), 20: ch.addr(4), 21: lo, 30: lo, 31: ch.addr(3), 50: ch.addr(3)} {
		got, ok := find(units)
		require.True(t, ok, "units %d", units)
		require.Equal(t, want, got, "units %d", units)
	}
	_, ok := find(51)
	require.False(t, ok, "nothing on shard 1 fits 51, even though shard 2 has 1000 free")
	require.Equal(t, uint64(50), maxFree())

	// the worker with 50 takes 45: its free capacity is now 5
	require.NoError(t, ch.k.AddInFlight(ch.ctx, 1, ch.addr(3), 45))
	require.Equal(t, uint64(30), maxFree())
	got, _ := find(5)
	require.Equal(t, ch.addr(3), got, "5 free is now the best fit for 5")
	got, _ = find(6)
	require.Equal(t, ch.addr(0), got)

	// the lower of the two 30s fills up: the other one is found
	require.NoError(t, ch.k.AddInFlight(ch.ctx, 1, lo, 30))
	got, _ = find(21)
	require.Equal(t, hi, got)
	// an UNBONDING worker is never found
	_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: hi.String()})
	require.NoError(t, err)
	_, ok = find(21)
	require.False(t, ok)
	require.Equal(t, uint64(20), maxFree())

	// an empty shard
	m, err := ch.k.MaxFreeCapacity(ch.ctx, 3)
	require.NoError(t, err)
	require.Zero(t, m)
	_, ok, err = ch.k.FindWorker(ch.ctx, 3, 1, 0, nil)
	require.NoError(t, err)
	require.False(t, ok)

	// the index holds exactly the ACTIVE workers with free units, in key order
	keys, err := collectFree(ch)
	require.NoError(t, err)
	require.True(t, sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i] < keys[j] }))
	require.Len(t, keys, 4, "0 (10), 3 (5), 4 (20) on shard 1 and 5 on shard 2; the full and the unbonding are out")
}

func collectFree(ch chain) ([]string, error) {
	iter, err := ch.k.FreeCapacity.Iterate(ch.ctx, nil)
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	out := make([]string, len(keys))
	for i, k := range keys {
		var b [20]byte
		binary.BigEndian.PutUint64(b[:8], k.K1())
		binary.BigEndian.PutUint32(b[8:12], k.K2())
		binary.BigEndian.PutUint64(b[12:], k.K3())
		out[i] = string(b[:]) + string(k.K4())
	}
	return out, err
}

func TestInFlightNeverAboveCapacity(t *testing.T) {
	ch := newChain(t, 2, nil)
	shardID := ch.register(t, 0, 10, types.ClassHighPriority)
	other := ch.register(t, 1, 10, types.ClassLowPriority)

	require.NoError(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 6))
	bad := map[string]struct {
		call func() error
		err  error
	}{
		"above capacity": {func() error { return ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 5) }, types.ErrCapacityExceeded},
		"huge":           {func() error { return ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), ^uint64(0)) }, types.ErrCapacityExceeded},
		"zero units":     {func() error { return ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 0) }, types.ErrInvalidUnits},
		"wrong shard":    {func() error { return ch.k.AddInFlight(ch.ctx, other, ch.addr(0), 1) }, types.ErrWorkerNotInShard},
		"unknown worker": {func() error { return ch.k.AddInFlight(ch.ctx, shardID, sdk.AccAddress("nobody-nobody-nobody"), 1) }, types.ErrWorkerNotFound},
		"remove too many": {func() error {
			return ch.k.RemoveInFlight(ch.ctx, shardID, ch.addr(0), 7, outcome.Completed)
		}, types.ErrCounterUnderflow},
		"remove zero": {func() error {
			return ch.k.RemoveInFlight(ch.ctx, shardID, ch.addr(0), 0, outcome.Completed)
		}, types.ErrInvalidUnits},
		"bad outcome": {func() error { return ch.k.RemoveInFlight(ch.ctx, shardID, ch.addr(0), 1, 0) }, types.ErrInvalidOutcome},
		"remove elsewhere": {func() error {
			return ch.k.RemoveInFlight(ch.ctx, other, ch.addr(0), 1, outcome.Expired)
		}, types.ErrWorkerNotInShard},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			snap := ch.dump()
			require.ErrorIs(t, tc.call(), tc.err)
			require.Equal(t, snap, ch.dump(), "a refused change writes nothing")
		})
	}
	require.NoError(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 4), "exactly full is allowed")
	w := ch.worker(t, 0)
	require.Equal(t, w.CapacityUnits, w.InFlightUnits)
	require.ErrorIs(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 1), types.ErrCapacityExceeded)

	// released (cancelled, or the requester's deadline ran out) frees the
	// units and counts nothing on the worker
	for _, o := range []outcome.Outcome{outcome.Completed, outcome.Failed, outcome.Expired, outcome.Released} {
		require.NoError(t, ch.k.RemoveInFlight(ch.ctx, shardID, ch.addr(0), 2, o))
	}
	w = ch.worker(t, 0)
	require.Equal(t, uint64(2), w.InFlightUnits)
	require.Equal(t, [3]uint64{1, 1, 1}, [3]uint64{w.Completed, w.Failed, w.Expired})
	require.Equal(t, uint64(2), ch.shard(t, shardID).InFlightUnits)
}
