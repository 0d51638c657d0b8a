package keeper

import (
	"context"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/repshard/repshard/x/rewards/types"
)

type queryServer struct{ Keeper }

// NewQueryServerImpl returns the x/rewards Query service.
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

func (q queryServer) address(s string) (sdk.AccAddress, error) {
	addr, err := q.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid address %q: %v", s, err)
	}
	return addr, nil
}

// PendingRewards returns what a worker can claim now, with a breakdown.
func (q queryServer) PendingRewards(ctx context.Context, req *types.QueryPendingRewardsRequest) (*types.QueryPendingRewardsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.address(req.Address)
	if err != nil {
		return nil, err
	}
	fees, err := q.OwedTo(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	slashed, err := q.SlashedFrom(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	epoch, err := q.PendingEpochRewards(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryPendingRewardsResponse{
		Total:        sdk.NewCoin(types.Denom, fees.Add(epoch)),
		Fees:         sdk.NewCoin(types.Denom, fees),
		EpochRewards: sdk.NewCoin(types.Denom, epoch),
		Slashed:      sdk.NewCoin(types.Denom, slashed),
	}, nil
}

// Pool returns the undistributed reward pool.
func (q queryServer) Pool(ctx context.Context, req *types.QueryPoolRequest) (*types.QueryPoolResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pool, err := q.GetPool(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	ledger, err := q.GetLedger(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryPoolResponse{Pool: sdk.NewCoin(types.Denom, pool), Ledger: ledger}, nil
}

// Contribution returns a worker's cumulative contribution.
func (q queryServer) Contribution(ctx context.Context, req *types.QueryContributionRequest) (*types.QueryContributionResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.address(req.Address)
	if err != nil {
		return nil, err
	}
	c, err := q.GetContribution(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	open, err := q.GetOpenEpoch(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	ws, err := q.GetWorkerEpoch(ctx, addr, c.Worker, open.Number)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	total := open.TotalPoints
	if ws.Epoch != open.Number {
		rec, err := q.GetEpochRecord(ctx, ws.Epoch)
		switch {
		case err == nil:
			total = rec.TotalPoints
		case errorsIsNotFound(err):
			total = sdkmath.ZeroInt()
		default:
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	return &types.QueryContributionResponse{Contribution: c, Epoch: ws, EpochTotalPoints: total}, nil
}

// Epoch returns the open epoch and a closed one: the one asked for, or the
// last one that had contributions.
func (q queryServer) Epoch(ctx context.Context, req *types.QueryEpochRequest) (*types.QueryEpochResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	open, err := q.GetOpenEpoch(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	res := &types.QueryEpochResponse{Current: open, EndHeight: EpochEndHeight(open, params)}
	if req.Number != 0 {
		if req.Number >= open.Number {
			return nil, status.Errorf(codes.InvalidArgument, "epoch %d is not closed; the open epoch is %d", req.Number, open.Number)
		}
		rec, err := q.GetEpochRecord(ctx, req.Number)
		switch {
		case err == nil:
			res.Closed = &rec
		case errorsIsNotFound(err):
			// closed without contributions: nothing was emitted.
			res.Closed = &types.EpochRecord{
				Number: req.Number, TotalPoints: sdkmath.ZeroInt(), Emitted: sdkmath.ZeroInt(), RewardPerPoint: sdkmath.ZeroInt(),
				UnsettledPoints: sdkmath.ZeroInt(), UnsettledAmount: sdkmath.ZeroInt(), Scheduled: sdkmath.ZeroInt(),
			}
		default:
			return nil, status.Error(codes.Internal, err.Error())
		}
		return res, nil
	}
	var last *types.EpochRecord
	err = q.EpochRecords.Walk(ctx, new(collections.Range[uint64]).Descending(), func(_ uint64, r types.EpochRecord) (bool, error) {
		r = normalizeRecord(r)
		last = &r
		return true, nil
	})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	res.Closed = last
	return res, nil
}
