package keeper

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/rewards/types"
)

// Migrator runs the store migrations of x/rewards, registered in the module's
// RegisterServices and run by the module manager's RunMigrations (the
// upgrade handlers).
type Migrator struct{ keeper Keeper }

// NewMigrator returns the migrator of k.
func NewMigrator(k Keeper) Migrator { return Migrator{keeper: k} }

// Migrate1to2 brings a version-1 store to version 2, which adds the EndBlock
// quarantine: the params gain max_item_failures, set to its default (a store
// of version 1 has none); the quarantine's collections (prefixes 64 and 65)
// start empty. The other params are left as they are.
func (m Migrator) Migrate1to2(ctx sdk.Context) error {
	p, err := m.keeper.Params.Get(ctx)
	if err != nil {
		return err
	}
	if p.MaxItemFailures == 0 {
		p.MaxItemFailures = types.DefaultParams().MaxItemFailures
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return m.keeper.Params.Set(ctx, p)
}
