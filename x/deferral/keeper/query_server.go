package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/x/deferral/types"
)

type queryServer struct{ Keeper }

// NewQueryServerImpl returns the x/deferral Query service.
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

// Request returns one request record.
func (q queryServer) Request(ctx context.Context, req *types.QueryRequestRequest) (*types.QueryRequestResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	r, err := q.Requests.Get(ctx, req.RequestId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "request %d not found", req.RequestId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryRequestResponse{Request: r}, nil
}

// RequestsByRequester pages through a requester's requests.
func (q queryServer) RequestsByRequester(ctx context.Context, req *types.QueryRequestsByRequesterRequest) (*types.QueryRequestsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid requester address: %s", err)
	}
	return pageByIndex(ctx, q.Keeper, q.ByRequester, req.Pagination, sdk.AccAddress(addr))
}

// RequestsByWorker pages through the requests assigned to a worker.
func (q queryServer) RequestsByWorker(ctx context.Context, req *types.QueryRequestsByWorkerRequest) (*types.QueryRequestsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.addressCodec.StringToBytes(req.Worker)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid worker address: %s", err)
	}
	return pageByIndex(ctx, q.Keeper, q.ByWorker, req.Pagination, sdk.AccAddress(addr))
}

// RequestsByShard pages through the requests routed to a shard.
func (q queryServer) RequestsByShard(ctx context.Context, req *types.QueryRequestsByShardRequest) (*types.QueryRequestsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	return pageByIndex(ctx, q.Keeper, q.ByShard, req.Pagination, req.ShardId)
}

// RequestsByStatus pages through the requests with a status. QUEUED requests
// come in serving order (shard, due height, id), ASSIGNED ones by deadline,
// finished ones by finish height: each status is read from the index that
// already holds it, so no status index has to be written on every change.
func (q queryServer) RequestsByStatus(ctx context.Context, req *types.QueryRequestsByStatusRequest) (*types.QueryRequestsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if _, ok := types.RequestStatus_name[int32(req.Status)]; !ok || req.Status == types.StatusUnspecified {
		return nil, status.Errorf(codes.InvalidArgument, "invalid status %d", req.Status)
	}
	var (
		requests []types.Request
		page     *query.PageResponse
		err      error
	)
	switch req.Status {
	case types.StatusQueued:
		requests, page, err = query.CollectionPaginate(ctx, q.Queue, req.Pagination,
			func(key collections.Triple[uint64, uint64, uint64], _ collections.NoValue) (types.Request, error) {
				return q.Requests.Get(ctx, key.K3())
			})
	case types.StatusAssigned:
		requests, page, err = query.CollectionPaginate(ctx, q.Deadlines, req.Pagination,
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Request, error) {
				return q.Requests.Get(ctx, key.K2())
			})
	default:
		requests, page, err = query.CollectionFilteredPaginate(ctx, q.Finished, req.Pagination,
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (bool, error) {
				r, err := q.Requests.Get(ctx, key.K2())
				return err == nil && r.Status == req.Status, err
			},
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Request, error) {
				return q.Requests.Get(ctx, key.K2())
			})
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryRequestsResponse{Requests: requests, Pagination: page}, nil
}

// ShardQueue pages through a shard's queue in serving order.
func (q queryServer) ShardQueue(ctx context.Context, req *types.QueryShardQueueRequest) (*types.QueryShardQueueResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	entries, page, err := query.CollectionPaginate(ctx, q.Queue, req.Pagination,
		func(key collections.Triple[uint64, uint64, uint64], _ collections.NoValue) (types.QueueEntry, error) {
			return types.QueueEntry{DueHeight: int64(key.K2()), RequestId: key.K3()}, nil
		},
		func(o *query.CollectionsPaginateOptions[collections.Triple[uint64, uint64, uint64]]) {
			prefix := collections.TriplePrefix[uint64, uint64, uint64](req.ShardId)
			o.Prefix = &prefix
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryShardQueueResponse{Entries: entries, Pagination: page}, nil
}

// pageByIndex pages through one index (reference, id) and loads the records.
func pageByIndex[R any](
	ctx context.Context, k Keeper, index collections.KeySet[collections.Pair[R, uint64]],
	pagination *query.PageRequest, ref R,
) (*types.QueryRequestsResponse, error) {
	requests, page, err := query.CollectionPaginate(ctx, index, pagination,
		func(key collections.Pair[R, uint64], _ collections.NoValue) (types.Request, error) {
			return k.Requests.Get(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[R, uint64](ref))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryRequestsResponse{Requests: requests, Pagination: page}, nil
}

// Quote returns the fee a submission with the given inputs would escrow in
// the current block, and its parts: the same routing and the same
// types.ComputeFee as SubmitRequest, for the next request id. Inputs a
// submission would refuse are refused with the same error.
func (q queryServer) Quote(ctx context.Context, req *types.QueryQuoteRequest) (*types.QueryQuoteResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	urgency := req.Urgency
	if urgency == types.UrgencyUnspecified {
		urgency = types.UrgencyNormal
	}
	// The stateless checks of a submission, with a stand-in payload hash
	// (the payload does not change the fee; its declared size does).
	probe := &types.MsgSubmitRequest{
		Class: req.Class, Urgency: urgency, ComputeUnits: req.ComputeUnits, DataBytes: req.DataBytes,
		PayloadHash: make([]byte, types.ResultHashBytes), Replicas: req.Replicas,
		MaxFee: sdk.NewInt64Coin(params.PricePerDataMegabyte.Denom, 0),
	}
	if _, _, err := checkSubmission(params, probe); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	reputation := uint32(0)
	if req.Requester != "" {
		addr, err := q.addressCodec.StringToBytes(req.Requester)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid requester address: %s", err)
		}
		if reputation, err = q.reputation.Score(ctx, addr); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	} else if reputation, err = q.reputation.Score(ctx, sdk.AccAddress(make([]byte, 20))); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	id, err := q.RequestSeq.Peek(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	_, quote, err := q.priceRequest(ctx, params, req.Class, reputation, id, feeAsk{
		units: req.ComputeUnits, dataBytes: req.DataBytes, urgency: urgency, replicas: req.Replicas,
	})
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &types.QueryQuoteResponse{Quote: quote}, nil
}
