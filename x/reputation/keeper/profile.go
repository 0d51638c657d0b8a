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

// Requester profiles: every read and write goes through Refresh, so the
// score is computed at read time and a params change applies to every
// profile without iterating them.

// Refresh returns p as seen at height with params: the rate EMA decayed to
// height (not written back), every factor recomputed from the stored counters
// and credits, and the score filled in (with inactivity decay, if enabled).
// It is what every read and every write goes through, so a params change
// (weights, priors, rate settings) applies to every profile at once without
// iterating them. O(1).
func Refresh(p types.Profile, params types.Params, height int64) types.Profile {
	elapsed := uint64(0)
	if height > p.RateUpdatedHeight {
		elapsed = uint64(height - p.RateUpdatedHeight)
	}
	ema := types.DecayRate(p.RateEma, elapsed, params.RateHalfLifeBlocks)
	p.RequestRate = types.RequestRate(params, ema)
	p.CompletionPpm = types.CompletionPpm(params, p.Completed, p.Failed, p.Expired)
	p.FrequencyPpm = types.FrequencyPpm(params, p.RequestRate, p.CompletionPpm)
	p.ValidationPpm = types.ValidationPpm(p.ValidationCreditPpm, p.StakeCreditPpm)
	p.PeerPpm = types.PeerPpm(params, p.PeerRatingSum, p.PeerRatingWeight)
	p.Score = types.ScorePpm(params, p.CompletionPpm, p.FrequencyPpm, p.ValidationPpm, p.PeerPpm)
	idle := uint64(0)
	if height > p.LastUpdatedHeight {
		idle = uint64(height - p.LastUpdatedHeight)
	}
	p.Score = types.DecayedScore(params, p.Score, idle)
	return p
}

// stored strips what is computed at read time before a profile is written.
func stored(p types.Profile) types.Profile {
	p.Score = 0
	return p
}

// save writes a profile refreshed at the current height and moves its entry
// in the score index from the old indexed score to the new one. O(1).
func (k Keeper) save(ctx context.Context, addr sdk.AccAddress, p types.Profile, created bool) error {
	if !created && scoreIndexCurrent(p.IndexedScore, p.Score) {
		return k.Profiles.Set(ctx, addr, stored(p)) // the index entry stays right
	}
	if !created {
		if err := k.ScoreIndex.Remove(ctx, scoreKey(p.IndexedScore, addr)); err != nil {
			return err
		}
	}
	p.IndexedScore = p.Score
	if err := k.ScoreIndex.Set(ctx, scoreKey(p.IndexedScore, addr)); err != nil {
		return err
	}
	return k.Profiles.Set(ctx, addr, stored(p))
}

// ScoreIndexStep is how far (ppm) a requester's score moves from the score
// its index entry holds before a write moves the entry. Every submission
// moves the score a little (the rate EMA); re-keying the entry each time
// would cost two more writes per submission for an order that top-profiles
// shows to 0.1% anyway.
const ScoreIndexStep = 1_000

// scoreIndexCurrent reports whether an entry at indexed still places score.
func scoreIndexCurrent(indexed, score uint32) bool {
	return max(indexed, score)-min(indexed, score) < ScoreIndexStep
}

// scoreKey is the score-index key: highest score first, then address.
func scoreKey(score uint32, addr sdk.AccAddress) collections.Pair[uint32, sdk.AccAddress] {
	return collections.Join(^score, addr)
}

// GetProfile returns the requester's profile as of the current block, and
// false when the requester has none.
func (k Keeper) GetProfile(ctx context.Context, requester sdk.AccAddress) (types.Profile, bool, error) {
	p, err := k.Profiles.Get(ctx, requester)
	if errors.Is(err, collections.ErrNotFound) {
		return types.Profile{}, false, nil
	}
	if err != nil {
		return types.Profile{}, false, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Profile{}, false, err
	}
	return Refresh(p, params, sdk.UnwrapSDKContext(ctx).BlockHeight()), true, nil
}

