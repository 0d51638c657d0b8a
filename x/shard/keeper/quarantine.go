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

	"github.com/repshard/repshard/internal/quarantine"
	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/x/shard/types"
)

// The quarantine of x/shard's EndBlock items (internal/quarantine):
//
//	step          item               index_key                 out of the step's way
//	release_bond  worker/<address>   unbonding-queue entry     the entry is removed
//	move_worker   worker/<address>   workers-by-shard entry    migrations pass over the worker
//	check_shard   shard/<id>         —                         the topology rotation passes over the shard
//
// A quarantined release keeps the worker UNBONDING with its bond held; a
// quarantined move keeps the worker where it is (a DRAINING shard cannot
// retire while it is attached); a quarantined check freezes the shard's
// load EMA and price and keeps a DRAINING shard from retiring.
//
// Retry puts the item back (the unbonding-queue entry, or the worker or
// shard back in reach of its step), with its failure count starting again
// from zero; it is refused when the worker or shard no longer needs the
// step. Drop releases what the item holds: a release pays the bond out
// without the x/rewards hook that kept failing (the settlement of the
// worker's last epoch, and its failure-rate slash, are skipped); a move
// unregisters the worker (its capacity leaves the shard, its bond comes back
// through the release step after the unbonding period, which lets a
// DRAINING shard retire) — or, when the workers-by-shard entry the move
// failed on is stale (no such worker, or a worker of another shard), removes
// that entry, which is what kept the shard from retiring; a shard check
// holds nothing and is refused (ErrNotDroppable) — retry it.

// quarantined returns the quarantined item step/item, or
// ErrQuarantinedItemNotFound.
func (k Keeper) quarantined(ctx context.Context, step, item string) (qtypes.QuarantinedItem, error) {
	q, err := k.ItemQuarantine.Get(ctx, step, item)
	if errors.Is(err, collections.ErrNotFound) {
		return q, errorsmod.Wrapf(types.ErrQuarantinedItemNotFound, "step %q, item %q", step, item)
	}
	return q, err
}

// RetryQuarantined puts the quarantined item step/item back into its step.
func (k Keeper) RetryQuarantined(ctx sdk.Context, step, item string) error {
	q, err := k.quarantined(ctx, step, item)
	if err != nil {
		return err
	}
	switch q.Step {
	case types.StepReleaseBond, types.StepMoveWorker:
		addr, err := types.ParseWorkerItem(q.Item)
		if err != nil {
			return err
		}
		w, err := k.getWorker(ctx, addr)
		if errors.Is(err, types.ErrWorkerNotFound) {
			return errorsmod.Wrapf(types.ErrQuarantineStale, "worker %s no longer exists: drop the item", addr)
		}
		if q.Step == types.StepReleaseBond {
			key, derr := quarantine.DecodeKey(k.UnbondingQueue.KeyCodec(), q.IndexKey)
			if derr != nil {
				return derr
			}
			if err == nil && (w.Status != types.WorkerUnbonding || w.ReleaseHeight != key.K1()) {
				return errorsmod.Wrapf(types.ErrQuarantineStale, "worker %s is %s with release height %d: drop the item",
					addr, w.Status, w.ReleaseHeight)
			}
			// A worker record that cannot be read gets its entry back too:
			// the step reports it again.
			if err := k.UnbondingQueue.Set(ctx, key); err != nil {
				return err
			}
		}
	case types.StepCheckShard:
		id, err := types.ParseShardItem(q.Item)
		if err != nil {
			return err
		}
		s, err := k.getShard(ctx, id)
		if errors.Is(err, types.ErrShardNotFound) || (err == nil && s.Status == types.ShardRetired) {
			return errorsmod.Wrapf(types.ErrQuarantineStale, "shard %d is gone or retired: drop the item", id)
		}
	default:
		return fmt.Errorf("unknown step %q", q.Step)
	}
	return k.ItemQuarantine.Retried(ctx, q)
}

// DropQuarantined removes the quarantined item step/item for good and
// releases what it holds; it returns what it did.
func (k Keeper) DropQuarantined(ctx sdk.Context, step, item string) (string, error) {
	q, err := k.quarantined(ctx, step, item)
	if err != nil {
		return "", err
	}
	var outcome string
	switch q.Step {
	case types.StepReleaseBond, types.StepMoveWorker:
		addr, err := types.ParseWorkerItem(q.Item)
		if err != nil {
			return "", err
		}
		w, err := k.getWorker(ctx, addr)
		var entry collections.Pair[uint64, sdk.AccAddress]
		if q.Step == types.StepMoveWorker {
			if entry, err = quarantine.DecodeKey(k.WorkersByShard.KeyCodec(), q.IndexKey); err != nil {
				return "", err
			}
			w, err = k.getWorker(ctx, addr)
		}
		switch {
		case q.Step == types.StepMoveWorker && (errors.Is(err, types.ErrWorkerNotFound) || (err == nil && w.ShardId != entry.K1())):
			if err := k.WorkersByShard.Remove(ctx, entry); err != nil {
				return "", err
			}
			outcome = fmt.Sprintf("stale entry of worker %s in shard %d removed (the worker is not there)", addr, entry.K1())
		case errors.Is(err, types.ErrWorkerNotFound):
			outcome = fmt.Sprintf("worker %s no longer exists; nothing to release", addr)
		case err != nil:
			return "", errorsmod.Wrapf(err, "worker %s cannot be read, so nothing can be released", addr)
		case q.Step == types.StepReleaseBond && w.Status == types.WorkerUnbonding && w.InFlightUnits == 0:
			if err := k.payOutBond(ctx, addr, w); err != nil {
				return "", err
			}
			outcome = fmt.Sprintf("bond of %s returned to worker %s without the x/rewards settlement of its last epoch", w.Bond, addr)
		case q.Step == types.StepMoveWorker && w.Status == types.WorkerActive:
			release, err := k.unregister(ctx, addr, w)
			if err != nil {
				return "", err
			}
			outcome = fmt.Sprintf("worker %s unregistered from shard %d: its bond comes back through the release step (release height %d; 0: after its last assignment)",
				addr, w.ShardId, release)
		default:
			outcome = fmt.Sprintf("worker %s is %s with %d units in flight; nothing to release", addr, w.Status, w.InFlightUnits)
		}
	case types.StepCheckShard:
		return "", errorsmod.Wrapf(types.ErrNotDroppable, "a shard check holds nothing to release and must run for the shard to work: retry %s", q.Item)
	default:
		return "", fmt.Errorf("unknown step %q", q.Step)
	}
	return outcome, k.ItemQuarantine.Dropped(ctx, q, outcome)
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
// unbonding queue from the workers, the entries of the quarantined bond
// releases: they were out of the queue when the state was exported.
func (k Keeper) quarantineIndexEntries(ctx context.Context, items []qtypes.QuarantinedItem) error {
	for _, q := range items {
		if q.Step != types.StepReleaseBond {
			continue
		}
		key, err := quarantine.DecodeKey(k.UnbondingQueue.KeyCodec(), q.IndexKey)
		if err != nil {
			return fmt.Errorf("quarantined item %s/%s: %w", q.Step, q.Item, err)
		}
		if err := k.UnbondingQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
