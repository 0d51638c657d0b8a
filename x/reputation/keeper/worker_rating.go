package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/x/reputation/types"
)

// RateWorker records a requester's rating of the worker that completed one of
// its requests. Every check comes before the first write, so a refused rating
// changes nothing:
//   - the rating is 1..5 (ErrInvalidRating);
//   - the request exists (ErrRequestNotFound) and its worker completed it
//     (ErrRequestNotCompleted: queued, assigned, failed, expired and
//     cancelled requests cannot be rated);
//   - the signer is the request's requester (ErrNotRequester) and not its
//     worker (ErrSelfRating);
//   - the request's worker has not been rated yet (ErrDuplicateRating).
//
// The rating weighs by the requester's own score (types.RatingWeightPpm), so
// the rating of a requester without a good record counts for less; it moves
// the worker's rating factor and score, which may pause or unpause the
// worker (x/shard is told). O(1).
func (m msgServer) RateWorker(goCtx context.Context, msg *types.MsgRateWorker) (*types.MsgRateWorkerResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	requester, err := m.addressCodec.StringToBytes(msg.Requester)
	if err != nil {
		return nil, types.ErrInvalidAddress.Wrapf("requester: %s", err)
	}
	if msg.Rating < types.MinRating || msg.Rating > types.MaxRating {
		return nil, errorsmod.Wrapf(types.ErrInvalidRating, "%d; rate %d (worst) to %d (best)", msg.Rating, types.MinRating, types.MaxRating)
	}
	req, found, err := m.ReadRequest(ctx, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorsmod.Wrapf(types.ErrRequestNotFound, "request %d", msg.RequestId)
	}
	if !req.Completed || req.Worker == "" {
		return nil, errorsmod.Wrapf(types.ErrRequestNotCompleted,
			"request %d is %s; only the worker of a completed request can be rated", msg.RequestId, req.Status)
	}
	if req.Requester != msg.Requester {
		return nil, errorsmod.Wrapf(types.ErrNotRequester, "request %d was submitted by %s, not %s", msg.RequestId, req.Requester, msg.Requester)
	}
	if req.Worker == msg.Requester {
		return nil, errorsmod.Wrapf(types.ErrSelfRating, "%s requested and completed request %d", msg.Requester, msg.RequestId)
	}
	has, err := m.WorkerRatings.Has(ctx, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if has {
		return nil, errorsmod.Wrapf(types.ErrDuplicateRating, "request %d", msg.RequestId)
	}
	worker, err := m.addressCodec.StringToBytes(req.Worker)
	if err != nil {
		return nil, types.ErrInvalidAddress.Wrapf("worker: %s", err)
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	standing, err := m.Score(ctx, requester)
	if err != nil {
		return nil, err
	}
	weight := types.RatingWeightPpm(standing)

	height := ctx.BlockHeight()
	w, created, err := m.loadWorker(ctx, worker, height)
	if err != nil {
		return nil, err
	}
	wi := sdkmath.NewIntFromUint64(uint64(weight))
	w.RatingSum = w.RatingSum.Add(wi.MulRaw(int64(types.RatingPpm(msg.Rating))))
	w.RatingWeight = w.RatingWeight.Add(wi)
	w.RatingsReceived = sat(w.RatingsReceived, 1)
	w.LastUpdatedHeight = height
	w = RefreshWorker(w, params)
	if err := m.applyPauseRule(ctx, worker, &w, params, height); err != nil {
		return nil, err
	}
	if err := m.saveWorker(ctx, worker, w, created); err != nil {
		return nil, err
	}
	if err := m.WorkerRatings.Set(ctx, msg.RequestId, types.WorkerRating{
		RequestId: msg.RequestId, Worker: req.Worker, Requester: msg.Requester,
		Rating: msg.Rating, WeightPpm: weight, Height: height,
	}); err != nil {
		return nil, err
	}
	if err := events.Emit(ctx, &types.EventWorkerRated{
		RequestId: msg.RequestId, Worker: req.Worker, Requester: msg.Requester, Rating: msg.Rating,
		WeightPpm: weight, RatingPpm: w.RatingPpm, Score: w.Score,
	}); err != nil {
		return nil, err
	}
	return &types.MsgRateWorkerResponse{Worker: req.Worker, WeightPpm: weight, Score: w.Score, Paused: w.Paused}, nil
}
