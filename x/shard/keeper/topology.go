package keeper

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/shard/types"
)

// PlanTopology is x/shard's part of the EndBlock topology step (step 3 of
// x/deferral's EndBlock, which owns the queues). In one block it:
//
//  1. checks at most max_topology_checks_per_block ACTIVE and DRAINING shards,
//     round robin from a cursor: an ACTIVE shard's load EMA and its
//     above-split / below-merge block counters are updated; a DRAINING shard
//     with no worker, no queued and no in-flight work becomes RETIRED;
//  2. among the checked shards, starts at most one split or merge per class
//     (see maybeSplit and maybeMerge), past topology_cooldown_blocks;
//  3. moves workers of the migrations under way, then plans their queue
//     moves, together at most max_migrations_per_block items.
//
// It returns the queue moves for x/deferral to carry out; x/deferral reports
// each back with QueueMoved. Each shard check and each worker move runs in its
// own cached context: one that fails is rolled back alone and reported with
// EventTopologyItemFailed.
func (k Keeper) PlanTopology(ctx context.Context) ([]types.QueueMove, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	migrations, err := k.migrationsInOrder(ctx)
	if err != nil {
		return nil, err
	}
	busy := map[uint64]bool{} // shards in a migration, either end (looked up, never ranged)
	for _, m := range migrations {
		busy[m.FromShardId], busy[m.ToShardId] = true, true
	}

	checked, err := k.checkedShardIDs(ctx, params.MaxTopologyChecksPerBlock)
	if err != nil {
		return nil, err
	}
	for _, id := range checked {
		k.runIsolated(sdkCtx, "shard/"+strconv.FormatUint(id, 10), func(c sdk.Context) error {
			return k.checkShard(c, params, id, busy)
		})
	}

	migrations, err = k.migrationsInOrder(ctx)
	if err != nil {
		return nil, err
	}
	budget := uint64(params.MaxMigrationsPerBlock)
	var moves []types.QueueMove
	for _, m := range migrations {
		if budget == 0 {
			break
		}
		move, used, err := k.stepMigration(sdkCtx, m, budget)
		if err != nil {
			return nil, err
		}
		budget -= used
		moves = append(moves, move)
	}
	return moves, nil
}

// QueueMoved records that x/deferral moved `moved` queued requests for the
// migration out of fromShardID in this block (moved may be 0). It emits the
// block's EventMigrationBatch and finishes a split migration once its workers
// and requests have moved (or the parent's queue is empty).
func (k Keeper) QueueMoved(ctx context.Context, fromShardID, moved uint64) error {
	m, err := k.Migrations.Get(ctx, fromShardID)
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	m.RequestsMoved += moved
	workers := uint64(0)
	if m.BatchHeight == sdkCtx.BlockHeight() {
		workers = m.BatchWorkers
	}
	done := false
	if m.Kind == types.MigrationSplit && m.WorkersMoved >= m.WorkersToMove {
		from, err := k.getShard(ctx, fromShardID)
		if err != nil {
			return err
		}
		done = m.RequestsMoved >= m.RequestsToMove || from.QueuedCount == 0
	}
	if workers > 0 || moved > 0 || done {
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventMigrationBatch{
			Kind: m.Kind, FromShardId: m.FromShardId, ToShardId: m.ToShardId,
			WorkersMoved: workers, RequestsMoved: moved, Done: done,
		}); err != nil {
			return err
		}
	}
	if done {
		if err := k.Migrations.Remove(ctx, fromShardID); err != nil {
			return err
		}
		return k.logChange(ctx, types.TopologyChange{
			Kind: types.ChangeMigrationDone, Class: m.Class, ShardId: m.FromShardId, OtherShardId: m.ToShardId,
		})
	}
	return k.Migrations.Set(ctx, fromShardID, m)
}

// runIsolated runs fn in a cached context; its writes and events are kept
// only when it succeeds (no panic, no error). A failure is reported with
// EventTopologyItemFailed.
func (k Keeper) runIsolated(ctx sdk.Context, item string, fn func(sdk.Context) error) bool {
	cacheCtx, write := ctx.CacheContext()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return fn(cacheCtx)
	}()
	if err != nil {
		ctx.Logger().Error("x/shard topology item failed; rolled back", "item", item, "err", err)
		_ = ctx.EventManager().EmitTypedEvent(&types.EventTopologyItemFailed{Item: item, Error: err.Error()})
		return false
	}
	write()
	return true
}

