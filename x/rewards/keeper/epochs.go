package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/rewards/types"
)

// Epoch accounting (docs/rewards.md).
//
// A worker earns contribution points in the open epoch only. When the epoch
// closes (EndBlock, O(1)) the pool emits E = emission + carried dust and the
// epoch stores its reward per point rpp = ⌊E·1e18/P⌋ (P = the epoch's points).
// ⌊rpp·P/1e18⌋ is reserved for the epoch's workers (Ledger.Unsettled); the rest
// is dust, carried to the next emission. Each worker keeps one record: the
// last epoch it was active in, with its points there. The first time it is
// touched (completion, failure, expiry, claim) after that epoch closed, its
// reward ⌊points·rpp/1e18⌋ moves from the epoch's reservation to what it is
// owed — a constant number of reads and writes, whatever the number of
// workers or of epochs elapsed. When the last worker of an epoch settles,
// what is left of the reservation (per-worker rounding) becomes dust.

// RewardPerPointScale is the fixed-point scale of EpochRecord.RewardPerPoint.
var RewardPerPointScale = sdkmath.NewIntWithDecimal(1, 18)

func zeroIfNil(v sdkmath.Int) sdkmath.Int {
	if v.IsNil() {
		return sdkmath.ZeroInt()
	}
	return v
}

func normalizeLedger(l types.Ledger) types.Ledger {
	l.Funded = zeroIfNil(l.Funded)
	l.EpochRewardsClaimed = zeroIfNil(l.EpochRewardsClaimed)
	l.EpochRewardsOwed = zeroIfNil(l.EpochRewardsOwed)
	l.Unsettled = zeroIfNil(l.Unsettled)
	l.Dust = zeroIfNil(l.Dust)
	return l
}

func normalizeWorkerEpoch(w types.WorkerEpoch) types.WorkerEpoch {
	w.Points = zeroIfNil(w.Points)
	w.EpochRewardsOwed = zeroIfNil(w.EpochRewardsOwed)
	return w
}

func normalizeRecord(r types.EpochRecord) types.EpochRecord {
	r.TotalPoints = zeroIfNil(r.TotalPoints)
	r.Emitted = zeroIfNil(r.Emitted)
	r.RewardPerPoint = zeroIfNil(r.RewardPerPoint)
	r.UnsettledPoints = zeroIfNil(r.UnsettledPoints)
	r.UnsettledAmount = zeroIfNil(r.UnsettledAmount)
	return r
}

// GetLedger returns the pool's book (all zero when unset).
func (k Keeper) GetLedger(ctx context.Context) (types.Ledger, error) {
	l, err := k.Ledger.Get(ctx)
	if err != nil && !errorsIsNotFound(err) {
		return types.Ledger{}, err
	}
	return normalizeLedger(l), nil
}

// GetOpenEpoch returns the open epoch; before genesis wrote one it is epoch 1
// starting at the current block.
func (k Keeper) GetOpenEpoch(ctx context.Context) (types.EpochState, error) {
	e, err := k.OpenEpoch.Get(ctx)
	if err != nil {
		if !errorsIsNotFound(err) {
			return types.EpochState{}, err
		}
		return types.EpochState{Number: 1, StartHeight: max(sdk.UnwrapSDKContext(ctx).BlockHeight(), 1), TotalPoints: sdkmath.ZeroInt()}, nil
	}
	e.TotalPoints = zeroIfNil(e.TotalPoints)
	return e, nil
}

// GetWorkerEpoch returns worker's last-epoch record (zero, in the open epoch,
// when it has none).
func (k Keeper) GetWorkerEpoch(ctx context.Context, worker sdk.AccAddress, addr string, open uint64) (types.WorkerEpoch, error) {
	w, err := k.WorkerEpochs.Get(ctx, worker)
	if err != nil {
		if !errorsIsNotFound(err) {
			return types.WorkerEpoch{}, err
		}
		return types.WorkerEpoch{Worker: addr, Epoch: open, Points: sdkmath.ZeroInt(), EpochRewardsOwed: sdkmath.ZeroInt()}, nil
	}
	return normalizeWorkerEpoch(w), nil
}

