package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DeleteWorkerForTest removes a worker's record and index entries, as the
// release of its bond does.
func (k Keeper) DeleteWorkerForTest(ctx context.Context, addr sdk.AccAddress) error {
	w, err := k.getWorker(ctx, addr)
	if err != nil {
		return err
	}
	return k.deleteWorker(ctx, addr, w)
}
