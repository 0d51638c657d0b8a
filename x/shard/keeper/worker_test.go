package keeper_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/shard/types"
)

func TestRegisterWorker(t *testing.T) {
	ch := newChain(t, 1, nil)
	before, modBefore := ch.balance(ch.addr(0)), ch.balance(moduleAddr())
	bond := urep(12_345_678)

	resp, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: ch.addr(0).String(), Classes: []types.ShardClass{types.ClassComputeIntensive},
		CapacityUnits: 40, StorageBytes: 1 << 30, Bond: bond,
	})
	require.NoError(t, err)
	require.Equal(t, uint64(4), resp.ShardId, "the compute-intensive genesis shard is 4")

	require.Equal(t, before.Sub(bond.Amount), ch.balance(ch.addr(0)), "the bond leaves the worker, to the micro-unit")
	require.Equal(t, modBefore.Add(bond.Amount), ch.balance(moduleAddr()), "the bond is escrowed in the x/shard module account")

	w := ch.worker(t, 0)
	require.Equal(t, types.Worker{
		Address: ch.addr(0).String(), Bond: bond, Classes: []types.ShardClass{types.ClassComputeIntensive},
		CapacityUnits: 40, StorageBytes: 1 << 30, ShardId: 4, Status: types.WorkerActive,
		ScorePpm: types.DefaultParams().NewWorkerScorePpm, // until x/reputation tells its standing
	}, w)
	s := ch.shard(t, 4)
	require.Equal(t, uint32(1), s.WorkerCount)
	require.Equal(t, uint64(40), s.CapacityUnits)
	require.Equal(t, uint32(0), s.LoadPpm, "capacity and nothing to do: load 0")

	found, ok, err := ch.k.FindWorker(ch.ctx, 4, 40, 0, nil)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ch.addr(0), found)

	evs := typedEvents[*types.EventWorkerRegistered](t, ch.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, uint64(4), evs[0].ShardId)
	require.Equal(t, bond, evs[0].Bond)

	// registering twice is refused and changes nothing
	snap, bal := ch.dump(), ch.balance(ch.addr(0))
	_, err = ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: ch.addr(0).String(), Classes: []types.ShardClass{types.ClassHighPriority}, CapacityUnits: 1, Bond: minBond,
	})
	require.ErrorIs(t, err, types.ErrWorkerExists)
	require.Equal(t, snap, ch.dump())
	require.Equal(t, bal, ch.balance(ch.addr(0)))
}

