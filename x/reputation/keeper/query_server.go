package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/x/reputation/types"
)

type queryServer struct{ Keeper }

// NewQueryServerImpl returns the x/reputation Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k} }

var _ types.QueryServer = queryServer{}

// Params returns the module params.
func (q queryServer) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: params}, nil
}

// Profile returns a requester's profile as of the current block.
func (q queryServer) Profile(ctx context.Context, req *types.QueryProfileRequest) (*types.QueryProfileResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.addressCodec.StringToBytes(req.Address)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid address %q: %v", req.Address, err)
	}
	p, found, err := q.GetProfile(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !found {
		params, err := q.Keeper.Params.Get(ctx)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		return nil, status.Errorf(codes.NotFound, "%s has no reputation profile (no request submitted yet); its score is the default %d ppm",
			req.Address, params.DefaultScorePpm)
	}
	return &types.QueryProfileResponse{Profile: p, NextPowSubmission: p.Submitted + 1}, nil
}

// Profiles returns the profiles in address order, paginated, each as of the
// current block.
func (q queryServer) Profiles(ctx context.Context, req *types.QueryProfilesRequest) (*types.QueryProfilesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	profiles, page, err := query.CollectionPaginate(ctx, q.Keeper.Profiles, req.Pagination,
		func(_ sdk.AccAddress, p types.Profile) (types.Profile, error) { return Refresh(p, params, height), nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryProfilesResponse{Profiles: profiles, Pagination: page}, nil
}

// TopProfiles returns profiles from the highest indexed score down, reading
// only the page from the score index (and each page entry's profile).
func (q queryServer) TopProfiles(ctx context.Context, req *types.QueryTopProfilesRequest) (*types.QueryTopProfilesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	profiles, page, err := query.CollectionPaginate(ctx, q.ScoreIndex, req.Pagination,
		func(key collections.Pair[uint32, sdk.AccAddress], _ collections.NoValue) (types.Profile, error) {
			p, err := q.Keeper.Profiles.Get(ctx, key.K2())
			if err != nil {
				return types.Profile{}, err
			}
			return Refresh(p, params, height), nil
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryTopProfilesResponse{Profiles: profiles, Pagination: page}, nil
}

// Review returns the review of a request.
func (q queryServer) Review(ctx context.Context, req *types.QueryReviewRequest) (*types.QueryReviewResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	r, err := q.Reviews.Get(ctx, req.RequestId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "request %d has no review", req.RequestId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryReviewResponse{Review: r}, nil
}

// WorkerProfile returns a worker's profile as of the current block; the
// neutral profile (found false) for a worker without one.
func (q queryServer) WorkerProfile(ctx context.Context, req *types.QueryWorkerProfileRequest) (*types.QueryWorkerProfileResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.addressCodec.StringToBytes(req.Address)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid address %q: %v", req.Address, err)
	}
	w, found, err := q.GetWorkerProfile(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryWorkerProfileResponse{Profile: w, Found: found}, nil
}

// TopWorkers returns worker profiles from the highest indexed score down,
// reading only the page from the worker score index (and each page entry's
// profile).
func (q queryServer) TopWorkers(ctx context.Context, req *types.QueryTopWorkersRequest) (*types.QueryTopWorkersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	profiles, page, err := query.CollectionPaginate(ctx, q.WorkerScoreIndex, req.Pagination,
		func(key collections.Pair[uint32, sdk.AccAddress], _ collections.NoValue) (types.WorkerProfile, error) {
			w, err := q.Keeper.WorkerProfiles.Get(ctx, key.K2())
			if err != nil {
				return types.WorkerProfile{}, err
			}
			return RefreshWorker(w, params), nil
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryTopWorkersResponse{Profiles: profiles, Pagination: page}, nil
}

// WorkerRating returns the requester's rating of the worker of a request.
func (q queryServer) WorkerRating(ctx context.Context, req *types.QueryWorkerRatingRequest) (*types.QueryWorkerRatingResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	r, err := q.WorkerRatings.Get(ctx, req.RequestId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "the worker of request %d has no rating", req.RequestId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryWorkerRatingResponse{Rating: r}, nil
}
