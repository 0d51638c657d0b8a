package keeper

import (
	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/deferral/types"
)

// Names of the EndBlock steps, in the order DESIGN.md gives them. They appear
// in EventEndBlockItemFailed.
const (
	StepExpireAssignments = "expire_assignments"
	StepDrainQueues       = "drain_queues"
	StepShardTopology     = "shard_topology"
	StepPruneFinished     = "prune_finished"
)

// endBlockStep is one bounded step of x/deferral's EndBlock.
type endBlockStep struct {
	name string
	run  func(ctx sdk.Context, params types.Params) error
}

// endBlockSteps lists the per-block steps in the order they run:
//
//  1. expire assignments past their deadline (cap: max_expirations_per_block);
//  2. drain the per-shard queues to workers (cap: max_assignments_per_block,
//     drain_lookahead);
//  3. x/shard split/merge and load update (x/shard's caps);
//  4. prune finished records past the retention period (cap: max_prunes_per_block).
//
// Each step processes its items with RunIsolated, so one failing item is
// rolled back alone. Until the request lifecycle lands, no request records
// exist and every step finds nothing due.
func (k Keeper) endBlockSteps() []endBlockStep {
	return []endBlockStep{
		{StepExpireAssignments, k.expireOverdueAssignments},
		{StepDrainQueues, k.drainQueues},
		{StepShardTopology, k.updateShardTopology},
		{StepPruneFinished, k.pruneFinishedRecords},
	}
}

// EndBlocker runs the per-block steps. A step-level error (state that cannot
// be read) is returned; item-level errors never are.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return fmt.Errorf("x/%s end block: read params: %w", types.ModuleName, err)
	}
	for _, step := range k.endBlockSteps() {
		if err := step.run(sdkCtx, params); err != nil {
			return fmt.Errorf("x/%s end block step %s: %w", types.ModuleName, step.name, err)
		}
	}
	return nil
}

// RunIsolated runs fn for one item of an EndBlock step in a cached context.
// On success the item's writes and events are committed. On an error, or a
// panic, they are discarded, an EventEndBlockItemFailed is emitted, and false
// is returned so the step can move on to the next item.
func (k Keeper) RunIsolated(ctx sdk.Context, step, item string, fn func(ctx sdk.Context) error) (ok bool) {
	cacheCtx, write := ctx.CacheContext()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return fn(cacheCtx)
	}()
	if err != nil {
		k.logger(ctx).Error("end block item failed; rolled back", "step", step, "item", item, "err", err)
		if emitErr := ctx.EventManager().EmitTypedEvent(&types.EventEndBlockItemFailed{
			Step: step, Item: item, Error: err.Error(),
		}); emitErr != nil {
			k.logger(ctx).Error("emit EventEndBlockItemFailed", "err", emitErr)
		}
		return false
	}
	write()
	return true
}

// The four steps. Each reads at most its per-block cap of due items through
// an ordered index and processes them with RunIsolated; the indexes arrive
// with the request records of the request lifecycle.

func (k Keeper) expireOverdueAssignments(sdk.Context, types.Params) error { return nil }

func (k Keeper) drainQueues(sdk.Context, types.Params) error { return nil }

func (k Keeper) updateShardTopology(sdk.Context, types.Params) error { return nil }

func (k Keeper) pruneFinishedRecords(sdk.Context, types.Params) error { return nil }
