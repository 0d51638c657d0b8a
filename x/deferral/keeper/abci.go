package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/log"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/keyscan"
	"github.com/repshard/repshard/internal/nodemetrics"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// Names of the EndBlock steps, in the order they run (endBlockSteps). They
// appear in EventEndBlockItemFailed and name the steps of the quarantine
// (types.QuarantineSteps); expire_queued is the second half of step 1.
const (
	StepExpireAssignments = types.StepExpireAssignments
	StepExpireQueued      = types.StepExpireQueued
	StepDrainQueues       = types.StepDrainQueues
	StepShardTopology     = types.StepShardTopology
	StepPruneFinished     = types.StepPruneFinished
)

// endBlockStep is one bounded step of x/deferral's EndBlock. run returns
// the number of items it processed (for the node metrics).
type endBlockStep struct {
	name string
	run  func(ctx sdk.Context, params types.Params) (items uint64, err error)
}

// endBlockSteps lists the per-block steps in the order they run:
//
//  1. expire assignments past their deadline, then queued requests past
//     their time to live (cap: max_expirations_per_block);
//  2. drain the per-shard queues to workers (cap: max_assignments_per_block,
//     drain_lookahead);
//  3. x/shard split/merge and load update (x/shard's caps);
//  4. prune finished records past the retention period (cap: max_prunes_per_block).
//
// Each step processes its items with runTracked (the drain, with many
// items, through an itemGroup, to the same effect), so one failing item is
// rolled back alone, and one that fails max_item_failures blocks in a row
// is quarantined: taken out of the step's index, so the items behind it go
// on (quarantine.go).
func (k Keeper) endBlockSteps() []endBlockStep {
	return []endBlockStep{
		{StepExpireAssignments, k.expireOverdueAssignments},
		{StepDrainQueues, k.drainQueues},
		{StepShardTopology, k.updateShardTopology},
		{StepPruneFinished, k.pruneFinishedRecords},
	}
}

// EndBlocker runs the per-block steps. It never halts the chain on the
// module's own state: an item's error is the item's (rolled back, counted,
// quarantined at the limit), and a step that cannot read its own state (its
// params, an index) is reported with EventEndBlockStepFailed and skipped for
// the block. Only a failure of the quarantine's own writes — the store
// itself is broken — is returned.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		quarantine.ReportStepFailure(sdkCtx, types.ModuleName, "params", err)
		return nil
	}
	for _, step := range k.endBlockSteps() {
		sw := nodemetrics.Start()
		items, err := step.run(sdkCtx, params)
		nodemetrics.EndBlockStep(types.ModuleName, step.name, sw, items)
		if err != nil {
			if errors.Is(err, quarantine.ErrBrokenStore) {
				return fmt.Errorf("x/%s end block step %s: %w", types.ModuleName, step.name, err)
			}
			quarantine.ReportStepFailure(sdkCtx, types.ModuleName, step.name, err)
		}
	}
	return nil
}

// RunIsolated runs fn for one item of an EndBlock step through isolate.Run,
// in a cached context. On success the item's writes and events are
// committed and true is returned. On an error, or a panic, they are
// discarded, an EventEndBlockItemFailed{Step, Item, Error} is emitted, and
// false is returned so the step can move on to the next item.
//
// A failure is logged with the module and the step; fn's context keeps the
// caller's logger.
func (k Keeper) RunIsolated(ctx sdk.Context, step, item string, fn func(ctx sdk.Context) error) (ok bool) {
	return k.runIsolated(ctx, step, item, fn) == nil
}

// runIsolated is RunIsolated returning the item's error (nil on success).
func (k Keeper) runIsolated(ctx sdk.Context, step, item string, fn func(ctx sdk.Context) error) error {
	logged := ctx.WithLogger(k.logger(ctx).With("step", step))
	run := func(c sdk.Context) error { return fn(c.WithLogger(ctx.Logger())) }
	return isolate.Run(logged, item, run, func(err error) proto.Message {
		return &types.EventEndBlockItemFailed{Step: step, Item: item, Error: err.Error()}
	})
}

