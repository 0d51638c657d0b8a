package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/rewards/types"
)

// The module's invariants. Tests and simulations check them after each block
// (app/invariants.go), never inside one: CheckAccounting reads whole
// collections.

// CheckSolvency is the solvency invariant: the rewards account holds at least
// what workers are owed (fee earnings and settled epoch rewards), the
// epoch rewards reserved for workers not yet settled, the pool and the dust.
func (k Keeper) CheckSolvency(ctx context.Context) error {
	owed, err := k.GetTotalOwed(ctx)
	if err != nil {
		return err
	}
	pool, err := k.GetPool(ctx)
	if err != nil {
		return err
	}
	l, err := k.GetLedger(ctx)
	if err != nil {
		return err
	}
	need := owed.Add(pool).Add(l.EpochRewardsOwed).Add(l.Unsettled).Add(l.Dust)
	bal := k.RewardsBalance(ctx)
	if bal.LT(need) {
		return types.ErrInsolvent.Wrapf("rewards balance %s%s < fees owed %s + pool %s + epoch rewards owed %s + unsettled %s + dust %s",
			bal, types.Denom, owed, pool, l.EpochRewardsOwed, l.Unsettled, l.Dust)
	}
	return nil
}

// CheckLedger checks the pool's book in O(1):
// funded = epoch rewards claimed + owed + unsettled + pool + dust.
func (k Keeper) CheckLedger(ctx context.Context) error {
	l, err := k.GetLedger(ctx)
	if err != nil {
		return err
	}
	pool, err := k.GetPool(ctx)
	if err != nil {
		return err
	}
	sum := l.EpochRewardsClaimed.Add(l.EpochRewardsOwed).Add(l.Unsettled).Add(pool).Add(l.Dust)
	if !l.Funded.Equal(sum) {
		return types.ErrAccounting.Wrapf("funded %s ≠ claimed %s + owed %s + unsettled %s + pool %s + dust %s = %s",
			l.Funded, l.EpochRewardsClaimed, l.EpochRewardsOwed, l.Unsettled, pool, l.Dust, sum)
	}
	for _, v := range []struct {
		name   string
		amount sdkmath.Int
	}{{"claimed", l.EpochRewardsClaimed}, {"owed", l.EpochRewardsOwed}, {"unsettled", l.Unsettled}, {"dust", l.Dust}, {"pool", pool}} {
		if v.amount.IsNegative() {
			return types.ErrAccounting.Wrapf("%s is negative: %s", v.name, v.amount)
		}
	}
	return nil
}

// CheckAccounting is the full invariant of the module, for tests and
// simulations after a block (it walks every collection): solvency, the
// ledger, Σ Owed = TotalOwed, Σ worker epoch rewards owed = Ledger owed,
// Σ epoch reservations = Ledger unsettled, each closed epoch emitted at most
// its points (reward per point ≤ 1e18: the emission cap), its unsettled
// points = Σ points of its unsettled workers and its reservation covers them,
// and the open epoch's points = Σ points of its workers.
func (k Keeper) CheckAccounting(ctx context.Context) error {
	if err := k.CheckSolvency(ctx); err != nil {
		return err
	}
	if err := k.CheckLedger(ctx); err != nil {
		return err
	}
	l, err := k.GetLedger(ctx)
	if err != nil {
		return err
	}
	owed := sdkmath.ZeroInt()
	if err := k.Owed.Walk(ctx, nil, func(_ sdk.AccAddress, v sdkmath.Int) (bool, error) {
		owed = owed.Add(v)
		return false, nil
	}); err != nil {
		return err
	}
	total, err := k.GetTotalOwed(ctx)
	if err != nil {
		return err
	}
	if !owed.Equal(total) {
		return types.ErrAccounting.Wrapf("Σ fee earnings owed %s ≠ total owed %s", owed, total)
	}
	open, err := k.GetOpenEpoch(ctx)
	if err != nil {
		return err
	}
	epochOwed, closedPoints := sdkmath.ZeroInt(), sdkmath.ZeroInt()
	pointsByEpoch := map[uint64]sdkmath.Int{}
	if err := k.WorkerEpochs.Walk(ctx, nil, func(_ sdk.AccAddress, w types.WorkerEpoch) (bool, error) {
		w = normalizeWorkerEpoch(w)
		epochOwed = epochOwed.Add(w.EpochRewardsOwed)
		if w.Epoch > open.Number {
			return true, types.ErrAccounting.Wrapf("worker %s is in epoch %d, after the open epoch %d", w.Worker, w.Epoch, open.Number)
		}
		p, ok := pointsByEpoch[w.Epoch]
		if !ok {
			p = sdkmath.ZeroInt()
		}
		pointsByEpoch[w.Epoch] = p.Add(w.Points)
		if w.Epoch < open.Number {
			closedPoints = closedPoints.Add(w.Points)
		}
		return false, nil
	}); err != nil {
		return err
	}
	if !epochOwed.Equal(l.EpochRewardsOwed) {
		return types.ErrAccounting.Wrapf("Σ workers' epoch rewards owed %s ≠ ledger %s", epochOwed, l.EpochRewardsOwed)
	}
	pointsOf := func(e uint64) sdkmath.Int {
		if p, ok := pointsByEpoch[e]; ok {
			return p
		}
		return sdkmath.ZeroInt()
	}
	if !pointsOf(open.Number).Equal(open.TotalPoints) {
		return types.ErrAccounting.Wrapf("open epoch %d has %s points; its workers have %s", open.Number, open.TotalPoints, pointsOf(open.Number))
	}
	unsettled, recordPoints := sdkmath.ZeroInt(), sdkmath.ZeroInt()
	if err := k.EpochRecords.Walk(ctx, nil, func(n uint64, r types.EpochRecord) (bool, error) {
		r = normalizeRecord(r)
		unsettled = unsettled.Add(r.UnsettledAmount)
		recordPoints = recordPoints.Add(r.UnsettledPoints)
		if !pointsOf(n).Equal(r.UnsettledPoints) {
			return true, types.ErrAccounting.Wrapf("epoch %d has %s unsettled points; its workers have %s", n, r.UnsettledPoints, pointsOf(n))
		}
		if r.Emitted.GT(r.TotalPoints) || r.RewardPerPoint.GT(RewardPerPointScale) {
			return true, types.ErrAccounting.Wrapf("epoch %d emitted %s (reward per point %s) for %s points: above one urep per point",
				n, r.Emitted, r.RewardPerPoint, r.TotalPoints)
		}
		if due := r.UnsettledPoints.Mul(r.RewardPerPoint).Quo(RewardPerPointScale); r.UnsettledAmount.LT(due) {
			return true, types.ErrAccounting.Wrapf("epoch %d reserves %s for workers due up to %s", n, r.UnsettledAmount, due)
		}
		return false, nil
	}); err != nil {
		return err
	}
	if !recordPoints.Equal(closedPoints) {
		return types.ErrAccounting.Wrapf("closed epochs have %s unsettled points; workers hold %s", recordPoints, closedPoints)
	}
	if !unsettled.Equal(l.Unsettled) {
		return types.ErrAccounting.Wrapf("Σ epoch reservations %s ≠ ledger unsettled %s", unsettled, l.Unsettled)
	}
	return nil
}
