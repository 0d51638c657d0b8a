package keeper

// TEMPORARY scaffold so the app builds while the request lifecycle is written;
// every method is replaced by its real implementation in this change.

import (
	"context"
	"errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/reputation/types"
)

var errScaffold = errors.New("not implemented yet")

func (k Keeper) Score(context.Context, sdk.AccAddress) (uint32, error)  { return 0, errScaffold }
func (k Keeper) RecordSubmission(context.Context, sdk.AccAddress) error { return errScaffold }
func (k Keeper) RecordOutcome(context.Context, sdk.AccAddress, types.Outcome) error {
	return errScaffold
}
