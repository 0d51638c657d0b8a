package types

import (
	"fmt"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/internal/quarantine"
)

// DefaultGenesis returns the genesis state with default params and the
// default topology: one ACTIVE shard per class, ids 1..4 in class order, no
// workers.
func DefaultGenesis() *GenesisState {
	gs := &GenesisState{Params: DefaultParams()}
	gs.SetDefaultTopology()
	return gs
}

// HasNoTopology reports whether gs names no shard, no worker and no next
// shard id: a genesis that only sets params. InitGenesis gives such a
// genesis the default topology.
func (gs GenesisState) HasNoTopology() bool {
	return len(gs.Shards) == 0 && len(gs.Workers) == 0 && gs.NextShardId == 0
}

// SetDefaultTopology replaces the shards with one empty ACTIVE shard per
// class (ids 1..4 in class order) and sets next_shard_id to 5.
func (gs *GenesisState) SetDefaultTopology() {
	gs.Shards = make([]Shard, len(AllClasses))
	for i, c := range AllClasses {
		gs.Shards[i] = Shard{Id: uint64(i + 1), Class: c, Status: ShardActive, LoadPpm: ppm.Max, UnitPrice: gs.Params.PriceFloor.Amount}
	}
	gs.NextShardId = uint64(len(gs.Shards) + 1)
}

// ExpectedLoadPpm is the load_ppm a shard with these counters must carry:
// (in-flight + queued) / capacity in ppm, capped at 1_000_000, and 1_000_000
// without capacity.
func ExpectedLoadPpm(s Shard) uint32 {
	used := s.InFlightUnits + s.QueuedUnits
	if used < s.InFlightUnits { // overflow: certainly full
		return ppm.Max
	}
	if s.CapacityUnits == 0 || used >= s.CapacityUnits {
		return ppm.Max
	}
	return uint32(ppm.MulDiv(used, ppm.Max, s.CapacityUnits))
}

type shardSums struct {
	workers  uint32
	capacity uint64
}

