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
	"github.com/repshard/repshard/x/reputation/types"
)

// StepWorkerResumes names x/reputation's EndBlock in the node metrics
// (nodemetrics.EndBlockStep): its items are the paused workers checked.
const StepWorkerResumes = "worker_resumes"

// EndBlocker checks paused workers whose resume height has come, at most
// max_worker_resumes_per_block per block in (resume height, address) order.
// For each, in its own cached context (isolate.Run), the bad counters
// (expiries, contradicted failures, quorum disagreements) are halved and the
// score recomputed: at or above min_worker_score_ppm the worker is eligible
// again, otherwise it stays paused for another worker_pause_blocks. A check
// that fails (an error or a panic) is rolled back alone, rescheduled
// worker_pause_blocks later and reported with EventWorkerResumeFailed; at
// its max_item_failures-th failure in a row it is quarantined instead: its
// resume-queue entry leaves the queue and the worker stays paused until
// governance retries or drops the check (quarantine.go).
//
// The chain never halts here: a step that cannot read its own state is
// reported with EventEndBlockStepFailed and skipped for the block; only a
// failure of the quarantine's own writes (a broken store) is returned.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.resumeDueWorkers(sdkCtx); err != nil {
		if errors.Is(err, quarantine.ErrBrokenStore) {
			return err
		}
		quarantine.ReportStepFailure(sdkCtx, types.ModuleName, types.StepResumeWorker, err)
	}
	return nil
}

// resumeDueWorkers is the EndBlock step of EndBlocker.
func (k Keeper) resumeDueWorkers(ctx sdk.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	due, err := k.dueResumes(ctx, ctx.BlockHeight(), params.MaxWorkerResumesPerBlock)
	if err != nil || len(due) == 0 {
		return err
	}
	sw := nodemetrics.Start()
	tr, err := k.ItemQuarantine.Track(ctx, types.StepResumeWorker, params.MaxItemFailures)
	if err != nil {
		return err
	}
	defer nodemetrics.EndBlockStep(types.ModuleName, StepWorkerResumes, sw, uint64(len(due)))
	for _, key := range due {
		item := types.WorkerItem(key.K2())
		err := isolate.Run(ctx, "worker-resume/"+key.K2().String(), tr.Succeed(item, func(c sdk.Context) error {
			return k.resumeWorker(c, key, params)
		}), nil)
		if err == nil {
			continue
		}
		if err := k.resumeFailed(ctx, tr, key, params, err); err != nil {
			return err
		}
	}
	return nil
}

// resumeFailed handles a check that failed with cause: a queue entry that
// points at no paused profile with that resume height is dropped as stale;
// otherwise the failure is counted, and the check is quarantined at the
// limit or rescheduled below it. Its error is the quarantine's own
// (ErrBrokenStore); a reschedule that fails is logged and leaves the entry
// where it is, to be tried (and counted) again in the next block.
func (k Keeper) resumeFailed(ctx sdk.Context, tr *quarantine.Tracker, key collections.Pair[int64, sdk.AccAddress], params types.Params, cause error) error {
	worker := key.K2()
	item := types.WorkerItem(worker)
	w, err := k.WorkerProfiles.Get(ctx, worker)
	if errors.Is(err, collections.ErrNotFound) || (err == nil && (!w.Paused || w.ResumeHeight != key.K1())) {
		if err := k.WorkerResumeQueue.Remove(ctx, key); err != nil {
			return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
		}
		return tr.Clear(ctx, item)
	}
	raw, err := quarantine.EncodeKey(k.WorkerResumeQueue.KeyCodec(), key)
	if err != nil {
		return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
	}
	quarantined, err := tr.Fail(ctx, item, raw, cause)
	if err != nil {
		return err
	}
	if quarantined {
		if err := k.WorkerResumeQueue.Remove(ctx, key); err != nil {
			return fmt.Errorf("%w: %w", quarantine.ErrBrokenStore, err)
		}
		return nil
	}
	if err := isolate.Run(ctx, "worker-resume-reschedule/"+worker.String(), func(c sdk.Context) error {
		return k.rescheduleResume(c, key, params, cause)
	}, nil); err != nil {
		ctx.Logger().Error("reschedule a failed worker resume check", "worker", worker.String(), "err", err)
	}
	return nil
}

