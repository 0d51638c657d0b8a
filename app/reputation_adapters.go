package app

import (
	"context"
	"errors"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	deferralkeeper "github.com/repshard/repshard/x/deferral/keeper"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The adapters below give x/reputation the plain reads it needs of x/deferral
// and x/shard (reputationtypes.RequestReader and WorkerBondReader) without
// x/reputation importing either module: x/deferral already depends on
// x/reputation, so the arrow may not point back.

// reviewRequests reads requests from x/deferral for peer reviews and worker
// ratings.
type reviewRequests struct{ k deferralkeeper.Keeper }

var _ reputationtypes.RequestReader = reviewRequests{}

// ReviewableRequest returns the request's requester, last worker and whether
// a worker finished it (completed or failed) or completed it.
func (r reviewRequests) ReviewableRequest(ctx context.Context, id uint64) (reputationtypes.FinishedRequest, bool, error) {
	req, err := r.k.GetRequest(ctx, id)
	if errors.Is(err, deferraltypes.ErrRequestNotFound) {
		return reputationtypes.FinishedRequest{}, false, nil
	}
	if err != nil {
		return reputationtypes.FinishedRequest{}, false, err
	}
	return reputationtypes.FinishedRequest{
		Requester: req.Requester,
		Worker:    req.Worker,
		Status:    req.Status.String(),
		Processed: req.Status == deferraltypes.StatusCompleted || req.Status == deferraltypes.StatusFailed,
		Completed: req.Status == deferraltypes.StatusCompleted,
	}, true, nil
}

// workerBonds reads worker bonds from x/shard for the weight of reviews.
type workerBonds struct{ k shardkeeper.Keeper }

var _ reputationtypes.WorkerBondReader = workerBonds{}

// WorkerBond returns the worker's escrowed bond (zero for a non-worker).
func (w workerBonds) WorkerBond(ctx context.Context, addr sdk.AccAddress) (sdkmath.Int, error) {
	worker, err := w.k.GetWorker(ctx, addr)
	if errors.Is(err, shardtypes.ErrWorkerNotFound) {
		return sdkmath.ZeroInt(), nil
	}
	if err != nil {
		return sdkmath.Int{}, err
	}
	if worker.Bond.Amount.IsNil() {
		return sdkmath.ZeroInt(), nil
	}
	return worker.Bond.Amount, nil
}
