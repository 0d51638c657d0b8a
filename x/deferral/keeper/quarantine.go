package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/quarantine"
	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/x/deferral/types"
)

// The quarantine of x/deferral's EndBlock items (internal/quarantine). Every
// item is a request, "request/<id>", and every step has an index the item
// leaves when it is quarantined:
//
//	step                 index           the request is
//	expire_assignments   Deadlines       ASSIGNED
//	expire_queued        QueueExpiries   QUEUED
//	drain_queues         Queue           QUEUED
//	shard_topology       Queue           QUEUED (a move between shards)
//	prune_finished       Finished        finished
//
// A quarantined request keeps its status and what it holds (its escrowed
// fee, its workers' in-flight units, its shard's queued units) until
// governance acts. Its other indexes stay: a request quarantined by the
// drain still expires at its time to live, and its requester may still
// cancel it.
//
// Retry puts the entry back into the step's index, where the next EndBlock
// finds it (its failure count starts again from zero); it is refused when
// the request is no longer in the status the step works on. Drop ends an
// open request DROPPED: the whole fee back to the requester, its workers'
// units freed with nothing counted on them (as at a requester's deadline),
// nothing recorded on anyone's reputation; it clears every quarantine entry
// and failure count of the request. A finished record dropped from pruning
// is kept for good.

// retryStatusOK reports whether a request in status s is one step works on.
func retryStatusOK(step string, s types.RequestStatus) bool {
	switch step {
	case types.StepExpireAssignments:
		return s == types.StatusAssigned
	case types.StepExpireQueued, types.StepDrainQueues, types.StepShardTopology:
		return s == types.StatusQueued
	case types.StepPruneFinished:
		return !isOpen(s)
	}
	return false
}

// restoreEntry puts q's index entry back into its step's index.
func (k Keeper) restoreEntry(ctx context.Context, q qtypes.QuarantinedItem, id uint64) error {
	switch q.Step {
	case types.StepExpireAssignments:
		return restorePair(ctx, k.Deadlines, q.IndexKey, id)
	case types.StepExpireQueued:
		return restorePair(ctx, k.QueueExpiries, q.IndexKey, id)
	case types.StepPruneFinished:
		return restorePair(ctx, k.Finished, q.IndexKey, id)
	case types.StepDrainQueues, types.StepShardTopology:
		key, err := quarantine.DecodeKey(k.Queue.KeyCodec(), q.IndexKey)
		if err != nil {
			return err
		}
		if key.K3() != id {
			return fmt.Errorf("queue entry %v of %s is not request %d's", key, q.Item, id)
		}
		return k.Queue.Set(ctx, key)
	}
	return fmt.Errorf("unknown step %q", q.Step)
}

// restorePair puts a (height, id) entry back into set.
func restorePair(ctx context.Context, set collections.KeySet[collections.Pair[uint64, uint64]], raw []byte, id uint64) error {
	key, err := quarantine.DecodeKey(set.KeyCodec(), raw)
	if err != nil {
		return err
	}
	if key.K2() != id {
		return fmt.Errorf("index entry %v is not request %d's", key, id)
	}
	return set.Set(ctx, key)
}

// quarantined returns the quarantined item step/item, or
// ErrQuarantinedItemNotFound, and its request id.
func (k Keeper) quarantined(ctx context.Context, step, item string) (qtypes.QuarantinedItem, uint64, error) {
	q, err := k.ItemQuarantine.Get(ctx, step, item)
	if errors.Is(err, collections.ErrNotFound) {
		return q, 0, errorsmod.Wrapf(types.ErrQuarantinedItemNotFound, "step %q, item %q", step, item)
	}
	if err != nil {
		return q, 0, err
	}
	id, err := types.ParseRequestItem(q.Item)
	return q, id, err
}

// RetryQuarantined puts the quarantined item step/item back into its step.
func (k Keeper) RetryQuarantined(ctx sdk.Context, step, item string) error {
	q, id, err := k.quarantined(ctx, step, item)
	if err != nil {
		return err
	}
	req, err := k.GetRequest(ctx, id)
	switch {
	case errors.Is(err, types.ErrRequestNotFound):
		return errorsmod.Wrapf(types.ErrQuarantineStale, "request %d no longer exists: drop the item", id)
	case err == nil && !retryStatusOK(step, req.Status):
		return errorsmod.Wrapf(types.ErrQuarantineStale, "request %d is %s now, not for step %s: drop the item", id, req.Status, step)
	}
	// A record that cannot be read is put back too: the step reports it
	// again, and quarantines it again at the limit.
	if err := k.restoreEntry(ctx, q, id); err != nil {
		return err
	}
	return k.ItemQuarantine.Retried(ctx, q)
}

