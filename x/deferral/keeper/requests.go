package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/deferral/types"
)

// The request records: reading one, and saving one with everything derived
// from it (indexes.go holds the index upkeep).

// isOpen reports whether a status holds escrow and counts as open.
func isOpen(s types.RequestStatus) bool {
	return s == types.StatusQueued || s == types.StatusAssigned
}

// GetRequest returns a request record, or ErrRequestNotFound.
func (k Keeper) GetRequest(ctx context.Context, id uint64) (types.Request, error) {
	req, err := k.Requests.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return req, errorsmod.Wrapf(types.ErrRequestNotFound, "request %d", id)
	}
	return req, err
}

// saveRequest writes req and keeps everything derived from it in step: the
// indexes (RequestIndexes through changedRefs; the queue, the worker,
// deadline, expiry and finished indexes are kept here), the requester's open
// count, and x/shard's queued and in-flight accounting. old is the record as
// it is stored (nil for a new one). Every status change goes through here, so the
// accounting cannot drift. Index entries whose key did not change are left
// alone (a write costs gas).
func (k Keeper) saveRequest(ctx context.Context, old *types.Request, req types.Request) error {
	return k.save(ctx, old, req, false)
}

// save is saveRequest; released says the workers that stop holding the
// request lose it through no doing of their own (the requester cancelled it,
// or its deadline ran out): x/shard frees their units and counts nothing on
// them (outcome.Released) instead of the outcome the status change implies.
func (k Keeper) save(ctx context.Context, old *types.Request, req types.Request, released bool) error {
	var before indexKeys
	if old != nil {
		var err error
		if before, err = k.indexKeysOf(*old); err != nil {
			return err
		}
	}
	after, err := k.indexKeysOf(req)
	if err != nil {
		return err
	}
	if err := k.applyIndexKeys(ctx, before, after); err != nil {
		return err
	}
	if err := k.updateShardAccounting(ctx, old, req, released); err != nil {
		return err
	}
	if err := k.updateOpenCounts(ctx, old, req); err != nil {
		return err
	}
	if old == nil {
		return k.Requests.Set(ctx, req.Id, req)
	}
	// Requests.Set would read the stored record again to find the
	// RequestIndexes entries that change: old is that record.
	stored := func() (types.Request, error) { return *old, nil }
	if err := (changedRefs{k.Requests.Indexes}).Reference(ctx, req.Id, req, stored); err != nil {
		return err
	}
	return k.records.Set(ctx, req.Id, req)
}

// updateShardAccounting tells x/shard about units entering or leaving the
// shard's queue and a worker's in-flight work (see save for released).
func (k Keeper) updateShardAccounting(ctx context.Context, old *types.Request, req types.Request, released bool) error {
	if isReplicated(req) {
		return k.updateReplicaAccounting(ctx, old, req, released)
	}
	var oldStatus types.RequestStatus
	if old != nil {
		oldStatus = old.Status
	}
	if oldStatus == types.StatusQueued && req.Status == types.StatusAssigned && old.ShardId == req.ShardId {
		worker, err := k.addressCodec.StringToBytes(req.Worker)
		if err != nil {
			return err
		}
		return k.shards.AssignQueued(ctx, req.ShardId, worker, req.ComputeUnits)
	}
	if oldStatus == types.StatusQueued && req.Status == types.StatusQueued && old.ShardId != req.ShardId {
		// A queued request migrating to another shard (split or merge).
		if err := k.shards.RemoveQueued(ctx, old.ShardId, old.ComputeUnits); err != nil {
			return err
		}
		return k.shards.AddQueued(ctx, req.ShardId, req.ComputeUnits)
	}
	if oldStatus == types.StatusQueued && req.Status != types.StatusQueued {
		if err := k.shards.RemoveQueued(ctx, old.ShardId, old.ComputeUnits); err != nil {
			return err
		}
	}
	if oldStatus == types.StatusAssigned && req.Status != types.StatusAssigned {
		worker, err := k.addressCodec.StringToBytes(old.Worker)
		if err != nil {
			return err
		}
		result := outcome.Expired // back to the queue after expiry, or expired
		switch {
		case released:
			result = outcome.Released
		case req.Status == types.StatusCompleted:
			result = outcome.Completed
		case req.Status == types.StatusFailed || len(req.FailureReports) > len(old.FailureReports):
			// a confirmed failure, or a report that sent it back to the queue
			result = outcome.Failed
		}
		if err := k.shards.RemoveInFlight(ctx, old.ShardId, worker, old.ComputeUnits, result); err != nil {
			return err
		}
	}
	if req.Status == types.StatusQueued && oldStatus != types.StatusQueued {
		if err := k.shards.AddQueued(ctx, req.ShardId, req.ComputeUnits); err != nil {
			return err
		}
	}
	if req.Status == types.StatusAssigned && oldStatus != types.StatusAssigned {
		worker, err := k.addressCodec.StringToBytes(req.Worker)
		if err != nil {
			return err
		}
		if err := k.shards.AddInFlight(ctx, req.ShardId, worker, req.ComputeUnits); err != nil {
			return err
		}
	}
	return nil
}