// runTracked runs the item of request id, whose entry in its step's index
// set is entry, through runIsolated, followed by tr: a success clears the
// item's failure count, a failure adds to it, and the failure that reaches
// max_item_failures quarantines the item (its entry leaves set, so the step
// goes on with the entries behind it). It returns whether the item
// succeeded; its error is the quarantine's own (ErrBrokenStore).
func runTracked[K any](k Keeper, ctx sdk.Context, tr *quarantine.Tracker, set collections.KeySet[K], entry K, id uint64, fn func(ctx sdk.Context) error) (bool, error) {
	item := requestItem(id)
	err := k.runIsolated(ctx, tr.Step(), item, tr.Succeed(item, fn))
	if err == nil {
		return true, nil
	}
	return false, quarantineOnLimit(ctx, tr, set, entry, item, err)
}

// quarantineOnLimit counts a failure of item (entry in set) with cause, and
// at the limit removes entry from set: the item is quarantined.
func quarantineOnLimit[K any](ctx sdk.Context, tr *quarantine.Tracker, set collections.KeySet[K], entry K, item string, cause error) error {
	key, err := quarantine.EncodeKey(set.KeyCodec(), entry)
	if err != nil {
		return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
	}
	quarantined, err := tr.Fail(ctx, item, key, cause)
	if err != nil || !quarantined {
		return err
	}
	if err := set.Remove(ctx, entry); err != nil {
		return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
	}
	return nil
}

// drainGroupSize is how many drained requests share one cached context
// (itemGroup): a cached context of every store costs about as much as an
// assignment, so the drain commits its items in groups. (A var only for
// the test that compares it with groups of one.)
var drainGroupSize = 256

// itemGroup runs the items of an EndBlock step like RunIsolated, with the
// same outcome for each (writes, events, failure reports, in the same
// order), through an isolate.Group: the items share one cached context,
// committed every size items and at flush. An item that fails is rolled back
// alone, as with RunIsolated (isolate.Group replays the group's earlier
// items one by one). Every item must be deterministic in the state it reads,
// as every EndBlock item is.
type itemGroup struct {
	group  *isolate.Group
	step   string
	logger log.Logger
	// item is the context the last item ran in, as a context.Context, and
	// em its event manager: the items of a group share one context, which
	// is made a context.Context (a heap copy of 856 bytes) once, not once per
	// item. A context of its own (an item run alone) has an event manager
	// of its own; em is held here, so its address is not reused meanwhile.
	item context.Context
	em   sdk.EventManagerI
}

func (k Keeper) newItemGroup(ctx sdk.Context, step string, size int, hooks isolate.GroupHooks) *itemGroup {
	logged := ctx.WithLogger(k.logger(ctx).With("step", step))
	return &itemGroup{group: isolate.NewGroup(logged, size, hooks), step: step, logger: ctx.Logger()}
}

// run is runIsolated(ctx, step, item, fn) for one item of the group: nil
// when it succeeded; its writes and events reach ctx at the latest at flush.
// fn gets its context both as an sdk.Context and as a context.Context. After
// a failure no cached context of the group is open: the caller may write to
// ctx before the next item.
func (g *itemGroup) run(item string, fn func(ctx sdk.Context, cc context.Context) error) error {
	run := func(c sdk.Context) error {
		c = c.WithLogger(g.logger)
		if em := c.EventManager(); em != g.em {
			g.item, g.em = c, em
		}
		return fn(c, g.item)
	}
	return g.group.Run(item, run, func(err error) proto.Message {
		return &types.EventEndBlockItemFailed{Step: g.step, Item: item, Error: err.Error()}
	})
}

// flush commits the items run since the last commit.
func (g *itemGroup) flush() { g.group.Flush() }

// excludedWorkers are the accounts the drain must not assign req to: its
// requester (nobody serves their own request) and the workers that let an
// assignment of it expire.
func (k Keeper) excludedWorkers(req types.Request) ([]sdk.AccAddress, error) {
	out := make([]sdk.AccAddress, 0, 1+len(req.ExcludedWorkers))
	for _, a := range append([]string{req.Requester}, req.ExcludedWorkers...) {
		addr, err := k.addressCodec.StringToBytes(a)
		if err != nil {
			return nil, err
		}
		out = append(out, addr)
	}
	return out, nil
}