// GetEpochRecord returns a closed epoch's record.
func (k Keeper) GetEpochRecord(ctx context.Context, number uint64) (types.EpochRecord, error) {
	r, err := k.EpochRecords.Get(ctx, number)
	if err != nil {
		return types.EpochRecord{}, err
	}
	return normalizeRecord(r), nil
}

// EpochEndHeight is the last block of epoch e under params p.
func EpochEndHeight(e types.EpochState, p types.Params) int64 {
	return e.StartHeight + int64(p.EpochLengthBlocks) - 1
}

// settlement is what touching a worker would do, computed without writing.
type settlement struct {
	// after is the worker's record brought to the open epoch (settled reward
	// added to EpochRewardsOwed, counters reset when the epoch rolled).
	after types.WorkerEpoch
	// rolled: the record was of a closed epoch; closed holds its counters.
	rolled bool
	closed types.WorkerEpoch
	// record is the closed epoch's record after this settlement (nil when
	// the worker had no points there).
	record *types.EpochRecord
	// payout is the epoch reward settled now.
	payout sdkmath.Int
	// dust is what is left of the epoch's reservation when this worker was
	// its last one to settle.
	dust sdkmath.Int
}

// settle computes worker's settlement against the open epoch. O(1): one
// worker record and at most one epoch record are read.
func (k Keeper) settle(ctx context.Context, worker sdk.AccAddress, addr string, open uint64) (settlement, error) {
	ws, err := k.GetWorkerEpoch(ctx, worker, addr, open)
	if err != nil {
		return settlement{}, err
	}
	s := settlement{after: ws, payout: sdkmath.ZeroInt(), dust: sdkmath.ZeroInt()}
	if ws.Epoch >= open {
		return s, nil
	}
	s.rolled, s.closed = true, ws
	if ws.Points.IsPositive() {
		rec, err := k.GetEpochRecord(ctx, ws.Epoch)
		if err != nil {
			return settlement{}, errorsmod.Wrapf(types.ErrAccounting, "worker %s has %s points in epoch %d, which has no record: %v", addr, ws.Points, ws.Epoch, err)
		}
		if rec.UnsettledPoints.LT(ws.Points) {
			return settlement{}, errorsmod.Wrapf(types.ErrAccounting, "epoch %d has %s unsettled points, worker %s claims %s", ws.Epoch, rec.UnsettledPoints, addr, ws.Points)
		}
		payout := ws.Points.Mul(rec.RewardPerPoint).Quo(RewardPerPointScale)
		if payout.GT(rec.UnsettledAmount) {
			return settlement{}, errorsmod.Wrapf(types.ErrAccounting, "epoch %d reserves %s, worker %s is due %s", ws.Epoch, rec.UnsettledAmount, addr, payout)
		}
		rec.UnsettledPoints = rec.UnsettledPoints.Sub(ws.Points)
		rec.UnsettledAmount = rec.UnsettledAmount.Sub(payout)
		if rec.UnsettledPoints.IsZero() {
			s.dust = rec.UnsettledAmount
			rec.UnsettledAmount = sdkmath.ZeroInt()
		}
		s.record, s.payout = &rec, payout
	}
	s.after = types.WorkerEpoch{
		Worker: addr, Epoch: open, Points: sdkmath.ZeroInt(),
		EpochRewardsOwed: ws.EpochRewardsOwed.Add(s.payout),
	}
	return s, nil
}

