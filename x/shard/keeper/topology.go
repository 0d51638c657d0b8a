package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/nodemetrics"
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
//     (see checkShard, split and maybeMerge), past topology_cooldown_blocks;
//  3. moves workers of the migrations under way, then plans their queue
//     moves, together at most max_migrations_per_block items (stepMigrations,
//     migration.go).
//
// It returns the queue moves for x/deferral to carry out; x/deferral reports
// each back with QueueMoved. Each shard check and each worker move runs on its
// own through isolate.Run: one that fails is rolled back alone and reported
// with EventTopologyItemFailed, and one that fails max_item_failures blocks
// in a row is quarantined (check_shard, move_worker): the rotation and the
// migrations pass over it until governance retries it (quarantine.go).
func (k Keeper) PlanTopology(ctx context.Context) ([]types.QueueMove, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	sw := nodemetrics.Start()
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
	defer nodemetrics.EndBlockStep(types.ModuleName, StepTopology, sw, uint64(len(checked)))
	if len(checked) > 0 {
		tr, err := k.ItemQuarantine.Track(ctx, types.StepCheckShard, params.MaxItemFailures)
		if err != nil {
			return nil, err
		}
		for _, id := range checked {
			item := types.ShardItem(id)
			if err := isolate.Run(sdkCtx, item, tr.Succeed(item, func(c sdk.Context) error {
				return k.checkShard(c, params, id, busy)
			}), topologyItemFailed(item)); err != nil {
				if _, err := tr.Fail(sdkCtx, item, nil, err); err != nil {
					return nil, err
				}
			}
		}
	}

	return k.stepMigrations(sdkCtx, params)
}

// topologyItemFailed builds the report of a topology item (a shard check or a
// worker move) that failed and was rolled back: EventTopologyItemFailed.
func topologyItemFailed(item string) func(error) proto.Message {
	return func(err error) proto.Message {
		return &types.EventTopologyItemFailed{Item: item, Error: err.Error()}
	}
}

// checkedShardIDs returns up to limit ACTIVE and DRAINING shard ids, starting
// at the cursor and wrapping round, and moves the cursor past them. A shard
// whose check is quarantined is passed over (one read each; the drainable
// set is bounded by the shard caps of params).
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
			quarantined, err := k.ItemQuarantine.IsQuarantined(ctx, types.StepCheckShard, types.ShardItem(id))
			if err != nil {
				return err
			}
			if quarantined {
				continue
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
		setShardMetrics(s)
		return k.maybeRetire(ctx, s)
	case types.ShardActive:
	default:
		return nil
	}
	ns := s
	ns.LoadEmaPpm = EMA(s.LoadEmaPpm, s.LoadPpm, params.LoadEmaWeightPpm)
	if s.CapacityUnits > 0 {
		// A shard without workers has no capacity to ration: its price
		// holds until workers join (its requests wait in the queue anyway).
		ns.UnitPrice = types.NextUnitPrice(params, s.UnitPrice, s.LoadPpm)
	}
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
	setShardMetrics(ns)
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

// setShardMetrics sets the node metrics' gauges of shard s from the counters
// its record keeps (queued, in flight, capacity, load): every checked shard
// once per block, with the values this block's check wrote.
func setShardMetrics(s types.Shard) {
	nodemetrics.SetShardLoad(nodemetrics.ShardLoad{
		ID: s.Id, Class: s.Class.String(), QueuedRequests: s.QueuedCount, QueuedUnits: s.QueuedUnits,
		InFlightUnits: s.InFlightUnits, CapacityUnits: s.CapacityUnits, Workers: uint64(s.WorkerCount),
		LoadPpm: uint64(s.LoadPpm), LoadEmaPpm: uint64(s.LoadEmaPpm),
	})
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

// markChange records that class changed (split or merge) in this block: its
// cooldown starts now.
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
		// And its price: a split must not open a cheap lane into a
		// congested class.
		UnitPrice: types.EffectiveUnitPrice(params, parent).Amount,
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
	return events.Emit(ctx, &types.EventShardSplit{
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

// merge puts from DRAINING and starts a MERGE migration of its workers and
// queue into into.
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
	if err := events.Emit(ctx, &types.EventShardMerge{
		Class: from.Class, FromShardId: from.Id, IntoShardId: into.Id,
		FromLoadEmaPpm: from.LoadEmaPpm, IntoLoadEmaPpm: into.LoadEmaPpm,
	}); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventShardDrainStarted{ShardId: from.Id, IntoShardId: into.Id})
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
	setShardMetrics(ns)
	if err := k.Migrations.Remove(ctx, s.Id); err != nil {
		return err
	}
	if err := k.logChange(ctx, types.TopologyChange{
		Kind: types.ChangeRetire, Class: s.Class, ShardId: s.Id, OtherShardId: s.MergedInto,
	}); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventShardRetired{ShardId: s.Id, MergedInto: s.MergedInto})
}

func (k Keeper) hasAttachedWorker(ctx context.Context, shardID uint64) (bool, error) {
	iter, err := k.WorkersByShard.Iterate(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](shardID))
	if err != nil {
		return false, err
	}
	defer iter.Close()
	return iter.Valid(), nil
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
