package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/x/reputation/types"
)

// SubmitReview records a worker's rating of the requester of a request the
// worker processed. Every check comes before the first write, so a refused
// review changes nothing:
//   - the rating is 1..5 (ErrInvalidRating);
//   - the request exists (ErrRequestNotFound) and a worker finished it,
//     completed or failed (ErrRequestNotFinished);
//   - the reviewer is that worker (ErrNotParty) and not the requester
//     (ErrSelfReview);
//   - the request has no review yet (ErrDuplicateReview);
//   - the reviewer still has a worker bond (ErrNoBond).
//
// The review weighs by the reviewer's bond and its own score
// (types.ReviewWeightPpm) and updates the subject's peer factor. O(1).
func (m msgServer) SubmitReview(goCtx context.Context, msg *types.MsgSubmitReview) (*types.MsgSubmitReviewResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	reviewer, err := m.addressCodec.StringToBytes(msg.Reviewer)
	if err != nil {
		return nil, types.ErrInvalidAddress.Wrapf("reviewer: %s", err)
	}
	if msg.Rating < types.MinRating || msg.Rating > types.MaxRating {
		return nil, errorsmod.Wrapf(types.ErrInvalidRating, "%d; rate %d (worst) to %d (best)", msg.Rating, types.MinRating, types.MaxRating)
	}
	req, found, err := m.requests.reader.ReviewableRequest(ctx, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorsmod.Wrapf(types.ErrRequestNotFound, "request %d", msg.RequestId)
	}
	if !req.Processed {
		return nil, errorsmod.Wrapf(types.ErrRequestNotFinished,
			"request %d is %s; only a completed or failed request can be reviewed", msg.RequestId, req.Status)
	}
	if req.Worker != msg.Reviewer {
		return nil, errorsmod.Wrapf(types.ErrNotParty, "request %d was processed by %s, not %s", msg.RequestId, req.Worker, msg.Reviewer)
	}
	if req.Requester == msg.Reviewer {
		return nil, errorsmod.Wrapf(types.ErrSelfReview, "%s requested and processed request %d", msg.Reviewer, msg.RequestId)
	}
	has, err := m.Reviews.Has(ctx, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if has {
		return nil, errorsmod.Wrapf(types.ErrDuplicateReview, "request %d", msg.RequestId)
	}
	subject, err := m.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return nil, types.ErrInvalidAddress.Wrapf("requester: %s", err)
	}
	bond, err := m.bonds.WorkerBond(ctx, reviewer)
	if err != nil {
		return nil, err
	}
	if bond.IsNil() || !bond.IsPositive() {
		return nil, errorsmod.Wrapf(types.ErrNoBond, "%s", msg.Reviewer)
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	standing, err := m.Score(ctx, reviewer)
	if err != nil {
		return nil, err
	}
	weight := types.ReviewWeightPpm(params, bond, standing)

	height := ctx.BlockHeight()
	p, err := m.Profiles.Get(ctx, subject)
	created := errors.Is(err, collections.ErrNotFound)
	switch {
	case created:
		p = newProfile(req.Requester, height)
	case err != nil:
		return nil, err
	}
	w := sdkmath.NewIntFromUint64(uint64(weight))
	p.PeerRatingSum = p.PeerRatingSum.Add(w.MulRaw(int64(types.RatingPpm(msg.Rating))))
	p.PeerRatingWeight = p.PeerRatingWeight.Add(w)
	p.ReviewsReceived++
	p = Refresh(p, params, height)
	if err := m.save(ctx, subject, p, created); err != nil {
		return nil, err
	}
	if err := m.Reviews.Set(ctx, msg.RequestId, types.Review{
		RequestId: msg.RequestId, Subject: req.Requester, Reviewer: msg.Reviewer,
		Rating: msg.Rating, WeightPpm: weight, Height: height,
	}); err != nil {
		return nil, err
	}
	if err := events.Emit(ctx, &types.EventReviewSubmitted{
		RequestId: msg.RequestId, Subject: req.Requester, Reviewer: msg.Reviewer, Rating: msg.Rating,
		WeightPpm: weight, PeerPpm: p.PeerPpm, Score: p.Score,
	}); err != nil {
		return nil, err
	}
	return &types.MsgSubmitReviewResponse{Subject: req.Requester, WeightPpm: weight, Score: p.Score}, nil
}
