package keeper

import (
	"context"
	"errors"
	"fmt"

	sdkmath "cosmossdk.io/math"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/isolate"
	"github.com/repshard/repshard/internal/nodemetrics"
	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/rewards/types"
)

// Epoch accounting (docs/rewards.md).
//
// A worker earns contribution points in the open epoch only: a completion
// earns its protocol share, in urep (PayCompletion). When the epoch closes
// (EndBlock, O(1)) the pool emits E = min(scheduled emission + carried dust, P)
// (P = the epoch's points) and the epoch stores its reward per point
// rpp = ⌊E·1e18/P⌋ ≤ 1e18. The cap is the emission rule: a point earns at most
// one urep, so a completion earns back at most the protocol share it paid, and
// a requester paying a worker of its own cannot profit from the pool. What the
// cap withholds stays in the pool. ⌊rpp·P/1e18⌋ is reserved for the epoch's
// workers (Ledger.Unsettled); the rest is dust, carried to the next emission.
// Each worker keeps one record: the last epoch it was active in, with its
// points there. The first time it is touched (completion, failure, expiry,
// claim) after that epoch closed, its reward ⌊points·rpp/1e18⌋ ≤ points moves
// from the epoch's reservation to what it is owed — a constant number of
// reads and writes, whatever the number of workers or of epochs elapsed. When the last worker of an epoch settles,
// what is left of the reservation (per-worker rounding) becomes dust.
//
// This file opens and closes epochs; the per-worker settlement is in
// settlement.go, the pool and its book in pool.go, the checks in
// invariants.go.

// RewardPerPointScale is the fixed-point scale of EpochRecord.RewardPerPoint.
var RewardPerPointScale = sdkmath.NewIntWithDecimal(1, 18)

// normalizeRecord reads unset amounts of an epoch record as zero.
func normalizeRecord(r types.EpochRecord) types.EpochRecord {
	r.TotalPoints = zeroIfNil(r.TotalPoints)
	r.Emitted = zeroIfNil(r.Emitted)
	r.RewardPerPoint = zeroIfNil(r.RewardPerPoint)
	r.UnsettledPoints = zeroIfNil(r.UnsettledPoints)
	r.UnsettledAmount = zeroIfNil(r.UnsettledAmount)
	r.Scheduled = zeroIfNil(r.Scheduled)
	return r
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

// StepEpochClose names the epoch close in the node metrics
// (nodemetrics.EndBlockStep): one item, in the epoch's last block.
const StepEpochClose = "epoch_close"

// EndBlock closes the open epoch at its last block. The close runs on its
// own through isolate.Run: a failure (an error or a panic) is rolled back and
// reported with EventEpochCloseFailed; the epoch stays open and the next
// block tries again. At the max_item_failures-th failure in a row the close
// is quarantined (step close_epoch): the epoch is closed without emission
// (closeWithoutEmission), so the next epoch opens and the chain's epochs go
// on; governance may retry the emission or drop it (quarantine.go).
//
// The chain never halts here: a step that cannot read its own state is
// reported with EventEndBlockStepFailed and skipped for the block; only a
// failure of the quarantine's own writes (a broken store) is returned.
func (k Keeper) EndBlock(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := k.closeDueEpoch(sdkCtx); err != nil {
		if errors.Is(err, quarantine.ErrBrokenStore) {
			return err
		}
		quarantine.ReportStepFailure(sdkCtx, types.ModuleName, types.StepCloseEpoch, err)
	}
	return nil
}

// closeDueEpoch is the EndBlock step of EndBlock.
func (k Keeper) closeDueEpoch(ctx sdk.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	open, err := k.GetOpenEpoch(ctx)
	if err != nil {
		return err
	}
	nodemetrics.SetOpenEpoch(open.Number)
	if ctx.BlockHeight() < EpochEndHeight(open, params) {
		return nil
	}
	sw := nodemetrics.Start()
	defer nodemetrics.EndBlockStep(types.ModuleName, StepEpochClose, sw, 1)
	tr, err := k.ItemQuarantine.Track(ctx, types.StepCloseEpoch, params.MaxItemFailures)
	if err != nil {
		return err
	}
	item := types.EpochItem(open.Number)
	cause := isolate.Run(ctx, item, tr.Succeed(item, func(c sdk.Context) error {
		return k.closeEpoch(c, params, open)
	}), func(err error) proto.Message {
		return &types.EventEpochCloseFailed{Number: open.Number, Error: err.Error()}
	})
	if cause == nil {
		return nil
	}
	// The quarantine and the close without emission go together: when the
	// fallback fails too, neither happens (the count stays one below the
	// limit, and the next block tries the close again).
	cacheCtx, write := ctx.CacheContext()
	quarantined, err := tr.Fail(cacheCtx, item, nil, cause)
	if err != nil {
		return err
	}
	if quarantined {
		if err := isolate.Run(cacheCtx, item+"/without-emission", func(c sdk.Context) error {
			return k.closeWithoutEmission(c, open, cause)
		}, nil); err != nil {
			return fmt.Errorf("close epoch %d without emission after %s: %w", open.Number, cause, err)
		}
	}
	write()
	return nil
}

// closeWithoutEmission closes the open epoch without taking anything from the
// pool: a record with its points and a reward per point of zero (when it has
// points, so its workers settle as usual, for nothing), and the next epoch
// opens. It reads neither the pool nor the ledger, which a failing close may
// be failing on. O(1).
func (k Keeper) closeWithoutEmission(ctx sdk.Context, open types.EpochState, cause error) error {
	height := ctx.BlockHeight()
	if open.TotalPoints.IsPositive() {
		zero := sdkmath.ZeroInt()
		if err := k.EpochRecords.Set(ctx, open.Number, types.EpochRecord{
			Number: open.Number, StartHeight: open.StartHeight, EndHeight: height,
			TotalPoints: open.TotalPoints, Emitted: zero, RewardPerPoint: zero,
			UnsettledPoints: open.TotalPoints, UnsettledAmount: zero, Scheduled: zero,
		}); err != nil {
			return err
		}
	}
	next := types.EpochState{Number: open.Number + 1, StartHeight: height + 1, TotalPoints: sdkmath.ZeroInt()}
	if err := k.OpenEpoch.Set(ctx, next); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventEpochClosedWithoutEmission{
		Number: open.Number, TotalPoints: open.TotalPoints, Error: quarantine.Truncate(cause.Error()),
	})
}

