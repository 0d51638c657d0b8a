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
	"github.com/repshard/repshard/x/reputation/types"
)

// The quarantine of x/reputation's EndBlock items (internal/quarantine): the
// check of a paused worker at its resume height (step resume_worker, item
// "worker/<address>"). A quarantined check leaves the resume queue; the
// worker stays paused. Retry puts the resume-queue entry back (the check
// runs in the next EndBlock, its failure count starting again from zero);
// it is refused when the worker is no longer paused at that height. Drop
// releases what the check holds, the pause: the worker is resumed without
// its check (x/shard is told it may get assignments again; its counters are
// left as they are, so a bad outcome while its score is still below
// min_worker_score_ppm pauses it again).

// quarantined returns the quarantined item step/item, or
// ErrQuarantinedItemNotFound, and its worker.
func (k Keeper) quarantined(ctx context.Context, step, item string) (qtypes.QuarantinedItem, sdk.AccAddress, error) {
	q, err := k.ItemQuarantine.Get(ctx, step, item)
	if errors.Is(err, collections.ErrNotFound) {
		return q, nil, errorsmod.Wrapf(types.ErrQuarantinedItemNotFound, "step %q, item %q", step, item)
	}
	if err != nil {
		return q, nil, err
	}
	worker, err := types.ParseWorkerItem(q.Item)
	return q, worker, err
}

// RetryQuarantined puts the quarantined item step/item back into its step.
func (k Keeper) RetryQuarantined(ctx sdk.Context, step, item string) error {
	q, worker, err := k.quarantined(ctx, step, item)
	if err != nil {
		return err
	}
	key, err := quarantine.DecodeKey(k.WorkerResumeQueue.KeyCodec(), q.IndexKey)
	if err != nil {
		return err
	}
	w, err := k.WorkerProfiles.Get(ctx, worker)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		return errorsmod.Wrapf(types.ErrQuarantineStale, "worker %s has no profile: drop the item", worker)
	case err == nil && (!w.Paused || w.ResumeHeight != key.K1()):
		return errorsmod.Wrapf(types.ErrQuarantineStale, "worker %s is no longer paused until %d: drop the item", worker, key.K1())
	}
	// A profile that cannot be read gets its entry back too: the step
	// reports it again.
	if err := k.WorkerResumeQueue.Set(ctx, key); err != nil {
		return err
	}
	return k.ItemQuarantine.Retried(ctx, q)
}

// DropQuarantined removes the quarantined item step/item for good and
// resumes its worker; it returns what it did.
func (k Keeper) DropQuarantined(ctx sdk.Context, step, item string) (string, error) {
	q, worker, err := k.quarantined(ctx, step, item)
	if err != nil {
		return "", err
	}
	w, err := k.WorkerProfiles.Get(ctx, worker)
	var outcome string
	switch {
	case errors.Is(err, collections.ErrNotFound):
		outcome = fmt.Sprintf("worker %s has no profile; nothing to release", worker)
	case err != nil:
		return "", errorsmod.Wrapf(err, "worker %s's profile cannot be read, so it cannot be resumed", worker)
	case !w.Paused:
		outcome = fmt.Sprintf("worker %s is not paused; nothing to release", worker)
	default:
		params, err := k.Params.Get(ctx)
		if err != nil {
			return "", err
		}
		w, _, err := k.loadWorker(ctx, worker, ctx.BlockHeight())
		if err != nil {
			return "", err
		}
		w = RefreshWorker(w, params)
		// Its queue entry left with the quarantine; a later one (a pause
		// since) goes too.
		if err := k.WorkerResumeQueue.Remove(ctx, collections.Join(w.ResumeHeight, worker)); err != nil {
			return "", err
		}
		w.Paused, w.ResumeHeight = false, 0
		if err := k.saveWorker(ctx, worker, w, false); err != nil {
			return "", err
		}
		if err := events.Emit(ctx, &types.EventWorkerResumed{Worker: w.Address, Score: w.Score}); err != nil {
			return "", err
		}
		outcome = fmt.Sprintf("worker %s resumed without its check (score %d ppm)", worker, w.Score)
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

// quarantineIndexEntries removes, after a genesis import rebuilt the resume
// queue from the paused profiles, the entries of the quarantined checks:
// they were out of the queue when the state was exported.
func (k Keeper) quarantineIndexEntries(ctx context.Context, items []qtypes.QuarantinedItem) error {
	for _, q := range items {
		key, err := quarantine.DecodeKey(k.WorkerResumeQueue.KeyCodec(), q.IndexKey)
		if err != nil {
			return fmt.Errorf("quarantined item %s/%s: %w", q.Step, q.Item, err)
		}
		if err := k.WorkerResumeQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
