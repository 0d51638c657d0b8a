package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/shard/types"
)

// Migrations. A split or a merge (topology.go) starts a migration out of one
// shard into another of its class. In each block, within
// max_migrations_per_block items for all migrations together, stepMigration
// moves some of its workers and plans a batch of its queued requests, which
// x/deferral (the queue is its state) moves and reports back with QueueMoved.
// A SPLIT migration ends in QueueMoved once its workers and requests have
// moved (or the parent's queue is empty); a MERGE migration ends when the
// DRAINING shard retires (maybeRetire).

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
		if err := events.Emit(ctx, &types.EventMigrationBatch{
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

// stepMigrations runs one block of every migration under way, in from-shard
// order, until max_migrations_per_block items (workers moved + requests
// planned) are used. It returns the queue moves for x/deferral to carry out.
func (k Keeper) stepMigrations(ctx sdk.Context, params types.Params) ([]types.QueueMove, error) {
	migrations, err := k.migrationsInOrder(ctx)
	if err != nil {
		return nil, err
	}
	if len(migrations) == 0 {
		return nil, nil
	}
	tr, err := k.ItemQuarantine.Track(ctx, types.StepMoveWorker, params.MaxItemFailures)
	if err != nil {
		return nil, err
	}
	budget := uint64(params.MaxMigrationsPerBlock)
	var moves []types.QueueMove
	for _, m := range migrations {
		if budget == 0 {
			break
		}
		move, used, err := k.stepMigration(ctx, tr, m, budget)
		if err != nil {
			return nil, err
		}
		budget -= used
		moves = append(moves, move)
	}
	return moves, nil
}

// stepMigration moves up to budget workers of m, each in its own cached
// context (a move that fails is rolled back alone, reported with
// EventTopologyItemFailed, and still spends its slot; at max_item_failures
// failures in a row it is quarantined, and workersToMove passes over the
// worker), then plans up to the rest of the budget of its queued requests.
// It returns the queue move and the budget used (workers moved + requests
// planned).
func (k Keeper) stepMigration(ctx sdk.Context, tr *quarantine.Tracker, m types.Migration, budget uint64) (types.QueueMove, uint64, error) {
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
		item := types.WorkerItem(addr)
		err := isolate.Run(ctx, item, tr.Succeed(item, func(c sdk.Context) error {
			return k.moveWorker(c, addr, m.FromShardId, m.ToShardId)
		}), topologyItemFailed(item))
		if err == nil {
			movedWorkers++
			continue
		}
		// The workers-by-shard entry the move kept failing on: a drop
		// removes it when it turns out stale.
		entry, kerr := quarantine.EncodeKey(k.WorkersByShard.KeyCodec(), collections.Join(m.FromShardId, addr))
		if kerr != nil {
			return move, 0, fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, kerr)
		}
		if _, err := tr.Fail(ctx, item, entry, err); err != nil {
			return move, 0, err
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
// address order), for a merge the lowest addresses left in the draining
// shard; a worker whose move is quarantined is passed over.
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
		quarantined, err := k.ItemQuarantine.IsQuarantined(ctx, types.StepMoveWorker, types.WorkerItem(key.K2()))
		if err != nil {
			return nil, err
		}
		if quarantined {
			continue
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