// Emission is what the schedule offers from the pool at the end of an epoch
// (before dust and before the cap at the epoch's points):
// pool·epoch_emission_fraction_ppm/1e6 when the fraction is set, otherwise
// epoch_emission_fixed capped by the pool.
func Emission(pool sdkmath.Int, params types.Params) sdkmath.Int {
	if params.EpochEmissionFractionPpm > 0 {
		return ppmOf(pool, params.EpochEmissionFractionPpm)
	}
	fixed := zeroIfNil(params.EpochEmissionFixed.Amount)
	return sdkmath.MinInt(fixed, pool)
}

// CappedEmission is what an epoch with points emits: the scheduled emission
// plus the carried dust, capped at the points, so that the reward per point
// is at most one urep.
func CappedEmission(scheduled, points sdkmath.Int) sdkmath.Int {
	return sdkmath.MinInt(scheduled, points)
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
	scheduled := Emission(pool, params).Add(ledger.Dust)
	rec := types.EpochRecord{
		Number: open.Number, StartHeight: open.StartHeight, EndHeight: height,
		TotalPoints: open.TotalPoints, Emitted: sdkmath.ZeroInt(), RewardPerPoint: sdkmath.ZeroInt(),
		UnsettledPoints: open.TotalPoints, UnsettledAmount: sdkmath.ZeroInt(), Scheduled: scheduled,
	}
	if open.TotalPoints.IsPositive() {
		// No contribution, no emission: the pool and the dust wait.
		if err := k.emit(ctx, &rec, open.TotalPoints, &pool, &ledger); err != nil {
			return err
		}
	}
	next := types.EpochState{Number: open.Number + 1, StartHeight: height + 1, TotalPoints: sdkmath.ZeroInt()}
	if err := k.OpenEpoch.Set(ctx, next); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventEpochClosed{
		Number: rec.Number, TotalPoints: rec.TotalPoints, Emitted: coin(rec.Emitted),
		RewardPerPoint: rec.RewardPerPoint, Dust: coin(ledger.Dust), Pool: coin(pool), Scheduled: coin(scheduled),
	})
}

// emit takes the emission of rec from the pool for points (an epoch's points,
// or the points still unsettled when governance retries the emission of an
// epoch closed without one): E = min(rec.Scheduled, points), the reward per
// point ⌊E·1e18/points⌋, ⌊rpp·points/1e18⌋ reserved for the workers and the
// rest of E carried as dust. The carried dust goes out first; the pool pays
// the rest of the emission and keeps what the cap withheld (dust included).
// It writes the pool, the ledger and rec.
func (k Keeper) emit(ctx context.Context, rec *types.EpochRecord, points sdkmath.Int, pool *sdkmath.Int, ledger *types.Ledger) error {
	emitted := CappedEmission(rec.Scheduled, points)
	rec.Emitted = emitted
	rec.RewardPerPoint = emitted.Mul(RewardPerPointScale).Quo(points)
	rec.UnsettledAmount = rec.RewardPerPoint.Mul(points).Quo(RewardPerPointScale)
	*pool = pool.Add(ledger.Dust).Sub(emitted)
	ledger.Dust = emitted.Sub(rec.UnsettledAmount)
	ledger.Unsettled = ledger.Unsettled.Add(rec.UnsettledAmount)
	if err := k.Pool.Set(ctx, *pool); err != nil {
		return err
	}
	if err := k.Ledger.Set(ctx, *ledger); err != nil {
		return err
	}
	return k.EpochRecords.Set(ctx, rec.Number, *rec)
}
