package keeper_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/internal/ppm"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	"github.com/repshard/repshard/x/shard/keeper"
	"github.com/repshard/repshard/x/shard/types"
)

func TestLoadPpm(t *testing.T) {
	cases := []struct {
		used, capacity uint64
		want           uint32
	}{
		{0, 0, ppm.Max},   // no capacity: full
		{5, 0, ppm.Max},   // no capacity: full
		{0, 10, 0},        // idle
		{1, 3, 333_333},   // rounds down
		{2, 3, 666_666},   // rounds down
		{3, 3, ppm.Max},   // exactly full
		{900, 3, ppm.Max}, // capped
		{^uint64(0) - 1, ^uint64(0), 999_999},
	}
	for _, c := range cases {
		require.Equal(t, c.want, keeper.LoadPpm(c.used, c.capacity), "%d/%d", c.used, c.capacity)
	}
}

// load_ppm and the network load follow every change of capacity, in-flight
// and queued units.
func TestShardAndNetworkLoad(t *testing.T) {
	ch := newChain(t, 3, func(gs *types.GenesisState) {
		withShards(types.ClassHighPriority)(gs) // 5
		gs.Shards[4].Status = types.ShardDraining
	})
	netLoad := func() uint32 {
		l, err := ch.k.NetworkLoadPpm(ch.ctx)
		require.NoError(t, err)
		return l
	}
	require.Equal(t, uint32(ppm.Max), netLoad(), "no capacity anywhere: full")
	require.Equal(t, uint32(ppm.Max), ch.shard(t, 1).LoadPpm)

	hp := types.ClassHighPriority
	ch.register(t, 0, 100, hp)
	ch.register(t, 1, 200, hp)
	require.Equal(t, uint32(0), ch.shard(t, 1).LoadPpm)
	require.Equal(t, uint32(0), netLoad())

	require.NoError(t, ch.k.AddInFlight(ch.ctx, 1, ch.addr(0), 30))
	require.NoError(t, ch.k.AddQueued(ch.ctx, 1, 20))
	require.NoError(t, ch.k.AddQueued(ch.ctx, 1, 25))
	s := ch.shard(t, 1)
	require.Equal(t, [4]uint64{300, 30, 45, 2}, [4]uint64{s.CapacityUnits, s.InFlightUnits, s.QueuedUnits, s.QueuedCount})
	require.Equal(t, uint32(250_000), s.LoadPpm, "(30 + 45) / 300")
	require.Equal(t, uint32(250_000), netLoad())

	// capacity on another class counts in the network load
	require.Equal(t, uint64(4), ch.register(t, 2, 700, types.ClassComputeIntensive))
	require.Equal(t, uint32(75_000), netLoad(), "75 / 1000")
	resp, err := ch.query.NetworkLoad(ch.ctx, &types.QueryNetworkLoadRequest{})
	require.NoError(t, err)
	require.Equal(t, types.NetworkTotals{CapacityUnits: 1000, LoadUnits: 75}, resp.Totals)
	require.Equal(t, uint32(75_000), resp.LoadPpm)

	// queued units on a DRAINING shard do not count in the network load
	require.NoError(t, ch.k.AddQueued(ch.ctx, 5, 500))
	require.Equal(t, uint32(ppm.Max), ch.shard(t, 5).LoadPpm)
	require.Equal(t, uint32(75_000), netLoad())

	require.NoError(t, ch.k.RemoveQueued(ch.ctx, 1, 20))
	require.NoError(t, ch.k.RemoveInFlight(ch.ctx, 1, ch.addr(0), 30, outcome.Completed))
	s = ch.shard(t, 1)
	require.Equal(t, uint32(83_333), s.LoadPpm, "25 / 300, rounded down")
	require.Equal(t, uint64(1), s.QueuedCount)
	require.Equal(t, uint32(25_000), netLoad(), "25 / 1000")

	// a shard loaded beyond its capacity is capped at 1_000_000
	require.NoError(t, ch.k.AddQueued(ch.ctx, 4, 10_000))
	require.Equal(t, uint32(ppm.Max), ch.shard(t, 4).LoadPpm)
	require.Equal(t, uint32(ppm.Max), netLoad(), "10_025 / 1000, capped")

	// bad queue changes write nothing
	for name, call := range map[string]func() error{
		"dequeue more units": func() error { return ch.k.RemoveQueued(ch.ctx, 1, 26) },
		"dequeue empty":      func() error { return ch.k.RemoveQueued(ch.ctx, 2, 1) },
		"unknown shard":      func() error { return ch.k.AddQueued(ch.ctx, 99, 1) },
		"zero units":         func() error { return ch.k.AddQueued(ch.ctx, 1, 0) },
		"zero dequeue":       func() error { return ch.k.RemoveQueued(ch.ctx, 1, 0) },
	} {
		snap := ch.dump()
		require.Error(t, call(), name)
		require.Equal(t, snap, ch.dump(), name)
	}
	require.ErrorIs(t, ch.k.RemoveQueued(ch.ctx, 1, 26), types.ErrCounterUnderflow)
	require.ErrorIs(t, ch.k.AddQueued(ch.ctx, 99, 1), types.ErrShardNotFound)
}

