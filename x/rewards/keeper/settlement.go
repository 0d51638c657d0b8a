package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/rewards/types"
)

// Lazy settlement (docs/rewards.md). Closing an epoch pays no worker: each
// worker keeps one record (WorkerEpoch), and the first time it is touched
// after its epoch closed — a completion, failure or expiry, a claim, or the
// release of its bond (BeforeBondRelease) — touch settles it in O(1): its
// reward ⌊points·rpp/1e18⌋ moves from the epoch's reservation to what it is
// owed, and a failure rate above the threshold in that epoch slashes its bond.

// normalizeWorkerEpoch reads unset amounts of a worker's record as zero.
func normalizeWorkerEpoch(w types.WorkerEpoch) types.WorkerEpoch {
	w.Points = zeroIfNil(w.Points)
	w.EpochRewardsOwed = zeroIfNil(w.EpochRewardsOwed)
	return w
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
		if err := events.Emit(ctx, &types.EventEpochRewardsSettled{
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
// failure_slash_min_attempts attempts. The slash runs on its own through
// isolate.Run: when it fails (e.g. the worker left x/shard, so its bond cannot
// be slashed) it is rolled back and skipped, with
// EventFailureRateSlashSkipped, and the settlement goes on.
func (k Keeper) checkFailureRate(ctx context.Context, worker sdk.AccAddress, addr string, params types.Params, closed types.WorkerEpoch) error {
	if params.FailureSlashPpm == 0 || closed.Attempts < params.FailureSlashMinAttempts ||
		!FailureRateExceeded(closed.Attempts, closed.Failures, params.FailureRateThresholdPpm) {
		return nil
	}
	_ = isolate.Run(sdk.UnwrapSDKContext(ctx), "failure-rate-slash/"+addr, func(c sdk.Context) error {
		return k.slashBond(c, worker, addr, params.FailureSlashPpm, "failure_rate")
	}, func(err error) proto.Message {
		return &types.EventFailureRateSlashSkipped{Worker: addr, Epoch: closed.Epoch, Error: err.Error()}
	})
	return nil
}
