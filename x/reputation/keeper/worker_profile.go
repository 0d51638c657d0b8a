package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/reputation/types"
)

// Worker profiles: what each assignment said about a worker and how the
// requesters rated it. Like requester profiles, the score and the factors are
// computed from the stored counters and sums whenever they are read, with the
// params of that moment. Every write (an outcome, a rating, a resume check)
// also applies the pause rule and tells x/shard, through the
// WorkerStandingListener, the worker's score and whether it may get new
// assignments. See x/reputation/README.md, "Worker profiles".

// RefreshWorker returns w with its factors and score computed from its
// counters and sums with params. O(1).
func RefreshWorker(w types.WorkerProfile, params types.Params) types.WorkerProfile {
	good, bad := types.WorkerGoodBad(w)
	w.ReliabilityPpm = types.WorkerReliabilityPpm(params, good, bad)
	w.RatingPpm = types.WorkerRatingPpm(params, w.RatingSum, w.RatingWeight)
	w.Score = types.WorkerScorePpm(params, w.ReliabilityPpm, w.RatingPpm)
	return w
}

// storedWorker strips what is computed at read time before a worker profile
// is written.
func storedWorker(w types.WorkerProfile) types.WorkerProfile {
	w.Score, w.ReliabilityPpm, w.RatingPpm = 0, 0, 0
	return w
}

func newWorkerProfile(addr string, height int64) types.WorkerProfile {
	return types.WorkerProfile{
		Address:           addr,
		CreatedHeight:     height,
		LastUpdatedHeight: height,
		RatingSum:         sdkmath.ZeroInt(),
		RatingWeight:      sdkmath.ZeroInt(),
	}
}

// NeutralWorkerProfile is the profile of a worker without history: no
// outcome, no rating, the factors and score of the priors.
func NeutralWorkerProfile(addr string, params types.Params) types.WorkerProfile {
	return RefreshWorker(newWorkerProfile(addr, 0), params)
}

// GetWorkerProfile returns the worker's profile as of now, and false (with
// the neutral profile) when the worker has none. O(1).
func (k Keeper) GetWorkerProfile(ctx context.Context, worker sdk.AccAddress) (types.WorkerProfile, bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.WorkerProfile{}, false, err
	}
	w, err := k.WorkerProfiles.Get(ctx, worker)
	if errors.Is(err, collections.ErrNotFound) {
		addr, err := k.addressCodec.BytesToString(worker)
		if err != nil {
			return types.WorkerProfile{}, false, types.ErrInvalidAddress.Wrap(err.Error())
		}
		return NeutralWorkerProfile(addr, params), false, nil
	}
	if err != nil {
		return types.WorkerProfile{}, false, err
	}
	return RefreshWorker(w, params), true, nil
}

// WorkerStanding returns the worker's score, whether it may get new
// assignments (not paused) and whether it has a profile at all; x/shard reads
// it when a worker registers (x/shard's StandingKeeper). O(1).
func (k Keeper) WorkerStanding(ctx context.Context, worker sdk.AccAddress) (scorePpm uint32, eligible, known bool, err error) {
	w, found, err := k.GetWorkerProfile(ctx, worker)
	if err != nil || !found {
		return 0, true, false, err
	}
	return w.Score, Eligible(w), true, nil
}

// Eligible reports whether the worker may get new assignments: neither
// paused by its score nor marked unresponsive.
func Eligible(w types.WorkerProfile) bool {
	return !w.Paused && !w.Unresponsive
}

// ResumeUnresponsiveWorker clears the worker's unresponsive mark and its run
// of expiries (the worker said it is back: MsgResumeWorker of x/shard) and
// tells x/shard, which hands it work again unless its score keeps it paused.
// A worker that is not marked unresponsive gets ErrWorkerNotUnresponsive and
// nothing changes. O(1).
func (k Keeper) ResumeUnresponsiveWorker(ctx context.Context, worker sdk.AccAddress) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	w, created, err := k.loadWorker(ctx, worker, height)
	if err != nil {
		return err
	}
	if created || !w.Unresponsive {
		return types.ErrWorkerNotUnresponsive.Wrapf("%d consecutive expiries, unresponsive after %d", w.ConsecutiveExpiries, params.MaxConsecutiveExpiries)
	}
	w.Unresponsive, w.ConsecutiveExpiries = false, 0
	w.LastUpdatedHeight = height
	w = RefreshWorker(w, params)
	if err := k.saveWorker(ctx, worker, w, false); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventWorkerResponsive{Worker: w.Address, Score: w.Score, Paused: w.Paused})
}

// WorkerScore returns the worker's score in ppm (the neutral score without a
// profile). O(1).
func (k Keeper) WorkerScore(ctx context.Context, worker sdk.AccAddress) (uint32, error) {
	w, _, err := k.GetWorkerProfile(ctx, worker)
	return w.Score, err
}

