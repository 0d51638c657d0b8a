package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/outcome"
)

// RecordWorkerOutcome counts what one assignment says about the worker.
// (Worker profiles: to be filled in.)
func (k Keeper) RecordWorkerOutcome(ctx context.Context, worker sdk.AccAddress, o outcome.WorkerOutcome) error {
	_ = ctx
	_ = worker
	_ = o
	return nil
}
