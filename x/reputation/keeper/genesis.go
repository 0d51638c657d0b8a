package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/reputation/types"
)

// InitGenesis validates gs and writes it to state; it writes nothing when gs
// is invalid.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	addrs := make([]sdk.AccAddress, len(gs.Profiles))
	for i, p := range gs.Profiles {
		a, err := k.addressCodec.StringToBytes(p.Address)
		if err != nil {
			return fmt.Errorf("profile: invalid address %q: %w", p.Address, err)
		}
		addrs[i] = a
	}
	workers := make([]sdk.AccAddress, len(gs.WorkerProfiles))
	for i, w := range gs.WorkerProfiles {
		a, err := k.addressCodec.StringToBytes(w.Address)
		if err != nil {
			return fmt.Errorf("worker profile: invalid address %q: %w", w.Address, err)
		}
		workers[i] = a
	}
	for _, r := range gs.WorkerRatings {
		if _, err := k.addressCodec.StringToBytes(r.Requester); err != nil {
			return fmt.Errorf("worker rating of request %d: invalid requester %q: %w", r.RequestId, r.Requester, err)
		}
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for i, p := range gs.Profiles {
		if p.PeerRatingSum.IsNil() {
			p.PeerRatingSum = sdkmath.ZeroInt()
		}
		if p.PeerRatingWeight.IsNil() {
			p.PeerRatingWeight = sdkmath.ZeroInt()
		}
		if err := k.Profiles.Set(ctx, addrs[i], p); err != nil {
			return err
		}
		if err := k.ScoreIndex.Set(ctx, scoreKey(p.IndexedScore, addrs[i])); err != nil {
			return err
		}
	}
	for _, r := range gs.Reviews {
		if err := k.Reviews.Set(ctx, r.RequestId, r); err != nil {
			return err
		}
	}
	// Worker profiles, with the top-workers index and the resume queue
	// rebuilt from them. x/shard's genesis carries its own copy of each
	// worker's score and pause (its Worker records): nothing is told here.
	for i, w := range gs.WorkerProfiles {
		if w.RatingSum.IsNil() {
			w.RatingSum = sdkmath.ZeroInt()
		}
		if w.RatingWeight.IsNil() {
			w.RatingWeight = sdkmath.ZeroInt()
		}
		if err := k.WorkerProfiles.Set(ctx, workers[i], w); err != nil {
			return err
		}
		if err := k.WorkerScoreIndex.Set(ctx, scoreKey(w.IndexedScore, workers[i])); err != nil {
			return err
		}
		if w.Paused {
			if err := k.WorkerResumeQueue.Set(ctx, collections.Join(w.ResumeHeight, workers[i])); err != nil {
				return err
			}
		}
	}
	for _, r := range gs.WorkerRatings {
		if err := k.WorkerRatings.Set(ctx, r.RequestId, r); err != nil {
			return err
		}
	}
	if err := k.ItemQuarantine.Import(ctx, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	return k.quarantineIndexEntries(ctx, gs.QuarantinedItems)
}

// ExportGenesis reads the module state into a genesis state (profiles and
// worker profiles as stored, in address order; reviews and worker ratings in
// request id order).
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	err = k.Profiles.Walk(ctx, nil, func(_ sdk.AccAddress, p types.Profile) (bool, error) {
		gs.Profiles = append(gs.Profiles, p)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Reviews.Walk(ctx, nil, func(_ uint64, r types.Review) (bool, error) {
		gs.Reviews = append(gs.Reviews, r)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.WorkerProfiles.Walk(ctx, nil, func(_ sdk.AccAddress, w types.WorkerProfile) (bool, error) {
		gs.WorkerProfiles = append(gs.WorkerProfiles, w)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.WorkerRatings.Walk(ctx, nil, func(_ uint64, r types.WorkerRating) (bool, error) {
		gs.WorkerRatings = append(gs.WorkerRatings, r)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if gs.QuarantinedItems, gs.ItemFailures, err = k.ItemQuarantine.Export(ctx); err != nil {
		return nil, err
	}
	return gs, nil
}
