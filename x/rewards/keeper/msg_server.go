package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/x/rewards/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/rewards Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// UpdateParams replaces the params; only the authority (gov) may do it.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "expected %s, got %s", m.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// ClaimRewards pays the signing worker everything it is owed.
func (m msgServer) ClaimRewards(ctx context.Context, msg *types.MsgClaimRewards) (*types.MsgClaimRewardsResponse, error) {
	worker, err := m.addressCodec.StringToBytes(msg.Worker)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid worker address: %s", err)
	}
	paid, fees, epochRewards, err := m.Claim(ctx, worker)
	if err != nil {
		return nil, err
	}
	return &types.MsgClaimRewardsResponse{Amount: paid, Fees: fees, EpochRewards: epochRewards}, nil
}

// FundPool moves the funder's coins into the reward pool. Anyone may fund
// it, the gov account included (that is how governance funds it from the
// community pool: MsgCommunityPoolSpend to the gov account, then MsgFundPool).
func (m msgServer) FundPool(ctx context.Context, msg *types.MsgFundPool) (*types.MsgFundPoolResponse, error) {
	funder, err := m.addressCodec.StringToBytes(msg.Funder)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid funder address: %s", err)
	}
	pool, err := m.Keeper.FundPool(ctx, funder, msg.Amount)
	if err != nil {
		return nil, err
	}
	return &types.MsgFundPoolResponse{Pool: pool}, nil
}
