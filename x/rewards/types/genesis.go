package types

import (
	"fmt"

	sdkmath "cosmossdk.io/math"

	"github.com/repshard/repshard/internal/quarantine"
)

// DefaultGenesis returns the genesis state with default params and nothing
// owed, pooled or contributed.
func DefaultGenesis() *GenesisState {
	zero := sdkmath.ZeroInt()
	return &GenesisState{
		Params: DefaultParams(), Pool: zero,
		Epoch:  EpochState{Number: 1, StartHeight: 1, TotalPoints: zero},
		Ledger: Ledger{Funded: zero, EpochRewardsClaimed: zero, EpochRewardsOwed: zero, Unsettled: zero, Dust: zero},
	}
}

// Validate checks the genesis state: valid params, one positive entry per
// worker in owed and slashed, one contribution per worker, a non-negative
// pool. Addresses are decoded by InitGenesis with the chain's address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if err := quarantine.ValidateGenesis(QuarantineSteps, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	for _, q := range gs.QuarantinedItems {
		if _, err := ParseEpochItem(q.Item); err != nil {
			return fmt.Errorf("quarantined item %q/%q: %w", q.Step, q.Item, err)
		}
	}
	for _, f := range gs.ItemFailures {
		if _, err := ParseEpochItem(f.Item); err != nil {
			return fmt.Errorf("item failures %q/%q: %w", f.Step, f.Item, err)
		}
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
	return gs.validateEpochs()
}

// rewardPerPointOne is one urep per point in the 1e18 fixed point of
// EpochRecord.reward_per_point: the most an epoch can pay per point.
var rewardPerPointOne = sdkmath.NewIntWithDecimal(1, 18)

func orZero(v sdkmath.Int) sdkmath.Int {
	if v.IsNil() {
		return sdkmath.ZeroInt()
	}
	return v
}

// validateEpochs checks the epoch state against the ledger: every amount
// non-negative, each closed epoch emitting at most its points, each worker
// once, workers in the open or a recorded closed epoch, points adding up, and
// funded = claimed + owed + unsettled + pool +
// dust (a zero ledger means funded = pool).
func (gs GenesisState) validateEpochs() error {
	open := gs.Epoch.Number
	if open == 0 {
		open = 1
	}
	l := gs.Ledger
	amounts := []struct {
		name string
		v    sdkmath.Int
	}{
		{"epoch.total_points", gs.Epoch.TotalPoints}, {"ledger.funded", l.Funded},
		{"ledger.epoch_rewards_claimed", l.EpochRewardsClaimed}, {"ledger.epoch_rewards_owed", l.EpochRewardsOwed},
		{"ledger.unsettled", l.Unsettled}, {"ledger.dust", l.Dust},
	}
	for _, a := range amounts {
		if orZero(a.v).IsNegative() {
			return fmt.Errorf("%s must not be negative, got %s", a.name, a.v)
		}
	}
	records := make(map[uint64]EpochRecord, len(gs.Epochs))
	unsettled := sdkmath.ZeroInt()
	for _, r := range gs.Epochs {
		if r.Number == 0 || r.Number >= open {
			return fmt.Errorf("epochs: epoch %d is not a closed epoch (the open epoch is %d)", r.Number, open)
		}
		if _, dup := records[r.Number]; dup {
			return fmt.Errorf("epochs: duplicate epoch %d", r.Number)
		}
		for _, v := range []sdkmath.Int{r.TotalPoints, r.Emitted, r.RewardPerPoint, r.UnsettledPoints, r.UnsettledAmount, r.Scheduled} {
			if orZero(v).IsNegative() {
				return fmt.Errorf("epochs: epoch %d has a negative amount", r.Number)
			}
		}
		if orZero(r.Emitted).GT(orZero(r.TotalPoints)) || orZero(r.RewardPerPoint).GT(rewardPerPointOne) {
			return fmt.Errorf("epochs: epoch %d emitted %s (reward per point %s) for %s points: an epoch emits at most one urep per point",
				r.Number, orZero(r.Emitted), orZero(r.RewardPerPoint), orZero(r.TotalPoints))
		}
		records[r.Number] = r
		unsettled = unsettled.Add(orZero(r.UnsettledAmount))
	}
	owed := sdkmath.ZeroInt()
	seen := make(map[string]bool, len(gs.WorkerEpochs))
	points := make(map[uint64]sdkmath.Int)
	for _, w := range gs.WorkerEpochs {
		if w.Worker == "" {
			return fmt.Errorf("worker_epochs: empty worker address")
		}
		if seen[w.Worker] {
			return fmt.Errorf("worker_epochs: duplicate worker %s", w.Worker)
		}
		seen[w.Worker] = true
		if w.Epoch == 0 || w.Epoch > open {
			return fmt.Errorf("worker_epochs: %s is in epoch %d; the open epoch is %d", w.Worker, w.Epoch, open)
		}
		if orZero(w.Points).IsNegative() || orZero(w.EpochRewardsOwed).IsNegative() {
			return fmt.Errorf("worker_epochs: %s has a negative amount", w.Worker)
		}
		if w.Failures > w.Attempts {
			return fmt.Errorf("worker_epochs: %s has more failures than attempts", w.Worker)
		}
		owed = owed.Add(orZero(w.EpochRewardsOwed))
		p, ok := points[w.Epoch]
		if !ok {
			p = sdkmath.ZeroInt()
		}
		points[w.Epoch] = p.Add(orZero(w.Points))
	}
	for _, w := range gs.WorkerEpochs {
		if w.Epoch < open && orZero(w.Points).IsPositive() {
			if _, ok := records[w.Epoch]; !ok {
				return fmt.Errorf("worker_epochs: %s has points in epoch %d, which has no record", w.Worker, w.Epoch)
			}
		}
	}
	for _, r := range gs.Epochs {
		p, ok := points[r.Number]
		if !ok {
			p = sdkmath.ZeroInt()
		}
		if !p.Equal(orZero(r.UnsettledPoints)) {
			return fmt.Errorf("epochs: epoch %d has %s unsettled points; its workers have %s", r.Number, r.UnsettledPoints, p)
		}
	}
	openPoints, ok := points[open]
	if !ok {
		openPoints = sdkmath.ZeroInt()
	}
	if !openPoints.Equal(orZero(gs.Epoch.TotalPoints)) {
		return fmt.Errorf("epoch: the open epoch has %s points; its workers have %s", orZero(gs.Epoch.TotalPoints), openPoints)
	}
	if !owed.Equal(orZero(l.EpochRewardsOwed)) {
		return fmt.Errorf("ledger: epoch_rewards_owed %s ≠ Σ worker_epochs %s", l.EpochRewardsOwed, owed)
	}
	if !unsettled.Equal(orZero(l.Unsettled)) {
		return fmt.Errorf("ledger: unsettled %s ≠ Σ epochs' unsettled amounts %s", l.Unsettled, unsettled)
	}
	funded := orZero(l.Funded)
	if funded.IsZero() {
		funded = orZero(gs.Pool)
	}
	sum := orZero(l.EpochRewardsClaimed).Add(owed).Add(unsettled).Add(orZero(gs.Pool)).Add(orZero(l.Dust))
	if !funded.Equal(sum) {
		return fmt.Errorf("ledger: funded %s ≠ claimed + owed + unsettled + pool + dust = %s", funded, sum)
	}
	return nil
}