func TestRegisterWorkerBadInput(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.register(t, 1, 10, types.ClassHighPriority) // an existing worker
	poor := sdk.AccAddress([]byte("poor-account-no-coin"))
	valid := func() *types.MsgRegisterWorker {
		return &types.MsgRegisterWorker{Worker: ch.addr(0).String(),
			Classes: []types.ShardClass{types.ClassHighPriority, types.ClassDataIntensive}, CapacityUnits: 10, Bond: minBond}
	}
	cases := map[string]struct {
		edit func(m *types.MsgRegisterWorker)
		err  error
	}{
		"bad address":       {func(m *types.MsgRegisterWorker) { m.Worker = "rep1notanaddress" }, sdkerrors.ErrInvalidAddress},
		"wrong prefix":      {func(m *types.MsgRegisterWorker) { m.Worker = sdk.MustBech32ifyAddressBytes("cosmos", ch.addr(0)) }, sdkerrors.ErrInvalidAddress},
		"empty address":     {func(m *types.MsgRegisterWorker) { m.Worker = "" }, sdkerrors.ErrInvalidAddress},
		"no class":          {func(m *types.MsgRegisterWorker) { m.Classes = nil }, types.ErrInvalidClass},
		"unspecified class": {func(m *types.MsgRegisterWorker) { m.Classes = []types.ShardClass{types.ClassUnspecified} }, types.ErrInvalidClass},
		"unknown class":     {func(m *types.MsgRegisterWorker) { m.Classes = []types.ShardClass{types.ClassHighPriority, 9} }, types.ErrInvalidClass},
		"negative class":    {func(m *types.MsgRegisterWorker) { m.Classes = []types.ShardClass{-1} }, types.ErrInvalidClass},
		"duplicate class": {func(m *types.MsgRegisterWorker) {
			m.Classes = []types.ShardClass{types.ClassLowPriority, types.ClassLowPriority}
		}, types.ErrInvalidClass},
		"zero capacity":       {func(m *types.MsgRegisterWorker) { m.CapacityUnits = 0 }, types.ErrInvalidCapacity},
		"oversized capacity":  {func(m *types.MsgRegisterWorker) { m.CapacityUnits = types.MaxWorkerCapacityUnits + 1 }, types.ErrInvalidCapacity},
		"wrong denom":         {func(m *types.MsgRegisterWorker) { m.Bond = sdk.NewInt64Coin("stake", 1_000_000_000) }, types.ErrInvalidBond},
		"malformed denom":     {func(m *types.MsgRegisterWorker) { m.Bond = sdk.Coin{Denom: "1x", Amount: minBond.Amount} }, types.ErrInvalidBond},
		"negative bond":       {func(m *types.MsgRegisterWorker) { m.Bond = sdk.Coin{Denom: minBond.Denom, Amount: sdkmath.NewInt(-1)} }, types.ErrInvalidBond},
		"nil bond amount":     {func(m *types.MsgRegisterWorker) { m.Bond = sdk.Coin{Denom: minBond.Denom} }, types.ErrInvalidBond},
		"zero bond":           {func(m *types.MsgRegisterWorker) { m.Bond = urep(0) }, types.ErrBondTooSmall},
		"bond one below min":  {func(m *types.MsgRegisterWorker) { m.Bond = sdk.NewCoin(minBond.Denom, minBond.Amount.SubRaw(1)) }, types.ErrBondTooSmall},
		"registered twice":    {func(m *types.MsgRegisterWorker) { m.Worker = ch.addr(1).String() }, types.ErrWorkerExists},
		"cannot pay the bond": {func(m *types.MsgRegisterWorker) { m.Worker = poor.String() }, sdkerrors.ErrInsufficientFunds},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			snap := ch.dump()
			bals := []sdkmath.Int{ch.balance(ch.addr(0)), ch.balance(ch.addr(1)), ch.balance(poor), ch.balance(moduleAddr())}
			msg := valid()
			tc.edit(msg)
			resp, err := ch.msgs.RegisterWorker(ch.ctx, msg)
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, resp)
			require.Equal(t, snap, ch.dump(), "x/shard state must not change")
			require.Equal(t, bals, []sdkmath.Int{ch.balance(ch.addr(0)), ch.balance(ch.addr(1)), ch.balance(poor), ch.balance(moduleAddr())},
				"no balance may change")
		})
	}
	// the valid msg works, so each case above failed for its own reason
	_, err := ch.msgs.RegisterWorker(ch.ctx, valid())
	require.NoError(t, err)
}