// dueResumes returns up to limit resume-queue keys with a resume height at or
// below height, in order. The iterator is closed before any write.
func (k Keeper) dueResumes(ctx context.Context, height int64, limit uint32) ([]collections.Pair[int64, sdk.AccAddress], error) {
	return keyscan.First(ctx, k.WorkerResumeQueue, collections.NewPrefixUntilPairRange[int64, sdk.AccAddress](height), uint64(limit))
}

// resumeWorker is the check of one paused worker at its resume height: bad
// counters halved (rounded down), score recomputed, then resumed or paused
// for another worker_pause_blocks; x/shard is told either way. A queue entry
// that points at no profile, or at one that is no longer paused until that
// height, is dropped.
func (k Keeper) resumeWorker(ctx sdk.Context, key collections.Pair[int64, sdk.AccAddress], params types.Params) error {
	worker := key.K2()
	w, created, err := k.loadWorker(ctx, worker, ctx.BlockHeight())
	if err != nil {
		return err
	}
	if err := k.WorkerResumeQueue.Remove(ctx, key); err != nil {
		return err
	}
	if created || !w.Paused || w.ResumeHeight != key.K1() {
		return nil // stale entry
	}
	height := ctx.BlockHeight()
	w.Expiries /= 2
	w.FailuresContradicted /= 2
	w.QuorumDisagreements /= 2
	w.LastUpdatedHeight = height
	w = RefreshWorker(w, params)
	if w.Score >= params.MinWorkerScorePpm {
		w.Paused, w.ResumeHeight = false, 0
		if err := events.Emit(ctx, &types.EventWorkerResumed{Worker: w.Address, Score: w.Score}); err != nil {
			return err
		}
	} else {
		w.ResumeHeight = height + int64(params.WorkerPauseBlocks)
		if err := k.WorkerResumeQueue.Set(ctx, collections.Join(w.ResumeHeight, worker)); err != nil {
			return err
		}
		if err := events.Emit(ctx, &types.EventWorkerPauseExtended{Worker: w.Address, Score: w.Score, ResumeHeight: w.ResumeHeight}); err != nil {
			return err
		}
	}
	return k.saveWorker(ctx, worker, w, false)
}

// rescheduleResume moves a check that failed to worker_pause_blocks later,
// so it neither blocks the queue nor halts the chain, and reports it with
// EventWorkerResumeFailed. A queue entry that points at no paused profile
// with that resume height is dropped silently; a profile that cannot be read
// fails the reschedule (the entry stays, and is tried again next block).
func (k Keeper) rescheduleResume(ctx context.Context, key collections.Pair[int64, sdk.AccAddress], params types.Params, cause error) error {
	worker := key.K2()
	w, err := k.WorkerProfiles.Get(ctx, worker)
	if errors.Is(err, collections.ErrNotFound) || (err == nil && (!w.Paused || w.ResumeHeight != key.K1())) {
		return k.WorkerResumeQueue.Remove(ctx, key)
	}
	if err != nil {
		return err
	}
	if err := k.WorkerResumeQueue.Remove(ctx, key); err != nil {
		return err
	}
	w.ResumeHeight = sdk.UnwrapSDKContext(ctx).BlockHeight() + int64(params.WorkerPauseBlocks)
	if err := k.WorkerResumeQueue.Set(ctx, collections.Join(w.ResumeHeight, worker)); err != nil {
		return err
	}
	if err := k.WorkerProfiles.Set(ctx, worker, w); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventWorkerResumeFailed{
		Worker: w.Address, Error: cause.Error(), RetryHeight: w.ResumeHeight,
	})
}