// Score returns the requester's score in ppm, computed now from its factors
// with the current weights; default_score_ppm when it has no profile. O(1).
func (k Keeper) Score(ctx context.Context, requester sdk.AccAddress) (uint32, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	p, err := k.Profiles.Get(ctx, requester)
	if errors.Is(err, collections.ErrNotFound) {
		return params.DefaultScorePpm, nil
	}
	if err != nil {
		return 0, err
	}
	return Refresh(p, params, sdk.UnwrapSDKContext(ctx).BlockHeight()).Score, nil
}

// RecordSubmission creates the requester's profile at its first submission
// and adds the submission to its request-rate EMA (decayed lazily to the
// current height first). O(1).
func (k Keeper) RecordSubmission(ctx context.Context, requester sdk.AccAddress) error {
	addr, err := k.addressCodec.BytesToString(requester)
	if err != nil {
		return types.ErrInvalidAddress.Wrap(err.Error())
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	p, err := k.Profiles.Get(ctx, requester)
	created := errors.Is(err, collections.ErrNotFound)
	switch {
	case created:
		p = newProfile(addr, height)
	case err != nil:
		return err
	}
	elapsed := uint64(0)
	if height > p.RateUpdatedHeight {
		elapsed = uint64(height - p.RateUpdatedHeight)
	}
	p.RateEma = sat(types.DecayRate(p.RateEma, elapsed, params.RateHalfLifeBlocks), oneRequest)
	p.RateUpdatedHeight = height
	p.Submitted++
	p.LastUpdatedHeight = height
	// Bounded by the requester's own delegations; the submission's gas pays
	// for the read.
	bonded, err := k.staking.GetDelegatorBonded(ctx, requester)
	if err != nil {
		return err
	}
	p.StakeCreditPpm = types.StakeCreditPpm(params, bonded)
	p = Refresh(p, params, height)
	if err := k.save(ctx, requester, p, created); err != nil {
		return err
	}
	if created {
		return events.Emit(ctx, &types.EventProfileCreated{Address: addr, Score: p.Score})
	}
	return nil
}

// RecordOutcome counts a finished request of the requester and refreshes its
// factors. O(1). A requester without a profile (none should exist: the
// profile is created at submission) gets one.
func (k Keeper) RecordOutcome(ctx context.Context, requester sdk.AccAddress, o outcome.Outcome) error {
	addr, err := k.addressCodec.BytesToString(requester)
	if err != nil {
		return types.ErrInvalidAddress.Wrap(err.Error())
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	p, err := k.Profiles.Get(ctx, requester)
	created := errors.Is(err, collections.ErrNotFound)
	switch {
	case created:
		p = newProfile(addr, height)
	case err != nil:
		return err
	}
	switch o {
	case outcome.Completed:
		p.Completed++
	case outcome.Failed:
		p.Failed++
	case outcome.Expired:
		p.Expired++
	default:
		return types.ErrUnknownOutcome.Wrapf("outcome %d", int(o))
	}
	p.LastUpdatedHeight = height
	p = Refresh(p, params, height)
	if err := k.save(ctx, requester, p, created); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventOutcomeRecorded{
		Address: addr, Outcome: o.String(), Score: p.Score, CompletionPpm: p.CompletionPpm, FrequencyPpm: p.FrequencyPpm,
	})
}

// oneRequest is what one submission adds to the rate EMA.
const oneRequest = 1_000_000

func newProfile(addr string, height int64) types.Profile {
	return types.Profile{
		Address:           addr,
		CreatedHeight:     height,
		RateUpdatedHeight: height,
		LastUpdatedHeight: height,
		PeerRatingSum:     sdkmath.ZeroInt(),
		PeerRatingWeight:  sdkmath.ZeroInt(),
	}
}

func sat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// sat32 is a + b, saturating at the largest uint32.
func sat32(a, b uint32) uint32 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint32(0)
}
