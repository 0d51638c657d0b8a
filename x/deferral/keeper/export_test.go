package keeper

import (
	"context"

	"github.com/repshard/repshard/x/deferral/types"
)

// SaveNewRequestForTest stores a new record with all its derived state, as
// SubmitRequest does but without the fee escrow: the benchmarks use it to
// fill queues with a million requests quickly.
func (k Keeper) SaveNewRequestForTest(ctx context.Context, req types.Request) error {
	return k.saveRequest(ctx, nil, req)
}

// SetDrainGroupSizeForTest sets how many drained requests share a cached
// context, and returns a func that restores it.
func SetDrainGroupSizeForTest(n int) (restore func()) {
	old := drainGroupSize
	drainGroupSize = n
	return func() { drainGroupSize = old }
}
