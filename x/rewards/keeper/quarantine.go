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
	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/x/rewards/types"
)

// The quarantine of x/rewards' EndBlock item, the close of the open epoch
// (step close_epoch, item "epoch/<number>"). A close that fails
// max_item_failures blocks in a row is quarantined by closing the epoch
// without emission (EndBlock, closeWithoutEmission): the next epoch opens,
// the epoch's workers settle against a reward per point of zero, and the
// pool keeps what it would have emitted.
//
// Retry runs the emission of the quarantined epoch at once, as its close
// would have, for the points still unsettled: E = min(scheduled emission of
// the current pool + carried dust, unsettled points), reserved for the
// workers that have not settled the epoch yet (those that settled it at
// zero meanwhile get nothing more). A retry that fails fails the message and
// the item stays quarantined; with nothing left to emit for (no points, or
// every worker settled) it is refused with ErrQuarantineStale. Drop accepts
// the close without emission for good: the epoch held no coins, and the
// pool keeps the emission for later epochs.

// quarantined returns the quarantined item step/item, or
// ErrQuarantinedItemNotFound, and its epoch number.
func (k Keeper) quarantined(ctx context.Context, step, item string) (qtypes.QuarantinedItem, uint64, error) {
	q, err := k.ItemQuarantine.Get(ctx, step, item)
	if errors.Is(err, collections.ErrNotFound) {
		return q, 0, errorsmod.Wrapf(types.ErrQuarantinedItemNotFound, "step %q, item %q", step, item)
	}
	if err != nil {
		return q, 0, err
	}
	n, err := types.ParseEpochItem(q.Item)
	return q, n, err
}

// RetryQuarantined runs the emission of the quarantined epoch close
// step/item now.
func (k Keeper) RetryQuarantined(ctx sdk.Context, step, item string) error {
	q, number, err := k.quarantined(ctx, step, item)
	if err != nil {
		return err
	}
	rec, err := k.GetEpochRecord(ctx, number)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		return errorsmod.Wrapf(types.ErrQuarantineStale, "epoch %d closed without points: nothing to emit, drop the item", number)
	case err != nil:
		return err
	case rec.Emitted.IsPositive():
		return errorsmod.Wrapf(types.ErrQuarantineStale, "epoch %d has emitted %s already: drop the item", number, rec.Emitted)
	case !rec.UnsettledPoints.IsPositive():
		return errorsmod.Wrapf(types.ErrQuarantineStale, "every worker of epoch %d has settled: nothing to emit, drop the item", number)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	pool, err := k.GetPool(ctx)
	if err != nil {
		return err
	}
	ledger, err := k.GetLedger(ctx)
	if err != nil {
		return err
	}
	rec.Scheduled = Emission(pool, params).Add(ledger.Dust)
	if err := k.emit(ctx, &rec, rec.UnsettledPoints, &pool, &ledger); err != nil {
		return err
	}
	if err := events.Emit(ctx, &types.EventEpochClosed{
		Number: rec.Number, TotalPoints: rec.TotalPoints, Emitted: coin(rec.Emitted),
		RewardPerPoint: rec.RewardPerPoint, Dust: coin(ledger.Dust), Pool: coin(pool), Scheduled: coin(rec.Scheduled),
	}); err != nil {
		return err
	}
	return k.ItemQuarantine.Retried(ctx, q)
}

// DropQuarantined removes the quarantined epoch close step/item for good;
// it returns what it did.
func (k Keeper) DropQuarantined(ctx sdk.Context, step, item string) (string, error) {
	q, number, err := k.quarantined(ctx, step, item)
	if err != nil {
		return "", err
	}
	outcome := fmt.Sprintf("epoch %d stays closed without emission; the pool keeps what it would have emitted", number)
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
