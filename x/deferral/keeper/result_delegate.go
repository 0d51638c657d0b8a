package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/x/deferral/types"
)

// A requester's result delegate is the one account besides the requester
// that the workers' data-plane endpoints serve its results to
// (docs/dataplane.md). It exists for requesters that cannot sign a
// challenge (a contract): the chain only records the choice; the worker
// daemons read it with Query/ResultDelegate. Only the requester sets it, for
// itself, so nobody can make someone else's results readable.

// SetResultDelegate is MsgSetResultDelegate: the signer names its delegate,
// or removes it with an empty delegate.
func (m msgServer) SetResultDelegate(goCtx context.Context, msg *types.MsgSetResultDelegate) (*types.MsgSetResultDelegateResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	requester, err := m.addressCodec.StringToBytes(msg.Requester)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid requester address: %s", err)
	}
	var delegate sdk.AccAddress
	if msg.Delegate != "" {
		if delegate, err = m.addressCodec.StringToBytes(msg.Delegate); err != nil {
			return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid delegate address: %s", err)
		}
		if sdk.AccAddress(requester).Equals(delegate) {
			return nil, errorsmod.Wrap(types.ErrInvalidResultDelegate, "the requester may always fetch its own results: name another account, or none")
		}
	}
	previous, err := m.resultDelegate(ctx, requester)
	if err != nil {
		return nil, err
	}
	if delegate == nil {
		err = m.ResultDelegates.Remove(ctx, requester)
	} else {
		err = m.ResultDelegates.Set(ctx, requester, delegate)
	}
	if err != nil {
		return nil, err
	}
	res := &types.MsgSetResultDelegateResponse{Previous: previous}
	return res, events.Emit(ctx, &types.EventResultDelegateSet{Requester: msg.Requester, Delegate: msg.Delegate, Previous: previous})
}

// resultDelegate returns requester's delegate as a string, "" when none.
func (k Keeper) resultDelegate(ctx context.Context, requester sdk.AccAddress) (string, error) {
	d, err := k.ResultDelegates.Get(ctx, requester)
	if errors.Is(err, collections.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return k.addressCodec.BytesToString(d)
}

// ResultDelegate returns a requester's result delegate; NotFound when none.
func (q queryServer) ResultDelegate(ctx context.Context, req *types.QueryResultDelegateRequest) (*types.QueryResultDelegateResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	requester, err := q.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid requester address: %s", err)
	}
	d, err := q.resultDelegate(ctx, requester)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if d == "" {
		return nil, status.Errorf(codes.NotFound, "%s has no result delegate", req.Requester)
	}
	return &types.QueryResultDelegateResponse{Delegate: d}, nil
}