// expireOverdueAssignments is step 1: assignments whose deadline has passed
// are taken from their worker (who is penalised) and re-queued, or expire
// once the request has had max_attempts; then queued requests past their
// time to live expire. Both share max_expirations_per_block.
func (k Keeper) expireOverdueAssignments(ctx sdk.Context, params types.Params) (uint64, error) {
	height := uint64(ctx.BlockHeight())
	budget := uint64(params.MaxExpirationsPerBlock)
	overdue, err := dueKeys(ctx, k.Deadlines, height, budget)
	if err != nil {
		return 0, err
	}
	if len(overdue) > 0 {
		tr, err := k.ItemQuarantine.Track(ctx, StepExpireAssignments, params.MaxItemFailures)
		if err != nil {
			return 0, err
		}
		for _, key := range overdue {
			id := key.K2()
			if _, err := runTracked(k, ctx, tr, k.Deadlines, key, id, func(c sdk.Context) error {
				return k.expireAssignment(c, params, id)
			}); err != nil {
				return 0, err
			}
		}
	}
	stale, err := dueKeys(ctx, k.QueueExpiries, height, budget-uint64(len(overdue)))
	if err != nil || len(stale) == 0 {
		return uint64(len(overdue)), err
	}
	tr, err := k.ItemQuarantine.Track(ctx, StepExpireQueued, params.MaxItemFailures)
	if err != nil {
		return uint64(len(overdue)), err
	}
	for _, key := range stale {
		id := key.K2()
		if _, err := runTracked(k, ctx, tr, k.QueueExpiries, key, id, func(c sdk.Context) error {
			return k.expireQueued(c, id)
		}); err != nil {
			return uint64(len(overdue)), err
		}
	}
	return uint64(len(overdue) + len(stale)), nil
}

func (k Keeper) expireAssignment(ctx sdk.Context, params types.Params, id uint64) error {
	req, err := k.GetRequest(ctx, id)
	if err != nil {
		return err
	}
	if req.Status != types.StatusAssigned || req.DeadlineHeight > ctx.BlockHeight() {
		return fmt.Errorf("request %d in the deadline index is %s with deadline %d", id, req.Status, req.DeadlineHeight)
	}
	if pastRequesterDeadline(req, ctx.BlockHeight()) {
		return k.expireAtRequesterDeadline(ctx, params, req)
	}
	if isReplicated(req) {
		return k.expireReplicas(ctx, params, req)
	}
	worker, err := k.addressCodec.StringToBytes(req.Worker)
	if err != nil {
		return err
	}
	k.penalizeExpiry(ctx, id, worker)
	if err := events.Emit(ctx, &types.EventAssignmentExpired{
		RequestId: id, Worker: req.Worker, DeadlineHeight: req.DeadlineHeight,
	}); err != nil {
		return err
	}
	if req.Attempts < params.MaxAttempts && ctx.BlockHeight() < req.QueueExpiryHeight {
		return k.requeue(ctx, req, req)
	}
	done, err := k.finish(ctx, req, types.StatusExpired, true)
	if err != nil {
		return err
	}
	return k.refundExpired(ctx, done, false, 0)
}

// expireAtRequesterDeadline ends an ASSIGNED request whose requester's own
// deadline has come (no assignment deadline is later, assignmentDeadline):
// EXPIRED with a full refund, counted against nobody. The workers holding it
// did not miss a deadline of their own choosing: they are released, not
// penalised (no slash, no expiry on their record or reputation), and their
// capacity is freed. One exception, for a replicated request: when the
// replicas that reported already agree on a hash by a majority, that result
// was in before the deadline, and the request is decided on it as usual
// (COMPLETED, agreeing replicas paid) with the running replicas withdrawn.
// Otherwise a requester whose own second account runs one replica could void
// the payment of every replicated request by having that replica never report.
func (k Keeper) expireAtRequesterDeadline(ctx sdk.Context, params types.Params, stored types.Request) error {
	if isReplicated(stored) {
		withdrawn := withdrawReplicas(stored)
		if best, _ := tally(withdrawn); best.votes >= quorum(withdrawn) {
			if err := k.save(ctx, &stored, withdrawn, true); err != nil {
				return err
			}
			_, err := k.decide(ctx, params, withdrawn, withdrawn)
			return err
		}
	}
	done, err := k.release(ctx, stored, types.StatusExpired)
	if err != nil {
		return err
	}
	return k.refundExpired(ctx, done, false, 0)
}