// loadWorker returns the stored worker profile, or a new one (created true).
func (k Keeper) loadWorker(ctx context.Context, worker sdk.AccAddress, height int64) (types.WorkerProfile, bool, error) {
	w, err := k.WorkerProfiles.Get(ctx, worker)
	if errors.Is(err, collections.ErrNotFound) {
		addr, err := k.addressCodec.BytesToString(worker)
		if err != nil {
			return types.WorkerProfile{}, false, types.ErrInvalidAddress.Wrap(err.Error())
		}
		return newWorkerProfile(addr, height), true, nil
	}
	if err != nil {
		return types.WorkerProfile{}, false, err
	}
	if w.RatingSum.IsNil() {
		w.RatingSum = sdkmath.ZeroInt()
	}
	if w.RatingWeight.IsNil() {
		w.RatingWeight = sdkmath.ZeroInt()
	}
	return w, false, nil
}

// RecordWorkerOutcome counts what one assignment says about the worker on its
// worker profile (created at the first one), recomputes its score, pauses the
// worker when the score falls below min_worker_score_ppm (or unpauses it when
// a good outcome lifts it back), tells x/shard, and emits
// EventWorkerOutcomeRecorded. An unknown outcome is refused before anything
// is written. O(1).
func (k Keeper) RecordWorkerOutcome(ctx context.Context, worker sdk.AccAddress, o outcome.WorkerOutcome) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	w, created, err := k.loadWorker(ctx, worker, height)
	if err != nil {
		return err
	}
	if o == outcome.WorkerExpired {
		w.ConsecutiveExpiries = sat32(w.ConsecutiveExpiries, 1)
	} else {
		w.ConsecutiveExpiries = 0
	}
	switch o {
	case outcome.WorkerCompleted:
		w.Completions = sat(w.Completions, 1)
	case outcome.WorkerExpired:
		w.Expiries = sat(w.Expiries, 1)
	case outcome.WorkerFailureConfirmed:
		w.FailuresConfirmed = sat(w.FailuresConfirmed, 1)
	case outcome.WorkerFailureContradicted:
		w.FailuresContradicted = sat(w.FailuresContradicted, 1)
	case outcome.WorkerQuorumAgreed:
		w.QuorumAgreements = sat(w.QuorumAgreements, 1)
	case outcome.WorkerQuorumDisagreed:
		w.QuorumDisagreements = sat(w.QuorumDisagreements, 1)
	default:
		return types.ErrUnknownWorkerOutcome.Wrapf("worker outcome %d", int(o))
	}
	w.LastUpdatedHeight = height
	w = RefreshWorker(w, params)
	if err := k.applyPauseRule(ctx, worker, &w, params, height); err != nil {
		return err
	}
	if !w.Unresponsive && w.ConsecutiveExpiries >= params.MaxConsecutiveExpiries {
		w.Unresponsive = true
		if err := events.Emit(ctx, &types.EventWorkerUnresponsive{Worker: w.Address, ConsecutiveExpiries: w.ConsecutiveExpiries}); err != nil {
			return err
		}
	}
	if err := k.saveWorker(ctx, worker, w, created); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventWorkerOutcomeRecorded{
		Worker: w.Address, Outcome: o.String(), Score: w.Score, ReliabilityPpm: w.ReliabilityPpm, Paused: w.Paused,
	})
}

// applyPauseRule pauses a worker whose refreshed score is below
// min_worker_score_ppm (until height + worker_pause_blocks, queued for the
// EndBlock check) and unpauses a paused worker whose score is back at or
// above it (its queue entry removed). A paused worker still below keeps its
// resume height. O(1).
func (k Keeper) applyPauseRule(ctx context.Context, worker sdk.AccAddress, w *types.WorkerProfile, params types.Params, height int64) error {
	below := w.Score < params.MinWorkerScorePpm
	switch {
	case below && !w.Paused:
		w.Paused = true
		w.ResumeHeight = height + int64(params.WorkerPauseBlocks) // both bounded by MaxBlocks
		w.Pauses = sat(w.Pauses, 1)
		if err := k.WorkerResumeQueue.Set(ctx, collections.Join(w.ResumeHeight, worker)); err != nil {
			return err
		}
		return events.Emit(ctx, &types.EventWorkerPaused{Worker: w.Address, Score: w.Score, ResumeHeight: w.ResumeHeight})
	case !below && w.Paused:
		if err := k.WorkerResumeQueue.Remove(ctx, collections.Join(w.ResumeHeight, worker)); err != nil {
			return err
		}
		w.Paused, w.ResumeHeight = false, 0
		return events.Emit(ctx, &types.EventWorkerResumed{Worker: w.Address, Score: w.Score})
	}
	return nil
}

// saveWorker writes a refreshed worker profile, moves its entry in the
// worker score index to its new score, and tells the standing listener
// (x/shard) the score and whether the worker may get new assignments. O(1).
func (k Keeper) saveWorker(ctx context.Context, worker sdk.AccAddress, w types.WorkerProfile, created bool) error {
	if created || w.IndexedScore != w.Score {
		if !created {
			if err := k.WorkerScoreIndex.Remove(ctx, scoreKey(w.IndexedScore, worker)); err != nil {
				return err
			}
		}
		w.IndexedScore = w.Score
		if err := k.WorkerScoreIndex.Set(ctx, scoreKey(w.IndexedScore, worker)); err != nil {
			return err
		}
	}
	if err := k.WorkerProfiles.Set(ctx, worker, storedWorker(w)); err != nil {
		return err
	}
	return k.standing.SetWorkerStanding(ctx, worker, w.Score, Eligible(w))
}