// A new worker joins, among the ACTIVE shards of its classes that have room,
// the one with the least capacity; ties go to the lowest shard id.
func TestRegisterJoinsLeastCapacity(t *testing.T) {
	// high-priority shards: 1, 5, 6; low-priority: 2, 7
	ch := newChain(t, 8, func(gs *types.GenesisState) {
		withShards(types.ClassHighPriority, types.ClassHighPriority, types.ClassLowPriority)(gs)
		gs.Params.MaxWorkersPerShard = 2
	})
	hp := types.ClassHighPriority
	require.Equal(t, uint64(1), ch.register(t, 0, 50, hp), "all empty: lowest id")
	require.Equal(t, uint64(5), ch.register(t, 1, 30, hp), "5 and 6 tie at 0: lowest id")
	require.Equal(t, uint64(6), ch.register(t, 2, 40, hp), "6 is empty")
	require.Equal(t, uint64(5), ch.register(t, 3, 5, hp), "5 has 30, the least")
	// capacities now: 1=50, 5=35 (full: 2 workers), 6=40
	require.Equal(t, uint64(6), ch.register(t, 4, 1, hp), "5 is full, 6 has less than 1")
	// 1=50, 5 full, 6 full; the low-priority shards 2 and 7 are empty
	require.Equal(t, uint64(2), ch.register(t, 5, 1, hp, types.ClassLowPriority), "across classes: 2 and 7 tie at 0, lowest id")
	require.Equal(t, uint64(7), ch.register(t, 6, 1, types.ClassLowPriority, hp), "7 (0) < 2 (1) < 1 (50)")

	s5 := ch.shard(t, 5)
	require.Equal(t, uint32(2), s5.WorkerCount)
	require.Equal(t, uint64(35), s5.CapacityUnits)

	// every high-priority shard full except 1 (one worker); fill it, then none is left
	require.Equal(t, uint64(1), ch.register(t, 7, 1, hp))
	extra := sdk.AccAddress([]byte("extra-worker-account"))
	bal := ch.balance(ch.addr(7))
	require.NoError(t, ch.c.App.BankKeeper.SendCoins(ch.ctx, ch.addr(7), extra, sdk.NewCoins(urep(100_000_000))))
	snap := ch.dump()
	_, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: extra.String(), Classes: []types.ShardClass{hp}, CapacityUnits: 1, Bond: minBond,
	})
	require.ErrorIs(t, err, types.ErrNoShardAvailable)
	require.Equal(t, snap, ch.dump())
	require.Equal(t, bal.SubRaw(100_000_000), ch.balance(ch.addr(7)))
	require.Equal(t, sdkmath.NewInt(100_000_000), ch.balance(extra), "a refused registration takes no bond")
}

func TestUpdateWorker(t *testing.T) {
	ch := newChain(t, 2, nil)
	shardID := ch.register(t, 0, 50, types.ClassHighPriority)
	ch.register(t, 1, 20, types.ClassHighPriority)
	require.NoError(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 30))

	_, err := ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(0).String(), CapacityUnits: 80, StorageBytes: 7})
	require.NoError(t, err)
	w := ch.worker(t, 0)
	require.Equal(t, uint64(80), w.CapacityUnits)
	require.Equal(t, uint64(7), w.StorageBytes)
	s := ch.shard(t, shardID)
	require.Equal(t, uint64(100), s.CapacityUnits)
	require.Equal(t, uint32(300_000), s.LoadPpm, "30 of 100")
	maxFree, err := ch.k.MaxFreeCapacity(ch.ctx, shardID)
	require.NoError(t, err)
	require.Equal(t, uint64(50), maxFree, "the free-capacity index follows the update")
	ev := typedEvents[*types.EventWorkerUpdated](t, ch.ctx)
	require.Len(t, ev, 1)
	require.Equal(t, uint64(50), ev[0].PreviousCapacityUnits)

	// down to exactly the units in flight is fine
	_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(0).String(), CapacityUnits: 30})
	require.NoError(t, err)
	_, ok, err := ch.k.FindWorker(ch.ctx, shardID, 21, 0, nil)
	require.NoError(t, err)
	require.False(t, ok, "a worker with no free units leaves the free-capacity index")

	stranger := sdk.AccAddress([]byte("not-a-worker-at-all!"))
	cases := map[string]struct {
		msg *types.MsgUpdateWorker
		err error
	}{
		"below in flight": {&types.MsgUpdateWorker{Worker: ch.addr(0).String(), CapacityUnits: 29}, types.ErrCapacityBelowInFlight},
		"zero capacity":   {&types.MsgUpdateWorker{Worker: ch.addr(1).String(), CapacityUnits: 0}, types.ErrInvalidCapacity},
		"oversized":       {&types.MsgUpdateWorker{Worker: ch.addr(1).String(), CapacityUnits: types.MaxWorkerCapacityUnits + 1}, types.ErrInvalidCapacity},
		"not a worker":    {&types.MsgUpdateWorker{Worker: stranger.String(), CapacityUnits: 5}, types.ErrWorkerNotFound},
		"bad address":     {&types.MsgUpdateWorker{Worker: "nope", CapacityUnits: 5}, sdkerrors.ErrInvalidAddress},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			snap := ch.dump()
			_, err := ch.msgs.UpdateWorker(ch.ctx, tc.msg)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, snap, ch.dump())
		})
	}

	_, err = ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(1).String()})
	require.NoError(t, err)
	snap := ch.dump()
	_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(1).String(), CapacityUnits: 5})
	require.ErrorIs(t, err, types.ErrWorkerNotActive, "an unbonding worker cannot change its offer")
	require.Equal(t, snap, ch.dump())
}