func TestAddQueuedRefusesRetiredShard(t *testing.T) {
	ch := newChain(t, 1, func(gs *types.GenesisState) {
		withShards(types.ClassLowPriority)(gs)
		gs.Shards[4].Status = types.ShardRetired
	})
	snap := ch.dump()
	require.ErrorIs(t, ch.k.AddQueued(ch.ctx, 5, 1), types.ErrShardNotOpen)
	require.Equal(t, snap, ch.dump())
}

func TestSlashBond(t *testing.T) {
	ch := newChain(t, 2, nil)
	rewards := authtypes.NewModuleAddress(rewardstypes.ModuleName)
	bond := urep(10_000_003)
	_, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: ch.addr(0).String(), Classes: []types.ShardClass{types.ClassHighPriority}, CapacityUnits: 5, Bond: bond,
	})
	require.NoError(t, err)
	ch.register(t, 1, 5, types.ClassHighPriority)
	modBefore, rewBefore := ch.balance(moduleAddr()), ch.balance(rewards)

	slashed, err := ch.k.SlashBond(ch.ctx, ch.addr(0), 333_333, rewardstypes.ModuleName)
	require.NoError(t, err)
	// 10_000_003 × 333_333 / 1_000_000 = 3_333_330.999999 → 3_333_330 (floor)
	require.Equal(t, urep(3_333_330), slashed)
	require.Equal(t, modBefore.SubRaw(3_333_330), ch.balance(moduleAddr()))
	require.Equal(t, rewBefore.AddRaw(3_333_330), ch.balance(rewards))
	require.Equal(t, urep(6_666_673), ch.worker(t, 0).Bond)
	require.Equal(t, minBond, ch.worker(t, 1).Bond, "the other worker's bond is untouched")
	ev := typedEvents[*types.EventBondSlashed](t, ch.ctx)
	require.Len(t, ev, 1)
	require.Equal(t, urep(6_666_673), ev[0].Remaining)
	require.Equal(t, rewardstypes.ModuleName, ev[0].ToModule)

	// rounding to zero moves nothing
	snap := ch.dump()
	slashed, err = ch.k.SlashBond(ch.ctx, ch.addr(0), 0, rewardstypes.ModuleName)
	require.NoError(t, err)
	require.True(t, slashed.IsZero())
	require.Equal(t, snap, ch.dump())

	for name, tc := range map[string]struct {
		worker sdk.AccAddress
		ppm    uint32
		err    error
	}{
		"fraction above one": {ch.addr(0), 1_000_001, types.ErrInvalidFraction},
		"not a worker":       {sdk.AccAddress("nobody-nobody-nobody"), 1000, types.ErrWorkerNotFound},
	} {
		snap, mod := ch.dump(), ch.balance(moduleAddr())
		_, err := ch.k.SlashBond(ch.ctx, tc.worker, tc.ppm, rewardstypes.ModuleName)
		require.ErrorIs(t, err, tc.err, name)
		require.Equal(t, snap, ch.dump(), name)
		require.Equal(t, mod, ch.balance(moduleAddr()), name)
	}

	// a fully slashed, unbonded worker gets nothing back and is still deleted
	start := ch.balance(ch.addr(0))
	slashed, err = ch.k.SlashBond(ch.ctx, ch.addr(0), 1_000_000, rewardstypes.ModuleName)
	require.NoError(t, err)
	require.Equal(t, urep(6_666_673), slashed)
	require.True(t, ch.worker(t, 0).Bond.IsZero())
	resp, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(0).String()})
	require.NoError(t, err)
	due := ch.atHeight(resp.ReleaseHeight)
	require.NoError(t, due.k.EndBlocker(due.ctx))
	require.Equal(t, start, due.balance(ch.addr(0)))
	_, err = due.k.GetWorker(due.ctx, ch.addr(0))
	require.ErrorIs(t, err, types.ErrWorkerNotFound)
	require.Equal(t, minBond.Amount, due.balance(moduleAddr()), "shard bond balance = Σ worker bonds")
}

// Invariant: the x/shard module balance equals the sum of the worker bonds,
// through registrations, slashing and releases.
func TestBondBalanceInvariant(t *testing.T) {
	ch := newChain(t, 3, nil)
	check := func(c chain) {
		t.Helper()
		sum := sdkmath.ZeroInt()
		require.NoError(t, c.k.Workers.Walk(c.ctx, nil, func(_ sdk.AccAddress, w types.Worker) (bool, error) {
			sum = sum.Add(w.Bond.Amount)
			return false, nil
		}))
		require.Equal(t, sum, c.balance(moduleAddr()))
	}
	check(ch)
	for i := 0; i < 3; i++ {
		ch.register(t, i, 3, types.AllClasses[i])
		check(ch)
	}
	_, err := ch.k.SlashBond(ch.ctx, ch.addr(1), 123_456, rewardstypes.ModuleName)
	require.NoError(t, err)
	check(ch)
	resp, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(1).String()})
	require.NoError(t, err)
	due := ch.atHeight(resp.ReleaseHeight)
	require.NoError(t, due.k.EndBlocker(due.ctx))
	check(due)
}