// penalizeExpiry slashes the bond of a worker that let an assignment of
// request id expire and counts the expiry on its worker reputation. Both are
// best effort: a worker without bond left must not keep the request from
// moving on.
func (k Keeper) penalizeExpiry(ctx sdk.Context, id uint64, worker sdk.AccAddress) {
	k.RunIsolated(ctx, StepExpireAssignments, requestItem(id)+"/penalty", func(c sdk.Context) error {
		return k.rewards.PenalizeExpiry(c, worker)
	})
	k.RunIsolated(ctx, StepExpireAssignments, requestItem(id)+"/worker-reputation", func(c sdk.Context) error {
		return k.reputation.RecordWorkerOutcome(c, worker, outcome.WorkerExpired)
	})
}

func (k Keeper) expireQueued(ctx sdk.Context, id uint64) error {
	req, err := k.GetRequest(ctx, id)
	if err != nil {
		return err
	}
	if req.Status != types.StatusQueued || req.QueueExpiryHeight > ctx.BlockHeight() {
		return fmt.Errorf("request %d in the queue-expiry index is %s, expiring at %d", id, req.Status, req.QueueExpiryHeight)
	}
	// Waiting too long in the queue is not the requester's doing: no
	// reputation outcome, the whole fee back. But when the requester's own
	// deadline set the queue expiry (a deadline on the TTL's height counts as
	// the deadline) and no worker ever took the request, the requester chose
	// to leave the queue: like a cancellation there, it pays the queue exit
	// fee, whenever the capped expiry step gets to it.
	exitFeePpm := uint32(0)
	if neverAssigned(req) && req.RequesterDeadlineHeight > 0 && req.QueueExpiryHeight == req.RequesterDeadlineHeight {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return err
		}
		exitFeePpm = params.QueueExitFeePpm
	}
	done, err := k.finish(ctx, req, types.StatusExpired, false)
	if err != nil {
		return err
	}
	return k.refundExpired(ctx, done, true, exitFeePpm)
}

// refundExpired settles the fee of a request that ended EXPIRED — exitFeePpm
// of it to the community pool (0 but for a queued request ended by its
// requester's deadline), the rest refunded — and emits EventRequestExpired;
// requester_deadline says the request ended at or after the requester's own
// deadline.
func (k Keeper) refundExpired(ctx sdk.Context, req types.Request, whileQueued bool, exitFeePpm uint32) error {
	requester, err := k.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return err
	}
	exitFee, refund, err := k.rewards.RefundLessExitFee(ctx, requester, req.Fee, exitFeePpm)
	if err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventRequestExpired{
		RequestId: req.Id, Worker: req.Worker, Attempts: req.Attempts, WhileQueued: whileQueued,
		RequesterDeadline: pastRequesterDeadline(req, req.FinishHeight), Refund: refund, ExitFee: exitFee,
	})
}

// drainQueues is step 2: for each ACTIVE or DRAINING shard, in round-robin
// order so no shard is starved of the per-block cap, queued requests are
// assigned in due order to the worker that fits them best.
func (k Keeper) drainQueues(ctx sdk.Context, params types.Params) (uint64, error) {
	shardIDs, err := k.shards.DrainableShardIDs(ctx)
	if err != nil || len(shardIDs) == 0 {
		return 0, err
	}
	cursor, err := k.DrainCursor.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return 0, err
	}
	start := 0
	for i, id := range shardIDs {
		if id >= cursor {
			start = i
			break
		}
	}
	tr, err := k.ItemQuarantine.Track(ctx, StepDrainQueues, params.MaxItemFailures)
	if err != nil {
		return 0, err
	}
	budget := uint64(params.MaxAssignmentsPerBlock)
	var total uint64
	for i := 0; i < len(shardIDs) && budget > 0; i++ {
		assigned, err := k.drainShard(ctx, params, tr, shardIDs[(start+i)%len(shardIDs)], budget)
		total += assigned
		if err != nil {
			return total, err
		}
		budget -= assigned
	}
	// The next block starts from the shard after this block's first.
	return total, k.DrainCursor.Set(ctx, shardIDs[(start+1)%len(shardIDs)])
}

