package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/isolate"
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

// RunItemGroupForTest runs fns as the items of a drain item group of size
// items sharing a cached context, with hooks, and returns whether each
// succeeded.
func (k Keeper) RunItemGroupForTest(ctx sdk.Context, size int, fns []func(sdk.Context) error, hooks isolate.GroupHooks) []bool {
	g := k.newItemGroup(ctx, StepDrainQueues, size, hooks)
	defer g.flush()
	out := make([]bool, len(fns))
	for i, fn := range fns {
		out[i] = g.run(requestItem(uint64(i)), func(c sdk.Context, _ context.Context) error { return fn(c) }) == nil
	}
	return out
}
