package keeper

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/reputation/types"
)

// Migrator brings the module's stored state from one consensus version to
// the next; the app's named upgrades run it through the module manager.
type Migrator struct {
	k Keeper
}

// NewMigrator returns the migrator of k's state.
func NewMigrator(k Keeper) Migrator { return Migrator{k: k} }

// Migrate1to2 fills the params added in version 2 with their defaults
// (max_consecutive_expiries). Worker profiles need no rewrite: the new
// fields (consecutive_expiries, unresponsive) start at zero, which is a
// worker with no run of expiries.
func (m Migrator) Migrate1to2(ctx sdk.Context) error {
	params, err := m.k.Params.Get(ctx)
	if err != nil {
		return err
	}
	defaults := types.DefaultParams()
	if params.MaxConsecutiveExpiries == 0 {
		params.MaxConsecutiveExpiries = defaults.MaxConsecutiveExpiries
	}
	if err := params.Validate(); err != nil {
		return err
	}
	return m.k.Params.Set(ctx, params)
}
