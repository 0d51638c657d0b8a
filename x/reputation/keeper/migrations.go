package keeper

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/reputation/types"
)

// Migrator brings the module's stored state from one consensus version to
// the next; it is registered in the module's RegisterServices and run by the
// module manager's RunMigrations (the app's named upgrades).
type Migrator struct{ keeper Keeper }

// NewMigrator returns the migrator of k's state.
func NewMigrator(k Keeper) Migrator { return Migrator{keeper: k} }

// Migrate1to2 brings a version-1 store to version 2, which adds the dead
// worker rule and the EndBlock quarantine: the params gain
// max_consecutive_expiries and max_item_failures, each set to its default
// when zero (a store of version 1 has neither); the other params are left as
// they are. Worker profiles need no rewrite: the new fields
// (consecutive_expiries, unresponsive) start at zero, a worker with no run of
// expiries. The quarantine's collections (prefixes 64 and 65) start empty.
func (m Migrator) Migrate1to2(ctx sdk.Context) error {
	p, err := m.keeper.Params.Get(ctx)
	if err != nil {
		return err
	}
	defaults := types.DefaultParams()
	if p.MaxConsecutiveExpiries == 0 {
		p.MaxConsecutiveExpiries = defaults.MaxConsecutiveExpiries
	}
	if p.MaxItemFailures == 0 {
		p.MaxItemFailures = defaults.MaxItemFailures
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return m.keeper.Params.Set(ctx, p)
}
