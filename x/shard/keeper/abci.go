package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/keyscan"
	"github.com/repshard/repshard/internal/nodemetrics"
	"github.com/repshard/repshard/internal/quarantine"
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
// EventBondReleaseFailed (rescheduleRelease); at its max_item_failures-th
// failure in a row it is quarantined instead: its unbonding-queue entry
// leaves the queue and the worker keeps its bond, UNBONDING, until
// governance retries or drops the release (quarantine.go). A release the
// x/rewards hook postpones (ErrReleasePending) is rescheduled without
// counting as a failure.
//
// The chain never halts here: a step that cannot read its own state is
// reported with EventEndBlockStepFailed and skipped for the block; only a
// failure of the quarantine's own writes (a broken store) is returned.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.releaseDueBonds(sdkCtx); err != nil {
		if errors.Is(err, quarantine.ErrBrokenStore) {
			return err
		}
		quarantine.ReportStepFailure(sdkCtx, types.ModuleName, types.StepReleaseBond, err)
	}
	return nil
}

// releaseDueBonds is the EndBlock step of EndBlocker.
func (k Keeper) releaseDueBonds(ctx sdk.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	due, err := k.dueReleases(ctx, ctx.BlockHeight(), params.MaxBondReleasesPerBlock)
	if err != nil || len(due) == 0 {
		return err
	}
	sw := nodemetrics.Start()
	tr, err := k.ItemQuarantine.Track(ctx, types.StepReleaseBond, params.MaxItemFailures)
	if err != nil {
		return err
	}
	defer nodemetrics.EndBlockStep(types.ModuleName, StepBondReleases, sw, uint64(len(due)))
	for _, key := range due {
		addr := key.K2()
		item := types.WorkerItem(addr)
		// No report here: the failure event carries the retry height, which
		// rescheduleRelease sets, and a stale queue entry gets none.
		err := isolate.Run(ctx, "bond-release/"+addr.String(), tr.Succeed(item, func(c sdk.Context) error {
			return k.releaseBond(c, addr)
		}), nil)
		if err == nil {
			continue
		}
		if err := k.releaseFailed(ctx, tr, key, params, err); err != nil {
			return err
		}
	}
	return nil
}

// releaseFailed handles a release that failed with cause: postponed by the
// hook, it is rescheduled; pointing at no worker, or at a worker whose
// release height is no longer the entry's, the stale entry is dropped;
// otherwise the failure is counted, and the release is quarantined at the
// limit or rescheduled below it. Its error is the quarantine's own
// (ErrBrokenStore); a reschedule that fails is logged and leaves the entry
// where it is, to be tried (and counted) again in the next block.
func (k Keeper) releaseFailed(ctx sdk.Context, tr *quarantine.Tracker, key collections.Pair[int64, sdk.AccAddress], params types.Params, cause error) error {
	addr := key.K2()
	item := types.WorkerItem(addr)
	if !errors.Is(cause, types.ErrReleasePending) {
		w, err := k.getWorker(ctx, addr)
		if errors.Is(err, types.ErrWorkerNotFound) || (err == nil && w.ReleaseHeight != key.K1()) {
			if err := k.UnbondingQueue.Remove(ctx, key); err != nil {
				return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
			}
			return tr.Clear(ctx, item)
		}
		raw, err := quarantine.EncodeKey(k.UnbondingQueue.KeyCodec(), key)
		if err != nil {
			return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
		}
		quarantined, err := tr.Fail(ctx, item, raw, cause)
		if err != nil {
			return err
		}
		if quarantined {
			if err := k.UnbondingQueue.Remove(ctx, key); err != nil {
				return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
			}
			return nil
		}
	}
	if err := isolate.Run(ctx, "bond-release-reschedule/"+addr.String(), func(c sdk.Context) error {
		return k.rescheduleRelease(c, key, params, cause)
	}, nil); err != nil {
		ctx.Logger().Error("reschedule a failed bond release", "worker", addr.String(), "err", err)
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
	return k.payOutBond(ctx, addr, w)
}

// payOutBond sends worker w's bond back to it, deletes the worker and emits
// EventBondReturned.
func (k Keeper) payOutBond(ctx context.Context, addr sdk.AccAddress, w types.Worker) error {
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

// rescheduleRelease moves a release that failed (or was postponed) to
// unbonding_period_blocks later, so it neither blocks the queue nor halts the
// chain, and reports it with EventBondReleaseFailed. A queue entry that
// points at no worker, or at one whose release height is no longer the
// entry's, is dropped silently.
func (k Keeper) rescheduleRelease(ctx context.Context, key collections.Pair[int64, sdk.AccAddress], params types.Params, cause error) error {
	addr := key.K2()
	w, err := k.getWorker(ctx, addr)
	if errors.Is(err, types.ErrWorkerNotFound) || (err == nil && w.ReleaseHeight != key.K1()) {
		// The queue entry points at no worker, or is stale: drop it.
		return k.UnbondingQueue.Remove(ctx, key)
	}
	if err != nil {
		return err // a worker that cannot be read: the entry stays, tried again next block
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