// Validate checks the genesis state: params, unique shards and workers,
// workers attached to known shards, and shard counters that match the
// workers (worker count and capacity of ACTIVE workers, in-flight units of
// all attached workers) with a consistent load_ppm, and an ACTIVE shard for
// every class. A genesis without topology (HasNoTopology) is valid: it gets
// the default one.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if err := quarantine.ValidateGenesis(QuarantineSteps, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	for _, q := range gs.QuarantinedItems {
		if err := validateQuarantineItem(q.Step, q.Item); err != nil {
			return fmt.Errorf("quarantined item %q/%q: %w", q.Step, q.Item, err)
		}
	}
	for _, f := range gs.ItemFailures {
		if err := validateQuarantineItem(f.Step, f.Item); err != nil {
			return fmt.Errorf("item failures %q/%q: %w", f.Step, f.Item, err)
		}
	}
	if gs.HasNoTopology() {
		return nil
	}
	shards := make(map[uint64]Shard, len(gs.Shards))
	for i, s := range gs.Shards {
		if s.Id == 0 {
			return fmt.Errorf("shard %d: id 0 is not valid", i)
		}
		if _, dup := shards[s.Id]; dup {
			return fmt.Errorf("shard %d listed twice", s.Id)
		}
		if s.Id >= gs.NextShardId {
			return fmt.Errorf("shard %d: id not below next_shard_id %d", s.Id, gs.NextShardId)
		}
		if !s.Class.IsValid() {
			return fmt.Errorf("shard %d: invalid class %s", s.Id, s.Class)
		}
		if s.Status != ShardActive && s.Status != ShardDraining && s.Status != ShardRetired {
			return fmt.Errorf("shard %d: invalid status %s", s.Id, s.Status)
		}
		if s.QueuedCount == 0 && s.QueuedUnits != 0 {
			return fmt.Errorf("shard %d: %d queued units but no queued request", s.Id, s.QueuedUnits)
		}
		if s.LoadPpm != ExpectedLoadPpm(s) {
			return fmt.Errorf("shard %d: load_ppm %d, expected %d", s.Id, s.LoadPpm, ExpectedLoadPpm(s))
		}
		if !s.UnitPrice.IsNil() && s.UnitPrice.IsNegative() {
			return fmt.Errorf("shard %d: negative unit_price %s", s.Id, s.UnitPrice)
		}
		if s.LoadEmaPpm > ppm.Max {
			return fmt.Errorf("shard %d: load_ema_ppm %d above %d", s.Id, s.LoadEmaPpm, ppm.Max)
		}
		shards[s.Id] = s
	}
	if gs.NextShardId == 0 {
		return fmt.Errorf("next_shard_id must be positive (shard ids start at 1)")
	}

	ac := addresscodec.NewBech32Codec(chaincfg.Bech32Prefix)
	sums := make(map[uint64]*shardSums, len(shards))
	var shardsInFlight, workersInFlight uint64
	seen := make(map[string]bool, len(gs.Workers))
	for _, w := range gs.Workers {
		bz, err := ac.StringToBytes(w.Address)
		if err != nil {
			return fmt.Errorf("worker %q: invalid address: %w", w.Address, err)
		}
		if len(bz) == 0 {
			return fmt.Errorf("worker %q: empty address", w.Address)
		}
		if seen[string(bz)] {
			return fmt.Errorf("worker %s listed twice", w.Address)
		}
		seen[string(bz)] = true
		if err := w.Bond.Validate(); err != nil {
			return fmt.Errorf("worker %s: bond: %w", w.Address, err)
		}
		if err := ValidateEndpoint(w.Endpoint); err != nil {
			return fmt.Errorf("worker %s: %w", w.Address, err)
		}
		if err := ValidateWorkerClasses(w.Classes); err != nil {
			return fmt.Errorf("worker %s: %w", w.Address, err)
		}
		if w.CapacityUnits == 0 || w.CapacityUnits > MaxWorkerCapacityUnits {
			return fmt.Errorf("worker %s: capacity_units %d not in [1, %d]", w.Address, w.CapacityUnits, MaxWorkerCapacityUnits)
		}
		if w.InFlightUnits > w.CapacityUnits {
			return fmt.Errorf("worker %s: in_flight_units %d above capacity %d", w.Address, w.InFlightUnits, w.CapacityUnits)
		}
		if w.ScorePpm > 1_000_000 {
			return fmt.Errorf("worker %s: score_ppm %d above 1000000", w.Address, w.ScorePpm)
		}
		s, ok := shards[w.ShardId]
		if !ok {
			return fmt.Errorf("worker %s: unknown shard %d", w.Address, w.ShardId)
		}
		if s.Status == ShardRetired {
			return fmt.Errorf("worker %s: attached to retired shard %d", w.Address, w.ShardId)
		}
		classOK := false
		for _, c := range w.Classes {
			classOK = classOK || c == s.Class
		}
		if !classOK {
			return fmt.Errorf("worker %s: shard %d serves %s, not one of the worker's classes", w.Address, s.Id, s.Class)
		}
		switch w.Status {
		case WorkerActive:
			if w.UnbondingHeight != 0 || w.ReleaseHeight != 0 {
				return fmt.Errorf("worker %s: ACTIVE with an unbonding or release height", w.Address)
			}
		case WorkerUnbonding:
			if (w.InFlightUnits == 0) != (w.ReleaseHeight > 0) {
				return fmt.Errorf("worker %s: UNBONDING workers have a release height exactly when nothing is in flight", w.Address)
			}
		default:
			return fmt.Errorf("worker %s: invalid status %s", w.Address, w.Status)
		}
		sum := sums[w.ShardId]
		if sum == nil {
			sum = &shardSums{}
			sums[w.ShardId] = sum
		}
		if w.Status == WorkerActive {
			sum.workers++
			sum.capacity += w.CapacityUnits // capped per worker: cannot overflow in practice
		}
		if workersInFlight+w.InFlightUnits < workersInFlight {
			return fmt.Errorf("worker %s: in-flight units overflow the total", w.Address)
		}
		workersInFlight += w.InFlightUnits
	}
	activePerClass := make([]uint32, len(AllClasses)+1)
	for _, s := range gs.Shards {
		if s.Status == ShardActive {
			activePerClass[s.Class]++
		}
		sum := sums[s.Id]
		if sum == nil {
			sum = &shardSums{}
		}
		if s.WorkerCount != sum.workers || s.CapacityUnits != sum.capacity {
			return fmt.Errorf("shard %d: counters (workers %d, capacity %d) do not match its workers (%d, %d)",
				s.Id, s.WorkerCount, s.CapacityUnits, sum.workers, sum.capacity)
		}
		if shardsInFlight+s.InFlightUnits < shardsInFlight {
			return fmt.Errorf("shard %d: in-flight units overflow the total", s.Id)
		}
		shardsInFlight += s.InFlightUnits
	}
	// In-flight units are counted on the shard of the request they belong
	// to, and a worker moved by a split or merge keeps its work: its units
	// stay on the old shard until they finish (moveWorker). So a shard's
	// in-flight units need not be those of the workers attached to it now;
	// only the totals must agree (x/deferral's genesis and the app's
	// invariants tie each shard's to its ASSIGNED requests).
	if shardsInFlight != workersInFlight {
		return fmt.Errorf("shards hold %d units in flight in total, their workers %d: the counters do not match", shardsInFlight, workersInFlight)
	}
	if err := gs.validateTopologyState(shards); err != nil {
		return err
	}
	for _, c := range AllClasses {
		if activePerClass[c] == 0 {
			return fmt.Errorf("class %s has no ACTIVE shard: requests of the class could not be routed", c)
		}
		// Splits and merges keep a class within [min, max] and MsgUpdateParams
		// refuses bounds that exclude the current counts, so a live chain's
		// export always passes this.
		if n := uint64(activePerClass[c]); n < uint64(gs.Params.MinShardsPerClass) || n > uint64(gs.Params.MaxShardsPerClass) {
			return fmt.Errorf("class %s has %d ACTIVE shards, outside [min_shards_per_class %d, max_shards_per_class %d]",
				c, n, gs.Params.MinShardsPerClass, gs.Params.MaxShardsPerClass)
		}
	}
	return nil
}