// DropQuarantined removes the quarantined item step/item for good and
// releases what its request holds; it returns what it did.
func (k Keeper) DropQuarantined(ctx sdk.Context, step, item string) (string, error) {
	q, id, err := k.quarantined(ctx, step, item)
	if err != nil {
		return "", err
	}
	req, err := k.GetRequest(ctx, id)
	var outcome string
	switch {
	case errors.Is(err, types.ErrRequestNotFound):
		outcome = fmt.Sprintf("request %d no longer exists; nothing to release", id)
	case err != nil:
		// Nothing can be refunded from a record that cannot be read; the
		// item stays quarantined.
		return "", errorsmod.Wrapf(err, "request %d cannot be read, so it cannot be refunded", id)
	case isOpen(req.Status):
		return k.dropRequest(ctx, req, q)
	case step == types.StepPruneFinished:
		outcome = fmt.Sprintf("request %d (%s) is kept: it is no longer pruned", id, req.Status)
	default:
		outcome = fmt.Sprintf("request %d is already %s; nothing to release", id, req.Status)
	}
	return outcome, k.ItemQuarantine.Dropped(ctx, q, outcome)
}

// dropRequest ends an open request DROPPED through no doing of its workers
// (they are released, not penalised) or its requester (nothing on its
// reputation), refunds the whole fee, and drops every quarantine entry of
// the request (q's with the outcome, any other one as stale) and clears its
// failure counts. It returns what it did.
func (k Keeper) dropRequest(ctx sdk.Context, stored types.Request, q qtypes.QuarantinedItem) (string, error) {
	done, err := k.release(ctx, stored, types.StatusDropped)
	if err != nil {
		return "", err
	}
	requester, err := k.addressCodec.StringToBytes(done.Requester)
	if err != nil {
		return "", err
	}
	if err := k.rewards.Refund(ctx, requester, done.Fee); err != nil {
		return "", err
	}
	if err := events.Emit(ctx, &types.EventRequestDropped{
		RequestId: done.Id, Requester: done.Requester, PreviousStatus: stored.Status,
		Step: q.Step, Reason: q.Error, Refund: done.Fee,
	}); err != nil {
		return "", err
	}
	outcome := fmt.Sprintf("request %d ended DROPPED (was %s): %s refunded to %s, its workers released unpenalised",
		done.Id, stored.Status, done.Fee, done.Requester)
	for _, step := range types.QuarantineSteps {
		if err := k.ItemQuarantine.Failures.Remove(ctx, collections.Join(step, q.Item)); err != nil {
			return "", err
		}
		other, err := k.ItemQuarantine.Get(ctx, step, q.Item)
		if errors.Is(err, collections.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := k.ItemQuarantine.Dropped(ctx, other, outcome); err != nil {
			return "", err
		}
	}
	return outcome, nil
}

// RetryQuarantined is MsgRetryQuarantined: governance only.
func (m msgServer) RetryQuarantined(goCtx context.Context, msg *types.MsgRetryQuarantined) (*types.MsgRetryQuarantinedResponse, error) {
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "expected %s, got %s", m.authority, msg.Authority)
	}
	if err := m.Keeper.RetryQuarantined(sdk.UnwrapSDKContext(goCtx), msg.Step, msg.Item); err != nil {
		return nil, err
	}
	return &types.MsgRetryQuarantinedResponse{}, nil
}

// DropQuarantined is MsgDropQuarantined: governance only.
func (m msgServer) DropQuarantined(goCtx context.Context, msg *types.MsgDropQuarantined) (*types.MsgDropQuarantinedResponse, error) {
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "expected %s, got %s", m.authority, msg.Authority)
	}
	outcome, err := m.Keeper.DropQuarantined(sdk.UnwrapSDKContext(goCtx), msg.Step, msg.Item)
	if err != nil {
		return nil, err
	}
	return &types.MsgDropQuarantinedResponse{Outcome: outcome}, nil
}

// Quarantine pages through the quarantined items.
func (q queryServer) Quarantine(ctx context.Context, req *types.QueryQuarantineRequest) (*types.QueryQuarantineResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	items, page, err := q.ItemQuarantine.Page(ctx, req.Step, req.Pagination)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryQuarantineResponse{Items: items, Pagination: page}, nil
}

// quarantineIndexEntries removes, after a genesis import rebuilt the
// indexes from the records, the entries of the quarantined items: they were
// out of their steps when the state was exported.
func (k Keeper) quarantineIndexEntries(ctx context.Context, items []qtypes.QuarantinedItem) error {
	for _, q := range items {
		id, err := types.ParseRequestItem(q.Item)
		if err != nil {
			return err
		}
		switch q.Step {
		case types.StepExpireAssignments:
			err = removePair(ctx, k.Deadlines, q.IndexKey, id)
		case types.StepExpireQueued:
			err = removePair(ctx, k.QueueExpiries, q.IndexKey, id)
		case types.StepPruneFinished:
			err = removePair(ctx, k.Finished, q.IndexKey, id)
		default:
			var key collections.Triple[uint64, uint64, uint64]
			if key, err = quarantine.DecodeKey(k.Queue.KeyCodec(), q.IndexKey); err == nil {
				err = k.Queue.Remove(ctx, key)
			}
		}
		if err != nil {
			return fmt.Errorf("quarantined item %s/%s: %w", q.Step, q.Item, err)
		}
	}
	return nil
}

func removePair(ctx context.Context, set collections.KeySet[collections.Pair[uint64, uint64]], raw []byte, id uint64) error {
	key, err := quarantine.DecodeKey(set.KeyCodec(), raw)
	if err != nil {
		return err
	}
	if key.K2() != id {
		return fmt.Errorf("index entry %v is not request %d's", key, id)
	}
	return set.Remove(ctx, key)
}
