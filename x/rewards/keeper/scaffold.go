package keeper

// TEMPORARY scaffold so the app builds while the request lifecycle is written;
// every method is replaced by its real implementation in this change.

import (
	"context"
	"errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

var errScaffold = errors.New("not implemented yet")

func (k Keeper) EscrowFee(context.Context, sdk.AccAddress, sdk.Coin) error { return errScaffold }
func (k Keeper) Refund(context.Context, sdk.AccAddress, sdk.Coin) error    { return errScaffold }
func (k Keeper) PayCompletion(context.Context, sdk.AccAddress, sdk.Coin, uint64, uint64) error {
	return errScaffold
}
func (k Keeper) SettleFailure(context.Context, sdk.AccAddress, sdk.AccAddress, sdk.Coin, uint32) error {
	return errScaffold
}
func (k Keeper) PenalizeExpiry(context.Context, sdk.AccAddress) error { return errScaffold }