// A worker with nothing in flight gets its bond back exactly
// unbonding_period_blocks after it unregisters, and its record is deleted.
func TestUnregisterIdleWorkerAndRelease(t *testing.T) {
	ch := newChain(t, 2, nil)
	period := int64(types.DefaultParams().UnbondingPeriodBlocks)
	start := ch.balance(ch.addr(0))
	modStart := ch.balance(moduleAddr())
	shardID := ch.register(t, 0, 10, types.ClassLowPriority)
	ch.register(t, 1, 5, types.ClassLowPriority)

	h := ch.ctx.BlockHeight()
	resp, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(0).String()})
	require.NoError(t, err)
	require.Equal(t, h+period, resp.ReleaseHeight)
	w := ch.worker(t, 0)
	require.Equal(t, types.WorkerUnbonding, w.Status)
	require.Equal(t, h, w.UnbondingHeight)
	require.Equal(t, h+period, w.ReleaseHeight)
	s := ch.shard(t, shardID)
	require.Equal(t, uint64(5), s.CapacityUnits, "its capacity leaves the shard")
	require.Equal(t, uint32(1), s.WorkerCount)
	found, ok, err := ch.k.FindWorker(ch.ctx, shardID, 6, 0, nil)
	require.NoError(t, err)
	require.False(t, ok, "no new assignments: only the other worker (5 free) is left, %s", found)
	require.Len(t, typedEvents[*types.EventWorkerUnbonding](t, ch.ctx), 1)

	snap := ch.dump()
	_, err = ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(0).String()})
	require.ErrorIs(t, err, types.ErrWorkerNotActive, "unregistering twice")
	require.Equal(t, snap, ch.dump())
	_, err = ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: sdk.AccAddress([]byte("not-a-worker-at-all!")).String()})
	require.ErrorIs(t, err, types.ErrWorkerNotFound)
	require.Equal(t, snap, ch.dump())

	// one block early: nothing happens
	early := ch.atHeight(h + period - 1)
	require.NoError(t, early.k.EndBlocker(early.ctx))
	require.Equal(t, start.Sub(minBond.Amount), early.balance(ch.addr(0)))
	require.Equal(t, snap, early.dump())

	due := ch.atHeight(h + period)
	require.NoError(t, due.k.EndBlocker(due.ctx))
	require.Equal(t, start, due.balance(ch.addr(0)), "the whole bond is back, to the micro-unit")
	require.Equal(t, modStart.Add(minBond.Amount), due.balance(moduleAddr()), "only the other worker's bond stays")
	_, err = due.k.GetWorker(due.ctx, ch.addr(0))
	require.ErrorIs(t, err, types.ErrWorkerNotFound, "the record is deleted")
	ev := typedEvents[*types.EventBondReturned](t, due.ctx)
	require.Len(t, ev, 1)
	require.Equal(t, minBond, ev[0].Amount)
	resp2, err := due.query.WorkersByShard(due.ctx, &types.QueryWorkersByShardRequest{ShardId: shardID})
	require.NoError(t, err)
	require.Len(t, resp2.Workers, 1, "the by-shard index forgets it")

	// the released worker may register again
	require.Equal(t, shardID, due.register(t, 0, 10, types.ClassLowPriority))
}