// updateReplicaAccounting is updateShardAccounting for a replicated request:
// a queued request counts its units once in its shard's queue; each running
// replica counts them on its worker. Replicas are only appended and leave
// RUNNING once, so the replicas that started or stopped running are found by
// position.
func (k Keeper) updateReplicaAccounting(ctx context.Context, old *types.Request, req types.Request, released bool) error {
	var oldStatus types.RequestStatus
	var oldRuns []types.ReplicaRun
	if old != nil {
		oldStatus, oldRuns = old.Status, old.ReplicaRuns
	}
	switch {
	case oldStatus == types.StatusQueued && req.Status == types.StatusQueued && old.ShardId != req.ShardId:
		if err := k.shards.RemoveQueued(ctx, old.ShardId, old.ComputeUnits); err != nil {
			return err
		}
		if err := k.shards.AddQueued(ctx, req.ShardId, req.ComputeUnits); err != nil {
			return err
		}
	case oldStatus == types.StatusQueued && req.Status != types.StatusQueued:
		if err := k.shards.RemoveQueued(ctx, old.ShardId, old.ComputeUnits); err != nil {
			return err
		}
	case oldStatus != types.StatusQueued && req.Status == types.StatusQueued:
		if err := k.shards.AddQueued(ctx, req.ShardId, req.ComputeUnits); err != nil {
			return err
		}
	}
	for i, run := range req.ReplicaRuns {
		wasRunning := i < len(oldRuns) && oldRuns[i].Status == types.ReplicaRunning
		isRunning := run.Status == types.ReplicaRunning
		if wasRunning == isRunning {
			continue
		}
		worker, err := k.addressCodec.StringToBytes(run.Worker)
		if err != nil {
			return err
		}
		if isRunning {
			err = k.shards.AddInFlight(ctx, req.ShardId, worker, req.ComputeUnits)
		} else {
			result := outcome.Expired
			switch {
			case released:
				result = outcome.Released
			case run.Status == types.ReplicaReported:
				result = outcome.Completed
			case run.Status == types.ReplicaFailed:
				result = outcome.Failed
			}
			err = k.shards.RemoveInFlight(ctx, old.ShardId, worker, old.ComputeUnits, result)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// updateOpenCounts keeps the requester's count of open requests. (The fees of
// open requests need no total: the x/rewards escrow account holds exactly them.)
func (k Keeper) updateOpenCounts(ctx context.Context, old *types.Request, req types.Request) error {
	wasOpen := old != nil && isOpen(old.Status)
	nowOpen := isOpen(req.Status)
	if wasOpen == nowOpen {
		return nil
	}
	requester, err := k.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return err
	}
	count, err := k.OpenRequests.Get(ctx, requester)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	if nowOpen {
		count++
	} else {
		count--
	}
	if count == 0 {
		return k.OpenRequests.Remove(ctx, requester)
	}
	return k.OpenRequests.Set(ctx, requester, count)
}
