package types

import (
	"fmt"

	sdkmath "cosmossdk.io/math"
)

// DefaultGenesis returns the genesis state with default params and nothing
// owed, pooled or contributed.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), Pool: sdkmath.ZeroInt()}
}

// Validate checks the genesis state: valid params, one positive entry per
// worker in owed and slashed, one contribution per worker, a non-negative
// pool. Addresses are decoded by InitGenesis with the chain's address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if !gs.Pool.IsNil() && gs.Pool.IsNegative() {
		return fmt.Errorf("pool must not be negative, got %s", gs.Pool)
	}
	for _, named := range []struct {
		name string
		list []WorkerAmount
	}{{"owed", gs.Owed}, {"slashed", gs.Slashed}} {
		name, list := named.name, named.list
		seen := make(map[string]bool, len(list))
		for _, e := range list {
			if e.Worker == "" {
				return fmt.Errorf("%s: empty worker address", name)
			}
			if seen[e.Worker] {
				return fmt.Errorf("%s: duplicate worker %s", name, e.Worker)
			}
			seen[e.Worker] = true
			if e.Amount.IsNil() || !e.Amount.IsPositive() {
				return fmt.Errorf("%s: amount of %s must be positive", name, e.Worker)
			}
		}
	}
	seen := make(map[string]bool, len(gs.Contributions))
	for _, c := range gs.Contributions {
		if c.Worker == "" {
			return fmt.Errorf("contributions: empty worker address")
		}
		if seen[c.Worker] {
			return fmt.Errorf("contributions: duplicate worker %s", c.Worker)
		}
		seen[c.Worker] = true
		if c.TotalPoints.IsNil() || c.TotalPoints.IsNegative() {
			return fmt.Errorf("contributions: points of %s must not be negative", c.Worker)
		}
	}
	return nil
}