// migrationsInOrder returns the migrations under way in from-shard order.
// There are at most as many as ACTIVE and DRAINING shards (bounded by the
// shard caps of params).
func (k Keeper) migrationsInOrder(ctx context.Context) ([]types.Migration, error) {
	iter, err := k.Migrations.Iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	return iter.Values()
}

// checkedShardIDs returns up to limit ACTIVE and DRAINING shard ids, starting
// at the cursor and wrapping round, and moves the cursor past them.
func (k Keeper) checkedShardIDs(ctx context.Context, limit uint32) ([]uint64, error) {
	cursor, err := k.TopologyCursor.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	var ids []uint64
	collect := func(rng *collections.Range[uint64]) error {
		iter, err := k.DrainableShards.Iterate(ctx, rng)
		if err != nil {
			return err
		}
		defer iter.Close()
		for ; iter.Valid() && uint32(len(ids)) < limit; iter.Next() {
			id, err := iter.Key()
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	}
	if err := collect(new(collections.Range[uint64]).StartInclusive(cursor)); err != nil {
		return nil, err
	}
	if uint32(len(ids)) < limit && cursor > 0 {
		if err := collect(new(collections.Range[uint64]).EndExclusive(cursor)); err != nil {
			return nil, err
		}
	}
	next := uint64(0)
	if len(ids) > 0 {
		next = ids[len(ids)-1] + 1
	}
	return ids, k.TopologyCursor.Set(ctx, next)
}

// EMA is the load EMA after one more block: (w·load + (1−w)·ema), in ppm.
func EMA(emaPpm, loadPpm, weightPpm uint32) uint32 {
	return uint32((uint64(weightPpm)*uint64(loadPpm) + uint64(ppm.Max-weightPpm)*uint64(emaPpm)) / ppm.Max)
}

// checkShard is one shard's topology check.
func (k Keeper) checkShard(ctx sdk.Context, params types.Params, id uint64, busy map[uint64]bool) error {
	s, err := k.getShard(ctx, id)
	if err != nil {
		return err
	}
	switch s.Status {
	case types.ShardDraining:
		return k.maybeRetire(ctx, s)
	case types.ShardActive:
	default:
		return nil
	}
	ns := s
	ns.LoadEmaPpm = EMA(s.LoadEmaPpm, s.LoadPpm, params.LoadEmaWeightPpm)
	ns.BlocksAboveSplit, ns.BlocksBelowMerge = 0, 0
	if ns.LoadEmaPpm > params.SplitLoadThresholdPpm {
		ns.BlocksAboveSplit = s.BlocksAboveSplit + 1
	}
	if ns.LoadEmaPpm < params.MergeLoadThresholdPpm {
		ns.BlocksBelowMerge = s.BlocksBelowMerge + 1
	}
	if err := k.setShard(ctx, &s, ns); err != nil {
		return err
	}
	if busy[id] {
		return nil
	}
	ready, err := k.pastCooldown(ctx, params, ns.Class)
	if err != nil || !ready {
		return err
	}
	ids, err := k.activeShardIDsOfClass(ctx, ns.Class)
	if err != nil {
		return err
	}
	count := uint32(len(ids))
	if ns.BlocksAboveSplit >= params.SustainBlocks && ns.WorkerCount >= 2 && count < params.MaxShardsPerClass {
		return k.split(ctx, params, ns, busy)
	}
	if ns.BlocksBelowMerge >= params.SustainBlocks && count > params.MinShardsPerClass {
		return k.maybeMerge(ctx, params, ns, ids, busy)
	}
	return nil
}

// pastCooldown reports whether a class may change now: no split or merge in
// the last topology_cooldown_blocks blocks, and none in this block.
func (k Keeper) pastCooldown(ctx sdk.Context, params types.Params, class types.ShardClass) (bool, error) {
	ct, err := k.ClassTopology.Get(ctx, int32(class))
	if errors.Is(err, collections.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	h := ctx.BlockHeight()
	cooldown := params.TopologyCooldownBlocks
	if cooldown > 1<<40 {
		cooldown = 1 << 40
	}
	return h > ct.LastChangeHeight && h-ct.LastChangeHeight >= int64(cooldown), nil
}

func (k Keeper) markChange(ctx sdk.Context, class types.ShardClass) error {
	return k.ClassTopology.Set(ctx, int32(class), types.ClassTopology{Class: class, LastChangeHeight: ctx.BlockHeight()})
}

// split creates a new ACTIVE shard of the parent's class and starts a SPLIT
// migration: the upper half of the parent's workers in address order and
// every other request of its queue (at most max_migrations_per_block ×
// sustain_blocks of them) move to the child.
func (k Keeper) split(ctx sdk.Context, params types.Params, parent types.Shard, busy map[uint64]bool) error {
	childID, err := k.ShardSeq.Next(ctx)
	if err != nil {
		return err
	}
	child := types.Shard{
		Id: childID, Class: parent.Class, Status: types.ShardActive, ParentId: parent.Id,
		CreatedHeight: ctx.BlockHeight(),
		// The child shares the parent's load history, so it neither merges
		// back at once nor splits again before it has load of its own.
		LoadEmaPpm: parent.LoadEmaPpm,
	}
	if err := k.setShard(ctx, nil, child); err != nil {
		return err
	}
	if err := k.Children.Set(ctx, collections.Join(parent.Id, childID)); err != nil {
		return err
	}
	np := parent
	np.BlocksAboveSplit = 0
	if err := k.setShard(ctx, &parent, np); err != nil {
		return err
	}
	m := types.Migration{
		FromShardId: parent.Id, ToShardId: childID, Kind: types.MigrationSplit, Class: parent.Class,
		StartedHeight: ctx.BlockHeight(), WorkersToMove: uint64(parent.WorkerCount / 2),
		// Half the queue, but no more than sustain_blocks blocks of
		// migration: a long backlog must not keep the class from reacting
		// again; new requests spread over both shards anyway.
		RequestsToMove: min(parent.QueuedCount/2, uint64(params.MaxMigrationsPerBlock)*params.SustainBlocks),
	}
	if err := k.Migrations.Set(ctx, parent.Id, m); err != nil {
		return err
	}
	busy[parent.Id], busy[childID] = true, true
	if err := k.markChange(ctx, parent.Class); err != nil {
		return err
	}
	if err := k.logChange(ctx, types.TopologyChange{
		Kind: types.ChangeSplit, Class: parent.Class, ShardId: parent.Id, OtherShardId: childID, LoadEmaPpm: parent.LoadEmaPpm,
	}); err != nil {
		return err
	}
	return ctx.EventManager().EmitTypedEvent(&types.EventShardSplit{
		Class: parent.Class, ParentShardId: parent.Id, ChildShardId: childID, LoadEmaPpm: parent.LoadEmaPpm,
		WorkersToMove: m.WorkersToMove, RequestsToMove: m.RequestsToMove,
	})
}

// maybeMerge merges s with another ACTIVE shard of its class that has also
// been below the merge threshold for sustain_blocks and is in no migration
// (the lowest such id), when their workers fit in one shard. The smaller of
// the two (by capacity, then workers; the higher id on a tie) goes DRAINING.
func (k Keeper) maybeMerge(ctx sdk.Context, params types.Params, s types.Shard, classIDs []uint64, busy map[uint64]bool) error {
	for _, id := range classIDs {
		if id == s.Id || busy[id] {
			continue
		}
		other, err := k.getShard(ctx, id)
		if err != nil {
			return err
		}
		if other.BlocksBelowMerge < params.SustainBlocks ||
			uint64(other.WorkerCount)+uint64(s.WorkerCount) > uint64(params.MaxWorkersPerShard) {
			continue
		}
		from, into := s, other
		if smaller(into, from) {
			from, into = into, from
		}
		return k.merge(ctx, from, into, busy)
	}
	return nil
}

// smaller reports whether a is the shard of a merge that drains rather than b.
func smaller(a, b types.Shard) bool {
	if a.CapacityUnits != b.CapacityUnits {
		return a.CapacityUnits < b.CapacityUnits
	}
	if a.WorkerCount != b.WorkerCount {
		return a.WorkerCount < b.WorkerCount
	}
	return a.Id > b.Id
}

func (k Keeper) merge(ctx sdk.Context, from, into types.Shard, busy map[uint64]bool) error {
	nf := from
	nf.Status = types.ShardDraining
	nf.MergedInto = into.Id
	nf.BlocksBelowMerge, nf.BlocksAboveSplit = 0, 0
	if err := k.setShard(ctx, &from, nf); err != nil {
		return err
	}
	ni := into
	ni.BlocksBelowMerge = 0
	if err := k.setShard(ctx, &into, ni); err != nil {
		return err
	}
	if err := k.Migrations.Set(ctx, from.Id, types.Migration{
		FromShardId: from.Id, ToShardId: into.Id, Kind: types.MigrationMerge, Class: from.Class,
		StartedHeight: ctx.BlockHeight(),
	}); err != nil {
		return err
	}
	busy[from.Id], busy[into.Id] = true, true
	if err := k.markChange(ctx, from.Class); err != nil {
		return err
	}
	if err := k.logChange(ctx, types.TopologyChange{
		Kind: types.ChangeMerge, Class: from.Class, ShardId: from.Id, OtherShardId: into.Id, LoadEmaPpm: from.LoadEmaPpm,
	}); err != nil {
		return err
	}
	em := ctx.EventManager()
	if err := em.EmitTypedEvent(&types.EventShardMerge{
		Class: from.Class, FromShardId: from.Id, IntoShardId: into.Id,
		FromLoadEmaPpm: from.LoadEmaPpm, IntoLoadEmaPpm: into.LoadEmaPpm,
	}); err != nil {
		return err
	}
	return em.EmitTypedEvent(&types.EventShardDrainStarted{ShardId: from.Id, IntoShardId: into.Id})
}

// maybeRetire retires a DRAINING shard under a merge migration once it has
// no attached worker, nothing queued and nothing in flight, and ends the
// migration. (A DRAINING shard a genesis file sets up without a migration is
// left as it is: nothing is moved out of it.)
func (k Keeper) maybeRetire(ctx sdk.Context, s types.Shard) error {
	if s.QueuedCount != 0 || s.InFlightUnits != 0 || s.WorkerCount != 0 {
		return nil
	}
	if has, err := k.Migrations.Has(ctx, s.Id); err != nil || !has {
		return err
	}
	has, err := k.hasAttachedWorker(ctx, s.Id)
	if err != nil || has {
		return err
	}
	ns := s
	ns.Status = types.ShardRetired
	ns.LoadEmaPpm, ns.BlocksAboveSplit, ns.BlocksBelowMerge = 0, 0, 0
	if err := k.setShard(ctx, &s, ns); err != nil {
		return err
	}
	if err := k.Migrations.Remove(ctx, s.Id); err != nil {
		return err
	}
	if err := k.logChange(ctx, types.TopologyChange{
		Kind: types.ChangeRetire, Class: s.Class, ShardId: s.Id, OtherShardId: s.MergedInto,
	}); err != nil {
		return err
	}
	return ctx.EventManager().EmitTypedEvent(&types.EventShardRetired{ShardId: s.Id, MergedInto: s.MergedInto})
}

func (k Keeper) hasAttachedWorker(ctx context.Context, shardID uint64) (bool, error) {
	iter, err := k.WorkersByShard.Iterate(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](shardID))
	if err != nil {
		return false, err
	}
	defer iter.Close()
	return iter.Valid(), nil
}

// stepMigration moves up to budget workers of m, then plans up to the rest of
// the budget of its queued requests. It returns the queue move and the
// budget used (workers moved + requests planned).
func (k Keeper) stepMigration(ctx sdk.Context, m types.Migration, budget uint64) (types.QueueMove, uint64, error) {
	move := types.QueueMove{FromShardId: m.FromShardId, ToShardId: m.ToShardId, EveryOther: m.Kind == types.MigrationSplit}
	want := budget
	if m.Kind == types.MigrationSplit {
		// Half the parent's workers at the split, but never past an even
		// split of the workers both shards have now (workers may have left
		// in the meantime); once balanced, the worker part is done.
		from, err := k.getShard(ctx, m.FromShardId)
		if err != nil {
			return move, 0, err
		}
		to, err := k.getShard(ctx, m.ToShardId)
		if err != nil {
			return move, 0, err
		}
		balance := uint64(0)
		if from.WorkerCount > to.WorkerCount {
			balance = uint64(from.WorkerCount-to.WorkerCount) / 2
		}
		left := m.WorkersToMove - min(m.WorkersMoved, m.WorkersToMove)
		if balance < left {
			m.WorkersToMove -= left - balance
			left = balance
		}
		want = min(want, left)
	}
	addrs, err := k.workersToMove(ctx, m, want)
	if err != nil {
		return move, 0, err
	}
	var movedWorkers uint64
	for _, addr := range addrs {
		if k.runIsolated(ctx, "worker/"+addr.String(), func(c sdk.Context) error {
			return k.moveWorker(c, addr, m.FromShardId, m.ToShardId)
		}) {
			movedWorkers++
		}
	}
	used := uint64(len(addrs)) // a failed move still spent its slot
	m.WorkersMoved += movedWorkers
	m.BatchHeight, m.BatchWorkers = ctx.BlockHeight(), movedWorkers
	if err := k.Migrations.Set(ctx, m.FromShardId, m); err != nil {
		return move, 0, err
	}

	from, err := k.getShard(ctx, m.FromShardId)
	if err != nil {
		return move, 0, err
	}
	requests := from.QueuedCount
	if m.Kind == types.MigrationSplit {
		requests = min(requests, m.RequestsToMove-min(m.RequestsMoved, m.RequestsToMove))
	}
	move.Max = min(requests, budget-used)
	return move, used + move.Max, nil
}

// workersToMove lists up to limit workers to move next: for a split the
// highest addresses of ACTIVE workers still in the parent (the upper half in
// address order),
// for a merge the lowest addresses left in the draining shard.
func (k Keeper) workersToMove(ctx context.Context, m types.Migration, limit uint64) ([]sdk.AccAddress, error) {
	if limit == 0 {
		return nil, nil
	}
	var rng collections.Ranger[collections.Pair[uint64, sdk.AccAddress]]
	if m.Kind == types.MigrationSplit {
		rng = collections.NewPrefixedPairRange[uint64, sdk.AccAddress](m.FromShardId).Descending()
	} else {
		rng = collections.NewPrefixedPairRange[uint64, sdk.AccAddress](m.FromShardId)
	}
	iter, err := k.WorkersByShard.Iterate(ctx, rng)
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	// A split hands capacity to the new shard, so it takes only ACTIVE
	// workers: an UNBONDING one stays with the parent until its bond is
	// released. The scan past them is bounded (scanLimit); what it does not
	// reach this block it reaches in a later one, as its slot frees.
	scanLimit := 4*limit + 16
	var addrs []sdk.AccAddress
	for scanned := uint64(0); iter.Valid() && uint64(len(addrs)) < limit && scanned < scanLimit; iter.Next() {
		scanned++
		key, err := iter.Key()
		if err != nil {
			return nil, err
		}
		if m.Kind == types.MigrationSplit {
			w, err := k.getWorker(ctx, key.K2())
			if err != nil {
				return nil, err
			}
			if w.Status != types.WorkerActive {
				continue
			}
		}
		addrs = append(addrs, key.K2())
	}
	return addrs, nil
}

// moveWorker attaches a worker to another shard of the class. An ACTIVE
// worker's capacity moves with it; its in-flight units stay counted on the
// shards of the requests they belong to (RemoveInFlight takes them off there).
func (k Keeper) moveWorker(ctx context.Context, addr sdk.AccAddress, fromID, toID uint64) error {
	w, err := k.getWorker(ctx, addr)
	if err != nil {
		return err
	}
	if w.ShardId != fromID {
		return errorsmod.Wrapf(types.ErrWorkerNotInShard, "worker %s is in shard %d, not %d", addr, w.ShardId, fromID)
	}
	from, err := k.getShard(ctx, fromID)
	if err != nil {
		return err
	}
	to, err := k.getShard(ctx, toID)
	if err != nil {
		return err
	}
	if to.Status != types.ShardActive || to.Class != from.Class {
		return errorsmod.Wrapf(types.ErrShardNotOpen, "shard %d is %s of class %s", toID, to.Status, to.Class)
	}
	nf, nt := from, to
	if w.Status == types.WorkerActive {
		if nf.CapacityUnits, err = subU64(from.CapacityUnits, w.CapacityUnits, "shard capacity"); err != nil {
			return err
		}
		if nf.WorkerCount == 0 {
			return errorsmod.Wrapf(types.ErrCounterUnderflow, "shard %d worker count", fromID)
		}
		nf.WorkerCount--
		if nt.CapacityUnits, err = addU64(to.CapacityUnits, w.CapacityUnits); err != nil {
			return err
		}
		nt.WorkerCount++
	}
	nw := w
	nw.ShardId = toID
	if err := k.setWorker(ctx, addr, &w, nw); err != nil {
		return err
	}
	if err := k.setShard(ctx, &from, nf); err != nil {
		return err
	}
	return k.setShard(ctx, &to, nt)
}

// logChange appends a change to the topology log, stamped with the block
// height, and deletes the entry that falls out of the last TopologyLogSize.
func (k Keeper) logChange(ctx context.Context, c types.TopologyChange) error {
	seq, err := k.TopologyLogSeq.Next(ctx)
	if err != nil {
		return err
	}
	c.Seq = seq + 1
	c.Height = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.TopologyLog.Set(ctx, c.Seq, c); err != nil {
		return err
	}
	if c.Seq > types.TopologyLogSize {
		return k.TopologyLog.Remove(ctx, c.Seq-types.TopologyLogSize)
	}
	return nil
}
