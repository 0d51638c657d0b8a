package app

import (
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/internal/quarantine"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// CheckInvariants checks the invariants of docs/architecture.md across the four repshard
// modules and returns every violation found. It reads whole collections, so
// it runs in tests and simulations after each block, never inside a block.
//
//   - escrow balance = Σ fees of QUEUED and ASSIGNED requests;
//   - rewards balance ≥ Σ unclaimed worker earnings + undistributed pool;
//     the reward pool's book balances: funded = epoch rewards claimed + owed
//   - unsettled + pool + dust (x/rewards CheckAccounting);
//   - shard bond balance = Σ worker bonds;
//   - x/shard's free-capacity index holds exactly one entry per ACTIVE,
//     unpaused worker with free units, under its score tier and free units,
//     with its storage;
//   - every QUEUED request is in exactly one queue entry — none when the
//     drain or a shard move quarantined it (internal/quarantine) — and every
//     queue entry points to a QUEUED request;
//   - shard in-flight units = Σ compute units of its ASSIGNED requests, and likewise per worker;
//     shard queued units and count = Σ of its QUEUED requests; worker in-flight ≤ capacity;
//   - the network totals of x/shard = Σ over ACTIVE shards;
//   - topology: each class has between min_shards_per_class and
//     max_shards_per_class ACTIVE shards; the class index holds exactly the
//     ACTIVE shards (routing never reaches a DRAINING or RETIRED shard) and
//     the drainable set exactly the ACTIVE and DRAINING ones; a shard's worker
//     count and capacity are those of its ACTIVE workers; no worker is
//     attached to a RETIRED shard and a RETIRED shard holds nothing; every
//     migration runs between
//     two shards of one class into an ACTIVE one.
func (app *App) CheckInvariants(ctx sdk.Context) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	type load struct{ inFlight, queuedUnits, queuedCount uint64 }
	shardLoad := map[uint64]*load{}
	workerLoad := map[string]uint64{}
	openFees := sdkmath.ZeroInt()
	queued, outOfQueue := 0, 0
	err := app.DeferralKeeper.Requests.Walk(ctx, nil, func(id uint64, r deferraltypes.Request) (bool, error) {
		l := shardLoad[r.ShardId]
		if l == nil {
			l = &load{}
			shardLoad[r.ShardId] = l
		}
		switch r.Status {
		case deferraltypes.StatusQueued:
			queued++
			openFees = openFees.Add(r.Fee.Amount)
			l.queuedUnits += r.ComputeUnits
			l.queuedCount++
			has, err := app.DeferralKeeper.Queue.Has(ctx, collections.Join3(r.ShardId, uint64(r.DueHeight), id))
			if err != nil {
				return true, err
			}
			out, err := queueQuarantined(ctx, app.DeferralKeeper.ItemQuarantine, id)
			if err != nil {
				return true, err
			}
			switch {
			case out && has:
				fail("queued request %d is quarantined out of its queue and still has a queue entry", id)
			case out:
				outOfQueue++
			case !has:
				fail("queued request %d has no queue entry", id)
			}
		case deferraltypes.StatusAssigned:
			openFees = openFees.Add(r.Fee.Amount)
			if r.Replicas <= 1 {
				l.inFlight += r.ComputeUnits
				workerLoad[r.Worker] += r.ComputeUnits
			}
		}
		if r.Replicas > 1 {
			checkReplicas(r, fail)
			for _, run := range r.ReplicaRuns {
				if run.Status == deferraltypes.ReplicaRunning {
					l.inFlight += r.ComputeUnits
					workerLoad[run.Worker] += r.ComputeUnits
				}
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	entries := 0
	err = app.DeferralKeeper.Queue.Walk(ctx, nil, func(key collections.Triple[uint64, uint64, uint64]) (bool, error) {
		entries++
		r, err := app.DeferralKeeper.Requests.Get(ctx, key.K3())
		switch {
		case err != nil:
			fail("queue entry %v points to no request: %v", key, err)
		case r.Status != deferraltypes.StatusQueued || r.ShardId != key.K1() || uint64(r.DueHeight) != key.K2():
			fail("queue entry %v points to request %d that is %s in shard %d due %d", key, r.Id, r.Status, r.ShardId, r.DueHeight)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if entries != queued-outOfQueue {
		fail("%d queue entries for %d queued requests (%d quarantined out of the queue)", entries, queued, outOfQueue)
	}

	if escrow := app.RewardsKeeper.EscrowBalance(ctx); !escrow.Equal(openFees) {
		fail("escrow balance %s, Σ fees of open requests %s", escrow, openFees)
	}
	if err := app.RewardsKeeper.CheckAccounting(ctx); err != nil {
		errs = append(errs, err)
	}

	totals := shardtypes.NetworkTotals{}
	err = app.ShardKeeper.Shards.Walk(ctx, nil, func(id uint64, s shardtypes.Shard) (bool, error) {
		l := shardLoad[id]
		if l == nil {
			l = &load{}
		}
		if s.InFlightUnits != l.inFlight || s.QueuedUnits != l.queuedUnits || s.QueuedCount != l.queuedCount {
			fail("shard %d counts in-flight %d, queued %d units / %d requests; its requests add up to %d, %d / %d",
				id, s.InFlightUnits, s.QueuedUnits, s.QueuedCount, l.inFlight, l.queuedUnits, l.queuedCount)
		}
		if s.Status == shardtypes.ShardActive {
			totals.CapacityUnits += s.CapacityUnits
			totals.LoadUnits += s.InFlightUnits + s.QueuedUnits
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	recordedTotals, err := app.ShardKeeper.Totals.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	if recordedTotals != totals {
		fail("network totals %+v, Σ active shards %+v", recordedTotals, totals)
	}

	byShard := map[uint64]*attachedWorkers{}
	bonds := sdkmath.ZeroInt()
	free := 0 // ACTIVE, unpaused workers with free units: one free-capacity entry each
	err = app.ShardKeeper.Workers.Walk(ctx, nil, func(addr sdk.AccAddress, w shardtypes.Worker) (bool, error) {
		bonds = bonds.Add(w.Bond.Amount)
		a := byShard[w.ShardId]
		if a == nil {
			a = &attachedWorkers{}
			byShard[w.ShardId] = a
		}
		a.any = true
		if w.Status == shardtypes.WorkerActive {
			a.workers++
			a.capacity += w.CapacityUnits
		}
		if has, err := app.ShardKeeper.WorkersByShard.Has(ctx, collections.Join(w.ShardId, addr)); err != nil || !has {
			fail("worker %s of shard %d is not in the workers-by-shard index (%v)", w.Address, w.ShardId, err)
		}
		if w.InFlightUnits != workerLoad[w.Address] {
			fail("worker %s counts %d units in flight; its assignments add up to %d", w.Address, w.InFlightUnits, workerLoad[w.Address])
		}
		if w.InFlightUnits > w.CapacityUnits {
			fail("worker %s has %d units in flight over its capacity %d", w.Address, w.InFlightUnits, w.CapacityUnits)
		}
		if w.Status == shardtypes.WorkerActive && !w.Paused && w.InFlightUnits < w.CapacityUnits {
			free++
			key := collections.Join4(w.ShardId, shardtypes.MaxWorkerTier-shardtypes.WorkerTier(w.ScorePpm), w.CapacityUnits-w.InFlightUnits, addr)
			if storage, err := app.ShardKeeper.FreeCapacity.Get(ctx, key); err != nil || storage != w.StorageBytes {
				fail("worker %s (tier %d, %d free, storage %d) has no matching free-capacity entry: %d, %v",
					w.Address, shardtypes.WorkerTier(w.ScorePpm), w.CapacityUnits-w.InFlightUnits, w.StorageBytes, storage, err)
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	freeEntries := 0
	if err := app.ShardKeeper.FreeCapacity.Walk(ctx, nil, func(shardkeeper.FreeKey, uint64) (bool, error) {
		freeEntries++
		return false, nil
	}); err != nil {
		return err
	}
	if freeEntries != free {
		fail("the free-capacity index has %d entries; %d ACTIVE, unpaused workers have free units", freeEntries, free)
	}
	if err := app.checkTopology(ctx, byShard, fail); err != nil {
		return err
	}
	held := app.BankKeeper.GetBalance(ctx, app.AccountKeeper.GetModuleAddress(shardtypes.ModuleName), chaincfg.BondDenom).Amount
	if !held.Equal(bonds) {
		fail("x/shard holds %s of bonds; workers' bonds add up to %s", held, bonds)
	}
	return errors.Join(errs...)
}

// checkReplicas checks the replica accounting of one replicated request: the
// fee is a whole number of shares, one per possible replica; the replicas
// run on distinct workers, never the requester, and no more of them than
// the replicas and the tie-break replicas used; a QUEUED request has none
// running and replicas pending, an ASSIGNED one has some running, a finished
// one none.
func checkReplicas(r deferraltypes.Request, fail func(string, ...any)) {
	shares := int64(r.Replicas + r.TiebreakBudget)
	if !r.Fee.Amount.ModRaw(shares).IsZero() {
		fail("request %d: fee %s is not %d equal shares", r.Id, r.Fee, shares)
	}
	if r.TiebreakUsed > r.TiebreakBudget || uint32(len(r.ReplicaRuns)) > r.Replicas+r.TiebreakUsed {
		fail("request %d: %d replica runs, %d tie-break used of %d", r.Id, len(r.ReplicaRuns), r.TiebreakUsed, r.TiebreakBudget)
	}
	running := 0
	seen := map[string]bool{}
	for _, run := range r.ReplicaRuns {
		if run.Worker == r.Requester || seen[run.Worker] {
			fail("request %d: replica on %s (the requester, or twice)", r.Id, run.Worker)
		}
		seen[run.Worker] = true
		if run.Status == deferraltypes.ReplicaRunning {
			running++
		}
	}
	switch r.Status {
	case deferraltypes.StatusQueued:
		if running != 0 || r.ReplicasPending == 0 {
			fail("request %d: queued with %d replicas running and %d pending", r.Id, running, r.ReplicasPending)
		}
	case deferraltypes.StatusAssigned:
		if running == 0 || r.ReplicasPending != 0 {
			fail("request %d: assigned with %d replicas running and %d pending", r.Id, running, r.ReplicasPending)
		}
	default:
		if running != 0 {
			fail("request %d: %s with %d replicas running", r.Id, r.Status, running)
		}
	}
}

// attachedWorkers sums the workers attached to one shard.
type attachedWorkers struct {
	workers  uint32 // ACTIVE ones
	capacity uint64 // of the ACTIVE ones
	any      bool   // any worker, ACTIVE or UNBONDING
}

// checkTopology checks the topology invariants listed on CheckInvariants.
func (app *App) checkTopology(ctx sdk.Context, byShard map[uint64]*attachedWorkers, fail func(string, ...any)) error {
	params, err := app.ShardKeeper.Params.Get(ctx)
	if err != nil {
		return err
	}
	active := map[shardtypes.ShardClass]uint32{}
	shards := map[uint64]shardtypes.Shard{}
	err = app.ShardKeeper.Shards.Walk(ctx, nil, func(id uint64, s shardtypes.Shard) (bool, error) {
		shards[id] = s
		inClass, err := app.ShardKeeper.ShardsByClass.Has(ctx, collections.Join(int32(s.Class), id))
		if err != nil {
			return true, err
		}
		drainable, err := app.ShardKeeper.DrainableShards.Has(ctx, id)
		if err != nil {
			return true, err
		}
		isActive := s.Status == shardtypes.ShardActive
		if inClass != isActive {
			fail("shard %d is %s but in the routing index: %v", id, s.Status, inClass)
		}
		if drainable != (isActive || s.Status == shardtypes.ShardDraining) {
			fail("shard %d is %s but in the drainable set: %v", id, s.Status, drainable)
		}
		if isActive {
			active[s.Class]++
		}
		var a attachedWorkers
		if p := byShard[id]; p != nil {
			a = *p
		}
		if s.WorkerCount != a.workers || s.CapacityUnits != a.capacity {
			fail("shard %d counts %d workers / %d capacity; its ACTIVE workers add up to %d / %d",
				id, s.WorkerCount, s.CapacityUnits, a.workers, a.capacity)
		}
		if s.Status == shardtypes.ShardRetired && (a.any || s.QueuedCount != 0 || s.InFlightUnits != 0 || s.CapacityUnits != 0) {
			fail("retired shard %d is not empty: workers %v, queued %d, in flight %d", id, a.any, s.QueuedCount, s.InFlightUnits)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	for id := range byShard { // detcheck:ok test-only invariant check, order does not matter
		if _, ok := shards[id]; !ok {
			fail("workers attached to unknown shard %d", id)
		}
	}
	for _, c := range shardtypes.AllClasses {
		if n := active[c]; n < params.MinShardsPerClass || n > params.MaxShardsPerClass {
			fail("class %s has %d ACTIVE shards, outside [%d, %d]", c, n, params.MinShardsPerClass, params.MaxShardsPerClass)
		}
	}
	return app.ShardKeeper.Migrations.Walk(ctx, nil, func(from uint64, m shardtypes.Migration) (bool, error) {
		f, okF := shards[from]
		t, okT := shards[m.ToShardId]
		switch {
		case !okF || !okT || from != m.FromShardId:
			fail("migration %d -> %d names unknown shards", from, m.ToShardId)
		case f.Class != t.Class || t.Status != shardtypes.ShardActive || f.Status == shardtypes.ShardRetired:
			fail("migration %d (%s, %s) -> %d (%s, %s)", from, f.Class, f.Status, m.ToShardId, t.Class, t.Status)
		}
		return false, nil
	})
}

// queueQuarantined reports whether request id was quarantined by a step
// whose index is the queue (the drain, a move between shards): it has no
// queue entry then.
func queueQuarantined(ctx sdk.Context, q quarantine.Store, id uint64) (bool, error) {
	for _, step := range []string{deferraltypes.StepDrainQueues, deferraltypes.StepShardTopology} {
		has, err := q.IsQuarantined(ctx, step, deferraltypes.RequestItem(id))
		if err != nil || has {
			return has, err
		}
	}
	return false, nil
}