// touch settles worker against the open epoch and writes the result; a
// failure rate above the threshold in the epoch just settled slashes its bond.
// It returns the worker's record in the open epoch (written) and the open epoch.
func (k Keeper) touch(ctx context.Context, worker sdk.AccAddress, addr string, params types.Params) (types.WorkerEpoch, types.EpochState, error) {
	open, err := k.GetOpenEpoch(ctx)
	if err != nil {
		return types.WorkerEpoch{}, types.EpochState{}, err
	}
	s, err := k.settle(ctx, worker, addr, open.Number)
	if err != nil {
		return types.WorkerEpoch{}, types.EpochState{}, err
	}
	if !s.rolled {
		return s.after, open, nil
	}
	if s.record != nil {
		if err := k.EpochRecords.Set(ctx, s.record.Number, *s.record); err != nil {
			return types.WorkerEpoch{}, types.EpochState{}, err
		}
		ledger, err := k.GetLedger(ctx)
		if err != nil {
			return types.WorkerEpoch{}, types.EpochState{}, err
		}
		ledger.Unsettled = ledger.Unsettled.Sub(s.payout).Sub(s.dust)
		ledger.EpochRewardsOwed = ledger.EpochRewardsOwed.Add(s.payout)
		ledger.Dust = ledger.Dust.Add(s.dust)
		if err := k.Ledger.Set(ctx, ledger); err != nil {
			return types.WorkerEpoch{}, types.EpochState{}, err
		}
		if err := k.emit(ctx, &types.EventEpochRewardsSettled{
			Worker: addr, Epoch: s.closed.Epoch, Points: s.closed.Points, Amount: coin(s.payout),
		}); err != nil {
			return types.WorkerEpoch{}, types.EpochState{}, err
		}
	}
	if err := k.WorkerEpochs.Set(ctx, worker, s.after); err != nil {
		return types.WorkerEpoch{}, types.EpochState{}, err
	}
	if err := k.checkFailureRate(ctx, worker, addr, params, s.closed); err != nil {
		return types.WorkerEpoch{}, types.EpochState{}, err
	}
	return s.after, open, nil
}

// FailureRateExceeded reports whether failures/attempts > threshold.
func FailureRateExceeded(attempts, failures uint64, thresholdPpm uint32) bool {
	if attempts == 0 {
		return false
	}
	return sdkmath.NewIntFromUint64(failures).MulRaw(ppm.Max).GT(sdkmath.NewIntFromUint64(attempts).MulRaw(int64(thresholdPpm)))
}

// BeforeBondRelease settles a worker whose bond x/shard is about to return:
// its last epoch's rewards, and the failure-rate slash of that epoch, which
// lands on the bond before it leaves. While the worker's last epoch with
// attempts is still open its rate cannot be judged yet: not ready, and
// x/shard postpones the release. O(1), like every touch.
func (k Keeper) BeforeBondRelease(ctx context.Context, worker sdk.AccAddress) (bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	addr, err := k.addrString(worker)
	if err != nil {
		return false, err
	}
	open, err := k.GetOpenEpoch(ctx)
	if err != nil {
		return false, err
	}
	ws, err := k.GetWorkerEpoch(ctx, worker, addr, open.Number)
	if err != nil {
		return false, err
	}
	if ws.Epoch >= open.Number && ws.Attempts > 0 {
		return false, nil
	}
	if _, _, err := k.touch(ctx, worker, addr, params); err != nil {
		return false, err
	}
	return true, nil
}