// validateTopologyState checks the migrations (known shards of one class, the
// source ACTIVE or DRAINING, the target ACTIVE, one per source), the change
// log (unique positive seqs, at most TopologyLogSize) and the class states.
func (gs GenesisState) validateTopologyState(shards map[uint64]Shard) error {
	from := make(map[uint64]bool, len(gs.Migrations))
	for _, m := range gs.Migrations {
		f, okF := shards[m.FromShardId]
		t, okT := shards[m.ToShardId]
		if !okF || !okT || m.FromShardId == m.ToShardId {
			return fmt.Errorf("migration %d -> %d: unknown or identical shards", m.FromShardId, m.ToShardId)
		}
		if from[m.FromShardId] {
			return fmt.Errorf("migration from shard %d listed twice", m.FromShardId)
		}
		from[m.FromShardId] = true
		if f.Class != t.Class || m.Class != f.Class {
			return fmt.Errorf("migration %d -> %d: shards of different classes", m.FromShardId, m.ToShardId)
		}
		if t.Status != ShardActive || f.Status == ShardRetired {
			return fmt.Errorf("migration %d -> %d: from %s to %s", m.FromShardId, m.ToShardId, f.Status, t.Status)
		}
		if m.Kind != MigrationSplit && m.Kind != MigrationMerge {
			return fmt.Errorf("migration %d -> %d: invalid kind %s", m.FromShardId, m.ToShardId, m.Kind)
		}
		if (m.Kind == MigrationMerge) != (f.Status == ShardDraining) {
			return fmt.Errorf("migration %d -> %d: a %s migration from a %s shard", m.FromShardId, m.ToShardId, m.Kind, f.Status)
		}
	}
	if len(gs.TopologyChanges) > TopologyLogSize {
		return fmt.Errorf("%d topology changes, at most %d are kept", len(gs.TopologyChanges), TopologyLogSize)
	}
	seqs := make(map[uint64]bool, len(gs.TopologyChanges))
	for _, c := range gs.TopologyChanges {
		if c.Seq == 0 || seqs[c.Seq] {
			return fmt.Errorf("topology change seq %d is zero or listed twice", c.Seq)
		}
		seqs[c.Seq] = true
	}
	classes := make(map[ShardClass]bool, len(gs.ClassTopology))
	for _, ct := range gs.ClassTopology {
		if !ct.Class.IsValid() || classes[ct.Class] {
			return fmt.Errorf("class topology %s: invalid or listed twice", ct.Class)
		}
		classes[ct.Class] = true
	}
	return nil
}