// drainShard assigns up to budget requests of one shard's queue, looking at
// most drain_lookahead entries past requests that fit no worker. A request
// that only an excluded worker (its requester, or one that let it expire)
// could take is passed over without counting against the look-ahead, so
// such requests at the head never stall the rest of the queue; the scan stays
// within the budget + drain_lookahead entries read. A request whose drain
// fails counts as a miss, and at max_item_failures leaves the queue for the
// quarantine (tr).
func (k Keeper) drainShard(ctx sdk.Context, params types.Params, tr *quarantine.Tracker, shardID, budget uint64) (uint64, error) {
	free, err := k.shards.MaxFreeCapacity(ctx, shardID)
	if err != nil || free == 0 {
		return 0, err
	}
	candidates, err := keyscan.First(ctx, k.Queue, shardQueueRange(shardID), budget+uint64(params.DrainLookahead))
	if err != nil {
		return 0, err
	}
	// A drain session of x/shard: FindWorker reads an in-memory copy of the
	// shard's free-capacity index (at most max_workers_per_shard entries)
	// instead of seeking the store for every request, and the worker and
	// shard records every assignment rewrites are written once per group.
	// The group flushes the session before it commits and resets it when
	// writes are rolled back.
	ctx = k.shards.WithDrainSession(ctx, shardID)
	items := k.newItemGroup(ctx, StepDrainQueues, drainGroupSize, isolate.GroupHooks{
		BeforeCommit: func(c sdk.Context) error { return k.shards.FlushDrainSession(c) },
		Discarded:    func(c sdk.Context) { k.shards.ResetDrainSession(c) },
	})
	defer items.flush()
	var assigned, misses uint64
	for _, key := range candidates {
		if assigned == budget || misses > uint64(params.DrainLookahead) {
			break
		}
		id := key.K3()
		// Everything about one request, its lookup included, runs isolated: a
		// bad entry is reported and skipped, never a reason to halt. (The
		// group may run the closure twice: it sets the flags alike each time.)
		fits, onlyExcludedFit, stale := false, false, false
		item := requestItem(id)
		drain := func(c sdk.Context, cc context.Context) error {
			// cc is c as a context.Context (an sdk.Context is large: it is
			// not converted at every call that takes one).
			req, err := k.GetRequest(cc, id)
			if err != nil {
				return err
			}
			if pastRequesterDeadline(req, c.BlockHeight()) {
				// No result can be accepted any more: step 1 expires it (its
				// queue expiry has come too), perhaps in a later block when
				// max_expirations_per_block held it back.
				stale = true
				return nil
			}
			if isReplicated(req) {
				_, fits, err = k.assignReplicas(c, params, &req, req)
				return err
			}
			excluded, err := k.excludedWorkers(req)
			if err != nil {
				return err
			}
			worker, found, err := k.shards.FindWorker(cc, shardID, req.ComputeUnits, req.DataBytes, excluded)
			if err != nil {
				return err
			}
			if !found {
				// One more seek, only for a request nobody took: would a
				// worker it excludes have fitted it?
				_, onlyExcludedFit, err = k.shards.FindWorker(cc, shardID, req.ComputeUnits, req.DataBytes, nil)
				return err
			}
			fits = true
			return k.assignAt(cc, c.BlockHeight(), params, &req, req, worker)
		}
		err := items.run(item, func(c sdk.Context, cc context.Context) error {
			if err := drain(c, cc); err != nil {
				return err
			}
			return tr.Clear(cc, item)
		})
		if err != nil {
			if qerr := quarantineOnLimit(ctx, tr, k.Queue, key, item, err); qerr != nil {
				return assigned, qerr
			}
		}
		ok := err == nil
		switch {
		case ok && fits:
			assigned++
		case ok && (onlyExcludedFit || stale):
			// not a miss: see above
		default:
			misses++
		}
	}
	return assigned, nil
}

