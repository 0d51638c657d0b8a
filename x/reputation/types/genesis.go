package types

import (
	"fmt"

	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/internal/ppm"
)

// DefaultGenesis returns the genesis state with default params and no profiles.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state: valid params and one profile per
// address with factors within ppm. Addresses are decoded by InitGenesis with
// the chain's address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	seen := make(map[string]bool, len(gs.Profiles))
	for _, p := range gs.Profiles {
		if p.Address == "" {
			return fmt.Errorf("profile with an empty address")
		}
		if seen[p.Address] {
			return fmt.Errorf("duplicate profile %s", p.Address)
		}
		seen[p.Address] = true
		if err := paramcheck.CheckAll(ppm.Validate,
			paramcheck.F("completion_ppm", p.CompletionPpm), paramcheck.F("frequency_ppm", p.FrequencyPpm),
			paramcheck.F("validation_ppm", p.ValidationPpm), paramcheck.F("peer_ppm", p.PeerPpm),
			paramcheck.F("validation_credit_ppm", p.ValidationCreditPpm), paramcheck.F("stake_credit_ppm", p.StakeCreditPpm),
			paramcheck.F("indexed_score", p.IndexedScore)); err != nil {
			return fmt.Errorf("profile %s: %w", p.Address, err)
		}
		if p.Score != 0 {
			return fmt.Errorf("profile %s: score is computed at read time and must be 0 in genesis", p.Address)
		}
		if (!p.PeerRatingSum.IsNil() && p.PeerRatingSum.IsNegative()) || (!p.PeerRatingWeight.IsNil() && p.PeerRatingWeight.IsNegative()) {
			return fmt.Errorf("profile %s: negative peer rating sum or weight", p.Address)
		}
	}
	reviewed := make(map[uint64]bool, len(gs.Reviews))
	for _, r := range gs.Reviews {
		if reviewed[r.RequestId] {
			return fmt.Errorf("duplicate review of request %d", r.RequestId)
		}
		reviewed[r.RequestId] = true
		if r.Rating < MinRating || r.Rating > MaxRating {
			return fmt.Errorf("review of request %d: rating %d outside %d..%d", r.RequestId, r.Rating, MinRating, MaxRating)
		}
		if !seen[r.Subject] {
			return fmt.Errorf("review of request %d: subject %s has no profile", r.RequestId, r.Subject)
		}
		if err := ppm.Validate("weight_ppm", uint64(r.WeightPpm)); err != nil {
			return fmt.Errorf("review of request %d: %w", r.RequestId, err)
		}
	}
	return nil
}
