package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/keyscan"
	"github.com/repshard/repshard/internal/nodemetrics"
	"github.com/repshard/repshard/x/shard/types"
)

// Names of x/shard's EndBlock work in the node metrics (nodemetrics.EndBlockStep).
const (
	// StepBondReleases is x/shard's EndBlock: the bonds returned.
	StepBondReleases = "bond_releases"
	// StepTopology is PlanTopology (within x/deferral's shard_topology
	// step): its items are the shards checked.
	StepTopology = "topology"
)

// EndBlocker returns the bonds of unbonded workers whose release height has
// come, at most max_bond_releases_per_block per block in (release height,
// address) order, and deletes their records. Each release runs on its own
// through isolate.Run: one that fails (an error or a panic) is rolled back
// alone, rescheduled unbonding_period_blocks later and reported with
// EventBondReleaseFailed (rescheduleRelease).
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	sw := nodemetrics.Start()
	due, err := k.dueReleases(ctx, sdkCtx.BlockHeight(), params.MaxBondReleasesPerBlock)
	if err != nil {
		return err
	}
	defer nodemetrics.EndBlockStep(types.ModuleName, StepBondReleases, sw, uint64(len(due)))
	for _, key := range due {
		addr := key.K2()
		// No report here: the failure event carries the retry height, which
		// rescheduleRelease sets, and a stale queue entry gets none.
		err := isolate.Run(sdkCtx, "bond-release/"+addr.String(), func(c sdk.Context) error {
			return k.releaseBond(c, addr)
		}, nil)
		if err != nil {
			if err := k.rescheduleRelease(ctx, key, params, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// dueReleases returns up to limit unbonding-queue keys with a release height
// at or below height, in order. The iterator is closed before any write.
func (k Keeper) dueReleases(ctx context.Context, height int64, limit uint32) ([]collections.Pair[int64, sdk.AccAddress], error) {
	return keyscan.First(ctx, k.UnbondingQueue, collections.NewPrefixUntilPairRange[int64, sdk.AccAddress](height), uint64(limit))
}

// releaseBond pays an unbonded worker's bond back and deletes the worker,
// after the bond-release hook (x/rewards) has settled it — which may slash
// the bond first, or postpone the release with ErrReleasePending.
func (k Keeper) releaseBond(ctx context.Context, addr sdk.AccAddress) error {
	ready, err := k.hooks.bondRelease.BeforeBondRelease(ctx, addr)
	if err != nil {
		return err
	}
	if !ready {
		return types.ErrReleasePending
	}
	w, err := k.getWorker(ctx, addr)
	if err != nil {
		return err
	}
	if w.Bond.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, addr, sdk.NewCoins(w.Bond)); err != nil {
			return err
		}
	}
	if err := k.deleteWorker(ctx, addr, w); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventBondReturned{
		Worker: w.Address, ShardId: w.ShardId, Amount: w.Bond,
	})
}

// rescheduleRelease moves a release that failed to unbonding_period_blocks
// later, so it neither blocks the queue nor halts the chain, and reports it
// with EventBondReleaseFailed. A queue entry that points at no worker, or at
// one whose release height is no longer the entry's, is dropped silently.
func (k Keeper) rescheduleRelease(ctx context.Context, key collections.Pair[int64, sdk.AccAddress], params types.Params, cause error) error {
	addr := key.K2()
	w, err := k.getWorker(ctx, addr)
	if err != nil || w.ReleaseHeight != key.K1() {
		// The queue entry points at no worker, or is stale: drop it.
		return k.UnbondingQueue.Remove(ctx, key)
	}
	nw := w
	nw.ReleaseHeight = releaseHeight(ctx, params)
	if err := k.setWorker(ctx, addr, &w, nw); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventBondReleaseFailed{
		Worker: w.Address, Error: cause.Error(), RetryHeight: nw.ReleaseHeight,
	})
}