// With work in flight the unbonding period starts only when the last unit
// comes back; meanwhile the worker takes no new work.
func TestUnregisterBusyWorker(t *testing.T) {
	ch := newChain(t, 1, nil)
	period := int64(types.DefaultParams().UnbondingPeriodBlocks)
	start := ch.balance(ch.addr(0))
	shardID := ch.register(t, 0, 10, types.ClassDataIntensive)
	require.NoError(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 4))
	require.NoError(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 3))

	resp, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(0).String()})
	require.NoError(t, err)
	require.Zero(t, resp.ReleaseHeight, "nothing scheduled while work is in flight")
	s := ch.shard(t, shardID)
	require.Zero(t, s.CapacityUnits)
	require.Equal(t, uint64(7), s.InFlightUnits, "its work stays on the shard")
	require.Equal(t, uint32(1_000_000), s.LoadPpm, "no capacity left: full load")

	snap := ch.dump()
	require.ErrorIs(t, ch.k.AddInFlight(ch.ctx, shardID, ch.addr(0), 1), types.ErrWorkerNotActive)
	require.Equal(t, snap, ch.dump())

	// far in the future, still nothing: the period has not started
	later := ch.atHeight(ch.ctx.BlockHeight() + 10*period)
	require.NoError(t, later.k.EndBlocker(later.ctx))
	require.Equal(t, snap, later.dump())

	h := ch.ctx.BlockHeight() + 5
	at := ch.atHeight(h)
	require.NoError(t, at.k.RemoveInFlight(at.ctx, shardID, ch.addr(0), 4, outcome.Completed))
	require.Zero(t, at.worker(t, 0).ReleaseHeight)
	require.NoError(t, at.k.RemoveInFlight(at.ctx, shardID, ch.addr(0), 3, outcome.Failed))
	w := at.worker(t, 0)
	require.Equal(t, h+period, w.ReleaseHeight, "scheduled when in flight reaches 0")
	require.Equal(t, uint64(1), w.Completed)
	require.Equal(t, uint64(1), w.Failed)
	sched := typedEvents[*types.EventWorkerReleaseScheduled](t, at.ctx)
	require.Len(t, sched, 1)
	require.Equal(t, h+period, sched[0].ReleaseHeight)

	before := ch.atHeight(h + period - 1)
	require.NoError(t, before.k.EndBlocker(before.ctx))
	require.Equal(t, start.Sub(minBond.Amount), before.balance(ch.addr(0)))
	due := ch.atHeight(h + period)
	require.NoError(t, due.k.EndBlocker(due.ctx))
	require.Equal(t, start, due.balance(ch.addr(0)))
	require.Zero(t, due.shard(t, shardID).InFlightUnits)
}

// EndBlock returns at most max_bond_releases_per_block bonds, in (release
// height, address) order; the rest follow in later blocks.
func TestEndBlockReleaseBound(t *testing.T) {
	ch := newChain(t, 3, func(gs *types.GenesisState) { gs.Params.MaxBondReleasesPerBlock = 2 })
	period := int64(types.DefaultParams().UnbondingPeriodBlocks)
	for i := 0; i < 3; i++ {
		ch.register(t, i, 1, types.ClassHighPriority)
		_, err := ch.msgs.UnregisterWorker(ch.ctx, &types.MsgUnregisterWorker{Worker: ch.addr(i).String()})
		require.NoError(t, err)
	}
	due := ch.atHeight(ch.ctx.BlockHeight() + period)
	require.NoError(t, due.k.EndBlocker(due.ctx))
	require.Len(t, typedEvents[*types.EventBondReturned](t, due.ctx), 2)
	left := 0
	var leftAddr sdk.AccAddress
	for i := 0; i < 3; i++ {
		if _, err := due.k.GetWorker(due.ctx, ch.addr(i)); err == nil {
			left++
			leftAddr = ch.addr(i)
		}
	}
	require.Equal(t, 1, left)
	for i := 0; i < 3; i++ {
		if !ch.addr(i).Equals(leftAddr) {
			require.Negative(t, sdkBytesCompare(ch.addr(i), leftAddr), "the released ones come first in address order")
		}
	}
	next := due.atHeight(due.ctx.BlockHeight() + 1)
	require.NoError(t, next.k.EndBlocker(next.ctx))
	require.Len(t, typedEvents[*types.EventBondReturned](t, next.ctx), 1)
	_, err := next.k.GetWorker(next.ctx, leftAddr)
	require.ErrorIs(t, err, types.ErrWorkerNotFound)
}

func sdkBytesCompare(a, b sdk.AccAddress) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