// updateShardTopology is step 3: x/shard updates the load EMAs, splits and
// merges shards and moves workers (x/shard's caps), and plans which queued
// requests move between shards in this block; the queue is x/deferral's, so
// the requests are moved here, each through saveRequest (which keeps the
// queue, the indexes and x/shard's queued counters in step) in its own
// isolated context. The moves planned never exceed x/shard's
// max_migrations_per_block together with the workers moved.
func (k Keeper) updateShardTopology(ctx sdk.Context, params types.Params) (uint64, error) {
	moves, err := k.shards.PlanTopology(ctx)
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, mv := range moves {
		moved, err := k.moveQueued(ctx, params, mv)
		total += moved
		if err != nil {
			return total, err
		}
		if err := k.shards.QueueMoved(ctx, mv.FromShardId, moved); err != nil {
			return total, err
		}
	}
	return total, nil
}

// moveQueued moves up to mv.Max queued requests from one shard's queue to
// another's, keeping their due height: the first ones in due order, or every
// other one (the 2nd, 4th, …) for a split, so both shards keep a mix of
// urgent and patient requests. It reads at most 2·Max queue entries. A move
// that fails max_item_failures blocks in a row is quarantined (the request
// leaves the queue it could not leave).
func (k Keeper) moveQueued(ctx sdk.Context, params types.Params, mv shardtypes.QueueMove) (uint64, error) {
	if mv.Max == 0 {
		return 0, nil
	}
	scan := mv.Max
	if mv.EveryOther {
		scan = 2 * mv.Max
	}
	keys, err := keyscan.First(ctx, k.Queue, shardQueueRange(mv.FromShardId), scan)
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	tr, err := k.ItemQuarantine.Track(ctx, StepShardTopology, params.MaxItemFailures)
	if err != nil {
		return 0, err
	}
	everyOther := mv.EveryOther && len(keys) > 1 // a last single entry moves too
	var moved uint64
	for i, key := range keys {
		if moved == mv.Max {
			break
		}
		if everyOther && i%2 == 0 {
			continue
		}
		id := key.K3()
		ok, err := runTracked(k, ctx, tr, k.Queue, key, id, func(c sdk.Context) error {
			req, err := k.GetRequest(c, id)
			if err != nil {
				return err
			}
			if req.Status != types.StatusQueued || req.ShardId != mv.FromShardId {
				return fmt.Errorf("request %d in shard %d's queue is %s in shard %d", id, mv.FromShardId, req.Status, req.ShardId)
			}
			moving := req
			moving.ShardId = mv.ToShardId
			return k.saveRequest(c, &req, moving)
		})
		if err != nil {
			return moved, err
		}
		if ok {
			moved++
		}
	}
	return moved, nil
}

// pruneFinishedRecords is step 4: records finished more than
// retention_blocks ago are deleted; their events remain for indexers.
func (k Keeper) pruneFinishedRecords(ctx sdk.Context, params types.Params) (uint64, error) {
	height := ctx.BlockHeight() - int64(params.RetentionBlocks)
	if height < 0 {
		return 0, nil
	}
	old, err := dueKeys(ctx, k.Finished, uint64(height), uint64(params.MaxPrunesPerBlock))
	if err != nil || len(old) == 0 {
		return 0, err
	}
	tr, err := k.ItemQuarantine.Track(ctx, StepPruneFinished, params.MaxItemFailures)
	if err != nil {
		return 0, err
	}
	for _, key := range old {
		id := key.K2()
		if _, err := runTracked(k, ctx, tr, k.Finished, key, id, func(c sdk.Context) error {
			req, err := k.GetRequest(c, id)
			if err != nil {
				return err
			}
			if isOpen(req.Status) {
				return fmt.Errorf("request %d in the finished index is %s", id, req.Status)
			}
			if err := k.unindex(c, req); err != nil {
				return err
			}
			if err := k.Requests.Remove(c, id); err != nil {
				return err
			}
			return events.Emit(c, &types.EventRequestPruned{RequestId: id, Status: req.Status})
		}); err != nil {
			return 0, err
		}
	}
	return uint64(len(old)), nil
}

func requestItem(id uint64) string { return types.RequestItem(id) }
