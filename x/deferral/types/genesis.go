package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/quarantine"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// DefaultGenesis returns the genesis state with default params and no requests.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextRequestId: 1}
}

// Validate checks the genesis state: params, and records that are unique,
// in id order, below next_request_id and internally consistent.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if gs.NextRequestId == 0 {
		return fmt.Errorf("next_request_id must be positive")
	}
	var prev uint64
	for i, r := range gs.Requests {
		if r.Id == 0 || r.Id <= prev {
			return fmt.Errorf("request %d (entry %d): ids must be positive, unique and increasing", r.Id, i)
		}
		prev = r.Id
		if r.Id >= gs.NextRequestId {
			return fmt.Errorf("request %d: id must be below next_request_id %d", r.Id, gs.NextRequestId)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("request %d: %w", r.Id, err)
		}
	}
	if err := quarantine.ValidateGenesis(QuarantineSteps, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	for _, q := range gs.QuarantinedItems {
		if _, err := ParseRequestItem(q.Item); err != nil {
			return fmt.Errorf("quarantined item %q/%q: %w", q.Step, q.Item, err)
		}
	}
	for _, f := range gs.ItemFailures {
		if _, err := ParseRequestItem(f.Item); err != nil {
			return fmt.Errorf("item failures %q/%q: %w", f.Step, f.Item, err)
		}
	}
	seen := make(map[string]bool, len(gs.ResultDelegates))
	for i, d := range gs.ResultDelegates {
		r, err := sdk.AccAddressFromBech32(d.Requester)
		if err != nil {
			return fmt.Errorf("result delegate %d: invalid requester: %w", i, err)
		}
		del, err := sdk.AccAddressFromBech32(d.Delegate)
		if err != nil {
			return fmt.Errorf("result delegate %d: invalid delegate: %w", i, err)
		}
		if r.Equals(del) {
			return fmt.Errorf("result delegate %d: %s is its own delegate", i, d.Requester)
		}
		if seen[d.Requester] {
			return fmt.Errorf("result delegate %d: requester %s listed twice", i, d.Requester)
		}
		seen[d.Requester] = true
	}
	return nil
}

// Validate checks a record's own consistency.
func (r Request) Validate() error {
	if _, err := sdk.AccAddressFromBech32(r.Requester); err != nil {
		return fmt.Errorf("invalid requester: %w", err)
	}
	if _, ok := shardtypes.ShardClass_name[int32(r.Class)]; !ok || r.Class == shardtypes.ClassUnspecified {
		return fmt.Errorf("invalid class %d", r.Class)
	}
	if _, ok := RequestStatus_name[int32(r.Status)]; !ok || r.Status == StatusUnspecified {
		return fmt.Errorf("invalid status %d", r.Status)
	}
	if r.ComputeUnits == 0 {
		return fmt.Errorf("compute units must be positive")
	}
	if err := r.Fee.Validate(); err != nil {
		return fmt.Errorf("invalid fee: %w", err)
	}
	if r.ShardId == 0 {
		return fmt.Errorf("shard id must be set")
	}
	if r.PriorityPpm > 1_000_000 {
		return fmt.Errorf("priority %d above 1000000 ppm", r.PriorityPpm)
	}
	if len(r.ExcludedWorkers) > MaxAttemptsLimit || len(r.FailureReports) > MaxAttemptsLimit {
		return fmt.Errorf("%d excluded workers and %d failure reports; each is at most %d (max_attempts)",
			len(r.ExcludedWorkers), len(r.FailureReports), MaxAttemptsLimit)
	}
	for _, w := range r.ExcludedWorkers {
		if _, err := sdk.AccAddressFromBech32(w); err != nil {
			return fmt.Errorf("invalid excluded worker %q: %w", w, err)
		}
	}
	if r.Replicas > MaxReplicasLimit || r.TiebreakBudget > MaxReplicasLimit || r.TiebreakUsed > r.TiebreakBudget {
		return fmt.Errorf("replicas %d, tie-break budget %d, used %d: at most %d each, used within the budget",
			r.Replicas, r.TiebreakBudget, r.TiebreakUsed, MaxReplicasLimit)
	}
	if uint32(len(r.ReplicaRuns)) > r.Replicas+r.TiebreakUsed || (r.Replicas <= 1 && len(r.ReplicaRuns) > 0) {
		return fmt.Errorf("%d replica runs for %d replicas and %d tie-break replicas", len(r.ReplicaRuns), r.Replicas, r.TiebreakUsed)
	}
	for i, run := range r.ReplicaRuns {
		if _, err := sdk.AccAddressFromBech32(run.Worker); err != nil {
			return fmt.Errorf("invalid replica worker %q: %w", run.Worker, err)
		}
		if run.Worker == r.Requester {
			return fmt.Errorf("replica %d runs on the requester's own account", i)
		}
		for _, other := range r.ReplicaRuns[:i] {
			if other.Worker == run.Worker {
				return fmt.Errorf("worker %s runs two replicas", run.Worker)
			}
		}
	}
	for _, f := range r.FailureReports {
		if _, err := sdk.AccAddressFromBech32(f.Worker); err != nil {
			return fmt.Errorf("invalid failure reporter %q: %w", f.Worker, err)
		}
		if len(f.Reason) > MaxFailureReasonBytes {
			return fmt.Errorf("failure reason of %s: %d bytes, at most %d", f.Worker, len(f.Reason), MaxFailureReasonBytes)
		}
	}
	if r.Worker != "" {
		if _, err := sdk.AccAddressFromBech32(r.Worker); err != nil {
			return fmt.Errorf("invalid worker: %w", err)
		}
	}
	if r.Status == StatusAssigned && r.Replicas <= 1 && r.Worker == "" {
		return fmt.Errorf("an assigned request needs a worker")
	}
	if r.Status == StatusAssigned && r.Replicas > 1 && len(r.ReplicaRuns) == 0 {
		return fmt.Errorf("an assigned replicated request needs replica runs")
	}
	if r.DueHeight < 0 || r.DeadlineHeight < 0 || r.QueueExpiryHeight < 0 || r.FinishHeight < 0 || r.RequesterDeadlineHeight < 0 {
		return fmt.Errorf("heights must not be negative")
	}
	return nil
}
