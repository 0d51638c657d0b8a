package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

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

// assignmentDeadline is the last height a worker assigned req at height may
// report at: assignment_timeout_blocks later, but never after the
// requester's own deadline. The deadline index then expires the assignment
// at the requester's deadline at the latest (expireAssignment).
func assignmentDeadline(params types.Params, height int64, req types.Request) int64 {
	deadline := height + int64(params.AssignmentTimeoutBlocks)
	if req.RequesterDeadlineHeight > 0 {
		deadline = min(deadline, req.RequesterDeadlineHeight)
	}
	return deadline
}

// pastRequesterDeadline reports whether r's requester's own deadline has come
// at height: from then on no result can be accepted, and the request ends
// EXPIRED with a full refund, counted against nobody.
func pastRequesterDeadline(r types.Request, height int64) bool {
	return r.RequesterDeadlineHeight > 0 && height >= r.RequesterDeadlineHeight
}

// assign gives req to worker with a deadline and emits EventRequestAssigned.
func (k Keeper) assign(ctx sdk.Context, params types.Params, old *types.Request, req types.Request, worker sdk.AccAddress) error {
	return k.assignAt(ctx, ctx.BlockHeight(), params, old, req, worker)
}

// assignAt is assign at height, for a caller that holds ctx as a
// context.Context already (the drain).
func (k Keeper) assignAt(ctx context.Context, height int64, params types.Params, old *types.Request, req types.Request, worker sdk.AccAddress) error {
	req.Status = types.StatusAssigned
	req.Worker = worker.String()
	req.AssignedHeight = height
	req.DeadlineHeight = assignmentDeadline(params, height, req)
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

// release ends an open request with status (CANCELLED, or EXPIRED at the
// requester's deadline) through no doing of the workers holding it: their
// units are freed and nothing is counted on them (outcome.Released), its
// running replicas are marked EXPIRED (withdrawn, not penalised: the
// request's status says why), and nothing is recorded on the requester's
// reputation. It emits nothing; the caller settles the fee and emits the
// event.
func (k Keeper) release(ctx sdk.Context, stored types.Request, status types.RequestStatus) (types.Request, error) {
	req := withdrawReplicas(stored)
	req.Status = status
	req.FinishHeight = ctx.BlockHeight()
	return req, k.save(ctx, &stored, req, true)
}

// withdrawReplicas returns r with its running replicas marked EXPIRED (the
// runs are copied: r's are left alone).
func withdrawReplicas(r types.Request) types.Request {
	if runningReplicas(r) == 0 {
		return r
	}
	r.ReplicaRuns = append([]types.ReplicaRun(nil), r.ReplicaRuns...)
	for i := range r.ReplicaRuns {
		if r.ReplicaRuns[i].Status == types.ReplicaRunning {
			r.ReplicaRuns[i].Status = types.ReplicaExpired
		}
	}
	return r
}

// holders are the workers holding an ASSIGNED request now (its worker, or
// the workers of its running replicas), and the part of the fee each would
// be paid for the work: the whole fee, or one replica share.
func (k Keeper) holders(r types.Request) ([]sdk.AccAddress, sdk.Coin, error) {
	if r.Status != types.StatusAssigned {
		return nil, sdk.Coin{Denom: r.Fee.Denom, Amount: sdkmath.ZeroInt()}, nil
	}
	if !isReplicated(r) {
		worker, err := k.addressCodec.StringToBytes(r.Worker)
		return []sdk.AccAddress{worker}, r.Fee, err
	}
	var out []sdk.AccAddress
	for _, run := range r.ReplicaRuns {
		if run.Status != types.ReplicaRunning {
			continue
		}
		worker, err := k.addressCodec.StringToBytes(run.Worker)
		if err != nil {
			return nil, sdk.Coin{}, err
		}
		out = append(out, worker)
	}
	return out, replicaShare(r), nil
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