// checkFailureRate slashes failure_slash_ppm of worker's bond when its failure
// rate in the closed epoch exceeded failure_rate_threshold_ppm over at least
// failure_slash_min_attempts attempts. A worker whose
// bond cannot be slashed (it left x/shard) is skipped, with an event.
func (k Keeper) checkFailureRate(ctx context.Context, worker sdk.AccAddress, addr string, params types.Params, closed types.WorkerEpoch) error {
	if params.FailureSlashPpm == 0 || closed.Attempts < params.FailureSlashMinAttempts ||
		!FailureRateExceeded(closed.Attempts, closed.Failures, params.FailureRateThresholdPpm) {
		return nil
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cache, write := sdkCtx.CacheContext()
	if err := k.slashBond(cache, worker, addr, params.FailureSlashPpm, "failure_rate"); err != nil {
		return k.emit(ctx, &types.EventFailureRateSlashSkipped{Worker: addr, Epoch: closed.Epoch, Error: err.Error()})
	}
	write()
	return nil
}

// slashBond slashes fractionPpm of worker's bond into the pool.
func (k Keeper) slashBond(ctx context.Context, worker sdk.AccAddress, addr string, fractionPpm uint32, reason string) error {
	slashed, err := k.shards.SlashBond(ctx, worker, fractionPpm, types.ModuleName)
	if err != nil {
		return errorsmod.Wrap(err, "slash worker bond")
	}
	if slashed.Amount.IsNil() || slashed.IsZero() {
		return nil
	}
	if slashed.Denom != types.Denom || slashed.Amount.IsNegative() {
		return types.ErrInvalidSlash.Wrapf("x/shard slashed %s; expected a non-negative amount of %s", slashed, types.Denom)
	}
	if err := k.addToPool(ctx, slashed.Amount); err != nil {
		return err
	}
	total, err := getMapInt(ctx, k.Slashed, worker)
	if err != nil {
		return err
	}
	if err := k.Slashed.Set(ctx, worker, total.Add(slashed.Amount)); err != nil {
		return err
	}
	return k.emit(ctx, &types.EventBondSlashed{Worker: addr, Amount: slashed, FractionPpm: fractionPpm, Reason: reason})
}

// addToPool credits amount (already in the rewards account) to the pool.
func (k Keeper) addToPool(ctx context.Context, amount sdkmath.Int) error {
	pool, err := k.GetPool(ctx)
	if err != nil {
		return err
	}
	if err := k.Pool.Set(ctx, pool.Add(amount)); err != nil {
		return err
	}
	ledger, err := k.GetLedger(ctx)
	if err != nil {
		return err
	}
	ledger.Funded = ledger.Funded.Add(amount)
	return k.Ledger.Set(ctx, ledger)
}

// recordAttempt touches worker and counts one finished request in the open
// epoch, with points if it completed, as a failure if it did not.
func (k Keeper) recordAttempt(ctx context.Context, worker sdk.AccAddress, addr string, params types.Params, points sdkmath.Int, failed bool) error {
	ws, open, err := k.touch(ctx, worker, addr, params)
	if err != nil {
		return err
	}
	ws.Attempts++
	if failed {
		ws.Failures++
	}
	if points.IsPositive() {
		ws.Points = ws.Points.Add(points)
		open.TotalPoints = open.TotalPoints.Add(points)
		if err := k.OpenEpoch.Set(ctx, open); err != nil {
			return err
		}
	}
	return k.WorkerEpochs.Set(ctx, worker, ws)
}

// PendingEpochRewards is what worker would be owed in epoch rewards if it
// were touched now (settled and not yet claimed). It writes nothing.
func (k Keeper) PendingEpochRewards(ctx context.Context, worker sdk.AccAddress) (sdkmath.Int, error) {
	addr, err := k.addrString(worker)
	if err != nil {
		return sdkmath.Int{}, err
	}
	open, err := k.GetOpenEpoch(ctx)
	if err != nil {
		return sdkmath.Int{}, err
	}
	s, err := k.settle(ctx, worker, addr, open.Number)
	if err != nil {
		return sdkmath.Int{}, err
	}
	return s.after.EpochRewardsOwed, nil
}

// EndBlock closes the open epoch at its last block. A failure is rolled back
// alone and reported in an event: the epoch stays open, the chain goes on.
func (k Keeper) EndBlock(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	open, err := k.GetOpenEpoch(ctx)
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if sdkCtx.BlockHeight() < EpochEndHeight(open, params) {
		return nil
	}
	cache, write := sdkCtx.CacheContext()
	if err := k.closeEpoch(cache, params, open); err != nil {
		return k.emit(ctx, &types.EventEpochCloseFailed{Number: open.Number, Error: err.Error()})
	}
	write()
	return nil
}

// Emission is what the pool emits at the end of an epoch (before dust):
// pool·epoch_emission_fraction_ppm/1e6 when the fraction is set, otherwise
// epoch_emission_fixed capped by the pool.
func Emission(pool sdkmath.Int, params types.Params) sdkmath.Int {
	if params.EpochEmissionFractionPpm > 0 {
		return ppmOf(pool, params.EpochEmissionFractionPpm)
	}
	fixed := zeroIfNil(params.EpochEmissionFixed.Amount)
	return sdkmath.MinInt(fixed, pool)
}

// closeEpoch records the epoch's emission and opens the next epoch. O(1).
func (k Keeper) closeEpoch(ctx context.Context, params types.Params, open types.EpochState) error {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	pool, err := k.GetPool(ctx)
	if err != nil {
		return err
	}
	ledger, err := k.GetLedger(ctx)
	if err != nil {
		return err
	}
	rec := types.EpochRecord{
		Number: open.Number, StartHeight: open.StartHeight, EndHeight: height,
		TotalPoints: open.TotalPoints, Emitted: sdkmath.ZeroInt(), RewardPerPoint: sdkmath.ZeroInt(),
		UnsettledPoints: open.TotalPoints, UnsettledAmount: sdkmath.ZeroInt(),
	}
	if open.TotalPoints.IsPositive() {
		// No contribution, no emission: the pool and the dust wait.
		base := Emission(pool, params)
		emitted := base.Add(ledger.Dust)
		rec.Emitted = emitted
		rec.RewardPerPoint = emitted.Mul(RewardPerPointScale).Quo(open.TotalPoints)
		rec.UnsettledAmount = rec.RewardPerPoint.Mul(open.TotalPoints).Quo(RewardPerPointScale)
		pool = pool.Sub(base)
		ledger.Dust = emitted.Sub(rec.UnsettledAmount)
		ledger.Unsettled = ledger.Unsettled.Add(rec.UnsettledAmount)
		if err := k.Pool.Set(ctx, pool); err != nil {
			return err
		}
		if err := k.Ledger.Set(ctx, ledger); err != nil {
			return err
		}
		if err := k.EpochRecords.Set(ctx, rec.Number, rec); err != nil {
			return err
		}
	}
	next := types.EpochState{Number: open.Number + 1, StartHeight: height + 1, TotalPoints: sdkmath.ZeroInt()}
	if err := k.OpenEpoch.Set(ctx, next); err != nil {
		return err
	}
	return k.emit(ctx, &types.EventEpochClosed{
		Number: rec.Number, TotalPoints: rec.TotalPoints, Emitted: coin(rec.Emitted),
		RewardPerPoint: rec.RewardPerPoint, Dust: coin(ledger.Dust), Pool: coin(pool),
	})
}

// FundPool moves amount from funder into the pool.
func (k Keeper) FundPool(ctx context.Context, funder sdk.AccAddress, amount sdk.Coin) (sdk.Coin, error) {
	addr, err := k.addrString(funder)
	if err != nil {
		return sdk.Coin{}, err
	}
	if err := ValidateFunding(amount); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, funder, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return sdk.Coin{}, types.ErrFunderCannotPay.Wrapf("%s cannot pay %s: %s", addr, amount, err)
	}
	if err := k.addToPool(ctx, amount.Amount); err != nil {
		return sdk.Coin{}, err
	}
	pool, err := k.GetPool(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	return coin(pool), k.emit(ctx, &types.EventPoolFunded{Funder: addr, Amount: amount, Pool: coin(pool)})
}

// ValidateFunding accepts a positive amount in the bond denom.
func ValidateFunding(amount sdk.Coin) error {
	if amount.Denom != types.Denom {
		return types.ErrInvalidFunding.Wrapf("the pool is funded in %s, got %q", types.Denom, amount.Denom)
	}
	if amount.Amount.IsNil() || !amount.Amount.IsPositive() {
		return types.ErrInvalidFunding.Wrapf("amount must be positive, got %s", amount.Amount)
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
// Σ epoch reservations = Ledger unsettled, each closed epoch's unsettled
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
