package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/x/shard/types"
)

type queryServer struct{ Keeper }

// NewQueryServerImpl returns the x/shard Query service.
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

// Shard returns one shard by id.
func (q queryServer) Shard(ctx context.Context, req *types.QueryShardRequest) (*types.QueryShardResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	s, err := q.Keeper.Shards.Get(ctx, req.ShardId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "shard %d not found", req.ShardId)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryShardResponse{Shard: s}, nil
}

// Shards returns all shards in id order, paginated.
func (q queryServer) Shards(ctx context.Context, req *types.QueryShardsRequest) (*types.QueryShardsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	shards, page, err := query.CollectionPaginate(ctx, q.Keeper.Shards, req.Pagination,
		func(_ uint64, s types.Shard) (types.Shard, error) { return s, nil })
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryShardsResponse{Shards: shards, Pagination: page}, nil
}

// ShardsByClass returns the ACTIVE shards of a class in id order, paginated.
func (q queryServer) ShardsByClass(ctx context.Context, req *types.QueryShardsByClassRequest) (*types.QueryShardsByClassResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if !req.Class.IsValid() {
		return nil, status.Errorf(codes.InvalidArgument, "invalid class %s", req.Class)
	}
	shards, page, err := query.CollectionPaginate(ctx, q.Keeper.ShardsByClass, req.Pagination,
		func(key collections.Pair[int32, uint64], _ collections.NoValue) (types.Shard, error) {
			return q.Keeper.Shards.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[int32, uint64](int32(req.Class)))
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryShardsByClassResponse{Shards: shards, Pagination: page}, nil
}

// Worker returns one worker by address.
func (q queryServer) Worker(ctx context.Context, req *types.QueryWorkerRequest) (*types.QueryWorkerResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.addressCodec.StringToBytes(req.Address)
	if err != nil || len(addr) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid address %q", req.Address)
	}
	w, err := q.Keeper.Workers.Get(ctx, addr)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "worker %s not found", req.Address)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryWorkerResponse{Worker: w}, nil
}

// WorkersByShard returns the workers attached to a shard in address order, paginated.
func (q queryServer) WorkersByShard(ctx context.Context, req *types.QueryWorkersByShardRequest) (*types.QueryWorkersByShardResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if has, err := q.Keeper.Shards.Has(ctx, req.ShardId); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	} else if !has {
		return nil, status.Errorf(codes.NotFound, "shard %d not found", req.ShardId)
	}
	workers, page, err := query.CollectionPaginate(ctx, q.Keeper.WorkersByShard, req.Pagination,
		func(key collections.Pair[uint64, sdk.AccAddress], _ collections.NoValue) (types.Worker, error) {
			return q.Keeper.Workers.Get(ctx, key.K2())
		}, query.WithCollectionPaginationPairPrefix[uint64, sdk.AccAddress](req.ShardId))
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryWorkersByShardResponse{Workers: workers, Pagination: page}, nil
}

// NetworkLoad returns the totals over ACTIVE shards and the network load.
func (q queryServer) NetworkLoad(ctx context.Context, req *types.QueryNetworkLoadRequest) (*types.QueryNetworkLoadResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	t, err := q.getTotals(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryNetworkLoadResponse{Totals: t, LoadPpm: LoadPpm(t.LoadUnits, t.CapacityUnits)}, nil
}

// Topology returns every shard in id order with its children and the
// migration it gives away in, paginated.
func (q queryServer) Topology(ctx context.Context, req *types.QueryTopologyRequest) (*types.QueryTopologyResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	nodes, page, err := query.CollectionPaginate(ctx, q.Keeper.Shards, req.Pagination,
		func(id uint64, s types.Shard) (types.TopologyNode, error) {
			node := types.TopologyNode{Shard: s, Children: []uint64{}}
			iter, err := q.Keeper.Children.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint64](id))
			if err != nil {
				return node, err
			}
			keys, err := iter.Keys()
			if err != nil {
				return node, err
			}
			for _, key := range keys {
				node.Children = append(node.Children, key.K2())
			}
			m, err := q.Keeper.Migrations.Get(ctx, id)
			switch {
			case err == nil:
				node.Migration = &m
			case !errors.Is(err, collections.ErrNotFound):
				return node, err
			}
			return node, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryTopologyResponse{Nodes: nodes, Pagination: page}, nil
}

// TopologyChanges returns the recent topology changes, newest first unless
// the page request asks otherwise, paginated.
func (q queryServer) TopologyChanges(ctx context.Context, req *types.QueryTopologyChangesRequest) (*types.QueryTopologyChangesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pageReq := req.Pagination
	if pageReq == nil {
		pageReq = &query.PageRequest{Reverse: true}
	}
	changes, page, err := query.CollectionPaginate(ctx, q.Keeper.TopologyLog, pageReq,
		func(_ uint64, c types.TopologyChange) (types.TopologyChange, error) { return c, nil })
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryTopologyChangesResponse{Changes: changes, Pagination: page}, nil
}
