package types

import (
	"fmt"

	"github.com/repshard/repshard/internal/paramcheck"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/internal/quarantine"
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
	if err := quarantine.ValidateGenesis(QuarantineSteps, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	for _, q := range gs.QuarantinedItems {
		if _, err := ParseWorkerItem(q.Item); err != nil {
			return fmt.Errorf("quarantined item %q/%q: %w", q.Step, q.Item, err)
		}
	}
	for _, f := range gs.ItemFailures {
		if _, err := ParseWorkerItem(f.Item); err != nil {
			return fmt.Errorf("item failures %q/%q: %w", f.Step, f.Item, err)
		}
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
	return gs.validateWorkers()
}

// validateWorkers checks the worker profiles (one per address, stored form:
// score and factors 0, a paused profile with a resume height and only then,
// non-negative rating sums) and the worker ratings (one per request, 1..5, of
// a worker with a profile).
func (gs GenesisState) validateWorkers() error {
	workers := make(map[string]bool, len(gs.WorkerProfiles))
	for _, w := range gs.WorkerProfiles {
		if w.Address == "" {
			return fmt.Errorf("worker profile with an empty address")
		}
		if workers[w.Address] {
			return fmt.Errorf("duplicate worker profile %s", w.Address)
		}
		workers[w.Address] = true
		if w.Score != 0 || w.ReliabilityPpm != 0 || w.RatingPpm != 0 {
			return fmt.Errorf("worker profile %s: score and factors are computed at read time and must be 0 in genesis", w.Address)
		}
		if err := ppm.Validate("indexed_score", uint64(w.IndexedScore)); err != nil {
			return fmt.Errorf("worker profile %s: %w", w.Address, err)
		}
		if w.Paused != (w.ResumeHeight > 0) {
			return fmt.Errorf("worker profile %s: a paused worker has a positive resume height, and only a paused one", w.Address)
		}
		if (!w.RatingSum.IsNil() && w.RatingSum.IsNegative()) || (!w.RatingWeight.IsNil() && w.RatingWeight.IsNegative()) {
			return fmt.Errorf("worker profile %s: negative rating sum or weight", w.Address)
		}
	}
	rated := make(map[uint64]bool, len(gs.WorkerRatings))
	for _, r := range gs.WorkerRatings {
		if rated[r.RequestId] {
			return fmt.Errorf("duplicate worker rating of request %d", r.RequestId)
		}
		rated[r.RequestId] = true
		if r.Rating < MinRating || r.Rating > MaxRating {
			return fmt.Errorf("worker rating of request %d: rating %d outside %d..%d", r.RequestId, r.Rating, MinRating, MaxRating)
		}
		if !workers[r.Worker] {
			return fmt.Errorf("worker rating of request %d: worker %s has no profile", r.RequestId, r.Worker)
		}
		if r.Requester == "" || r.Requester == r.Worker {
			return fmt.Errorf("worker rating of request %d: the requester must be set and differ from the worker", r.RequestId)
		}
		if err := ppm.Validate("weight_ppm", uint64(r.WeightPpm)); err != nil {
			return fmt.Errorf("worker rating of request %d: %w", r.RequestId, err)
		}
	}
	return nil
}
