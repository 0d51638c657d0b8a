package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The lifecycle of a request: the decision to defer it, and the transitions
// between statuses (assigned, queued, finished) that the Msg handlers and
// EndBlock share. Each transition saves the record through saveRequest, which
// keeps the indexes and the accounting in step.

// deferralReason decides whether a new request is deferred, and why: when the
// requester's reputation, the shard's load or the network's load is above its
// threshold (in that order). DeferNone means it may be assigned at once.
func (k Keeper) deferralReason(ctx context.Context, params types.Params, reputation uint32, shard shardtypes.Shard) (types.DeferReason, error) {
	if reputation > params.DeferReputationThresholdPpm {
		return types.DeferReputation, nil
	}
	if shard.LoadPpm > params.DeferLoadThresholdPpm {
		return types.DeferShardLoad, nil
	}
	network, err := k.shards.NetworkLoadPpm(ctx)
	if err != nil {
		return types.DeferNone, err
	}
	if network > params.DeferNetworkThresholdPpm {
		return types.DeferNetworkLoad, nil
	}
	return types.DeferNone, nil
}

// assign gives req to worker with a deadline and emits EventRequestAssigned.
func (k Keeper) assign(ctx sdk.Context, params types.Params, old *types.Request, req types.Request, worker sdk.AccAddress) error {
	height := ctx.BlockHeight()
	req.Status = types.StatusAssigned
	req.Worker = worker.String()
	req.AssignedHeight = height
	req.DeadlineHeight = height + int64(params.AssignmentTimeoutBlocks)
	req.Attempts++
	if err := k.saveRequest(ctx, old, req); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventRequestAssigned{
		RequestId: req.Id, ShardId: req.ShardId, Worker: req.Worker, DeadlineHeight: req.DeadlineHeight,
		Attempt: req.Attempts, ComputeUnits: req.ComputeUnits, WaitedBlocks: height - req.SubmitHeight,
	})
}

// enqueue puts req in its shard's queue and emits EventRequestDeferred.
func (k Keeper) enqueue(ctx sdk.Context, old *types.Request, req types.Request, requeued bool) error {
	req.Status = types.StatusQueued
	if err := k.saveRequest(ctx, old, req); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventRequestDeferred{
		RequestId: req.Id, ShardId: req.ShardId, Reason: req.DeferReason, PriorityPpm: req.PriorityPpm,
		DueHeight: req.DueHeight, Requeued: requeued,
	})
}

// requeue takes an ASSIGNED request (old) from its worker and puts req (old
// with any changes the caller made, e.g. a failure report) back in its
// shard's queue, first in line (it has waited already). The worker is added
// to the request's excluded_workers: FindWorker never gives it the request
// again, so it goes to another worker or waits for one until its queue time
// to live ends. Used by expiry and by failure reports alike.
func (k Keeper) requeue(ctx sdk.Context, old, req types.Request) error {
	req.ExcludedWorkers = append(append([]string(nil), old.ExcludedWorkers...), old.Worker)
	req.Worker = ""
	req.Deferred = true
	req.DueHeight = ctx.BlockHeight()
	return k.enqueue(ctx, &old, req, true)
}

// finish moves an open request to a final status and, when countsForRequester,
// records the outcome on the requester's reputation. It emits nothing; the
// caller settles the fee and emits the event.
func (k Keeper) finish(ctx sdk.Context, old types.Request, status types.RequestStatus, countsForRequester bool) (types.Request, error) {
	return k.finishChanged(ctx, old, old, status, countsForRequester)
}

// finishChanged is finish for a record the caller changed (req) from the
// one stored (stored), so the accounting sees what changed.
func (k Keeper) finishChanged(ctx sdk.Context, stored, req types.Request, status types.RequestStatus, countsForRequester bool) (types.Request, error) {
	req.Status = status
	req.FinishHeight = ctx.BlockHeight()
	if err := k.saveRequest(ctx, &stored, req); err != nil {
		return req, err
	}
	if !countsForRequester {
		return req, nil
	}
	requester, err := k.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return req, err
	}
	switch status {
	case types.StatusCompleted:
		return req, k.reputation.RecordOutcome(ctx, requester, outcome.Completed)
	case types.StatusFailed:
		return req, k.reputation.RecordOutcome(ctx, requester, outcome.Failed)
	case types.StatusExpired:
		return req, k.reputation.RecordOutcome(ctx, requester, outcome.Expired)
	}
	return req, nil
}
