package keeper

import (
	"context"
	"fmt"

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
	return nil
}

// ExportGenesis reads the module state into a genesis state (profiles as
// stored, in address order).
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
	return gs, nil
}
