package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/shard/types"
)

// workerOfShard returns the worker at addr if it is attached to shardID.
func (k Keeper) workerOfShard(ctx context.Context, shardID uint64, addr sdk.AccAddress) (types.Worker, types.Shard, error) {
	w, err := k.getWorker(ctx, addr)
	if err != nil {
		return w, types.Shard{}, err
	}
	if w.ShardId != shardID {
		return w, types.Shard{}, errorsmod.Wrapf(types.ErrWorkerNotInShard, "worker %s is in shard %d, not %d", addr, w.ShardId, shardID)
	}
	s, err := k.getShard(ctx, shardID)
	return w, s, err
}

// workerOfRequestShard returns the worker at addr and the shard shardID its
// request was routed to. A worker that moved to another shard of the class
// (a split or merge) keeps the in-flight work it was given: the units stay
// counted on the request's shard until the work finishes.
func (k Keeper) workerOfRequestShard(ctx context.Context, shardID uint64, addr sdk.AccAddress) (types.Worker, types.Shard, error) {
	w, err := k.getWorker(ctx, addr)
	if err != nil {
		return w, types.Shard{}, err
	}
	s, err := k.getShard(ctx, shardID)
	if err != nil || w.ShardId == shardID {
		return w, s, err
	}
	current, err := k.getShard(ctx, w.ShardId)
	if err != nil {
		return w, s, err
	}
	if current.Class != s.Class {
		return w, types.Shard{}, errorsmod.Wrapf(types.ErrWorkerNotInShard,
			"worker %s is in shard %d of class %s, not in shard %d of class %s", addr, w.ShardId, current.Class, shardID, s.Class)
	}
	return w, s, nil
}

// AddInFlight moves units onto an ACTIVE worker of the shard (an
// assignment). It fails, changing nothing, when the worker is not ACTIVE, not
// in the shard, or when its in-flight units would exceed its capacity. O(log n).
func (k Keeper) AddInFlight(ctx context.Context, shardID uint64, worker sdk.AccAddress, units uint64) error {
	if units == 0 {
		return errorsmod.Wrap(types.ErrInvalidUnits, "cannot assign 0 units")
	}
	w, s, err := k.workerOfShard(ctx, shardID, worker)
	if err != nil {
		return err
	}
	if w.Status != types.WorkerActive {
		return errorsmod.Wrapf(types.ErrWorkerNotActive, "worker %s is %s", worker, w.Status)
	}
	if units > w.CapacityUnits-w.InFlightUnits {
		return errorsmod.Wrapf(types.ErrCapacityExceeded, "worker %s: %d in flight + %d > capacity %d",
			worker, w.InFlightUnits, units, w.CapacityUnits)
	}
	nw, ns := w, s
	nw.InFlightUnits += units
	if ns.InFlightUnits, err = addU64(s.InFlightUnits, units); err != nil {
		return err
	}
	if err := k.setWorker(ctx, worker, &w, nw); err != nil {
		return err
	}
	return k.setShard(ctx, &s, ns)
}

// AssignQueued moves one queued request of units from the shard's queue onto
// an ACTIVE worker of the shard: RemoveQueued and AddInFlight with a single
// shard write (the drain of a queued request). It fails, changing nothing,
// under the same conditions as AddInFlight. O(log n).
func (k Keeper) AssignQueued(ctx context.Context, shardID uint64, worker sdk.AccAddress, units uint64) error {
	if units == 0 {
		return errorsmod.Wrap(types.ErrInvalidUnits, "cannot assign 0 units")
	}
	w, s, err := k.workerOfShard(ctx, shardID, worker)
	if err != nil {
		return err
	}
	if w.Status != types.WorkerActive {
		return errorsmod.Wrapf(types.ErrWorkerNotActive, "worker %s is %s", worker, w.Status)
	}
	if units > w.CapacityUnits-w.InFlightUnits {
		return errorsmod.Wrapf(types.ErrCapacityExceeded, "worker %s: %d in flight + %d > capacity %d",
			worker, w.InFlightUnits, units, w.CapacityUnits)
	}
	nw, ns := w, s
	nw.InFlightUnits += units
	if ns.QueuedUnits, err = subU64(s.QueuedUnits, units, "shard queued units"); err != nil {
		return err
	}
	if ns.QueuedCount, err = subU64(s.QueuedCount, 1, "shard queued count"); err != nil {
		return err
	}
	if ns.InFlightUnits, err = addU64(s.InFlightUnits, units); err != nil {
		return err
	}
	if err := k.setWorker(ctx, worker, &w, nw); err != nil {
		return err
	}
	return k.setShard(ctx, &s, ns)
}

// RemoveInFlight takes units off a worker and off the shard the request was
// routed to (the worker's, or one of its class it has since moved from) and counts the outcome
// on the worker (completed, failed or expired; released counts nothing). When an UNBONDING worker's
// in-flight units reach 0, its bond release is scheduled
// unbonding_period_blocks later. O(log n).
func (k Keeper) RemoveInFlight(ctx context.Context, shardID uint64, worker sdk.AccAddress, units uint64, o outcome.Outcome) error {
	if units == 0 {
		return errorsmod.Wrap(types.ErrInvalidUnits, "cannot release 0 units")
	}
	w, s, err := k.workerOfRequestShard(ctx, shardID, worker)
	if err != nil {
		return err
	}
	nw, ns := w, s
	switch o {
	case outcome.Completed:
		nw.Completed++
	case outcome.Failed:
		nw.Failed++
	case outcome.Expired:
		nw.Expired++
	case outcome.Released:
		// taken back through no doing of the worker: counted nowhere
	default:
		return errorsmod.Wrapf(types.ErrInvalidOutcome, "outcome %d", o)
	}
	if nw.InFlightUnits, err = subU64(w.InFlightUnits, units, "worker in-flight units"); err != nil {
		return err
	}
	if ns.InFlightUnits, err = subU64(s.InFlightUnits, units, "shard in-flight units"); err != nil {
		return err
	}
	scheduled := false
	if nw.Status == types.WorkerUnbonding && nw.InFlightUnits == 0 && nw.ReleaseHeight == 0 {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return err
		}
		nw.ReleaseHeight = releaseHeight(ctx, params)
		scheduled = true
	}
	if err := k.setWorker(ctx, worker, &w, nw); err != nil {
		return err
	}
	if err := k.setShard(ctx, &s, ns); err != nil {
		return err
	}
	if scheduled {
		return events.Emit(ctx, &types.EventWorkerReleaseScheduled{
			Worker: w.Address, ReleaseHeight: nw.ReleaseHeight,
		})
	}
	return nil
}

// releaseHeight is when a bond whose unbonding period starts now is returned.
func releaseHeight(ctx context.Context, params types.Params) int64 {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	period := params.UnbondingPeriodBlocks
	if period > uint64(1<<62) {
		period = 1 << 62
	}
	return h + int64(period)
}

// AddQueued counts units queued on a shard (ACTIVE or DRAINING). O(1).
func (k Keeper) AddQueued(ctx context.Context, shardID, units uint64) error {
	if units == 0 {
		return errorsmod.Wrap(types.ErrInvalidUnits, "cannot queue 0 units")
	}
	s, err := k.getShard(ctx, shardID)
	if err != nil {
		return err
	}
	if s.Status != types.ShardActive && s.Status != types.ShardDraining {
		return errorsmod.Wrapf(types.ErrShardNotOpen, "shard %d is %s", shardID, s.Status)
	}
	ns := s
	if ns.QueuedUnits, err = addU64(s.QueuedUnits, units); err != nil {
		return err
	}
	ns.QueuedCount++
	return k.setShard(ctx, &s, ns)
}

// RemoveQueued uncounts one queued request of units from a shard. O(1).
func (k Keeper) RemoveQueued(ctx context.Context, shardID, units uint64) error {
	if units == 0 {
		return errorsmod.Wrap(types.ErrInvalidUnits, "cannot dequeue 0 units")
	}
	s, err := k.getShard(ctx, shardID)
	if err != nil {
		return err
	}
	ns := s
	if ns.QueuedUnits, err = subU64(s.QueuedUnits, units, "shard queued units"); err != nil {
		return err
	}
	if ns.QueuedCount, err = subU64(s.QueuedCount, 1, "shard queued count"); err != nil {
		return err
	}
	return k.setShard(ctx, &s, ns)
}

// SlashBond moves floor(bond × fractionPpm / 1_000_000) of the worker's bond
// from the x/shard module account to the toModule account, lowers the
// worker's bond by it and returns the amount slashed (zero, with nothing
// moved, when it rounds down to 0). ACTIVE and UNBONDING workers can be
// slashed until their bond is returned. toModule must be a module account
// the bank keeper knows.
func (k Keeper) SlashBond(ctx context.Context, worker sdk.AccAddress, fractionPpm uint32, toModule string) (sdk.Coin, error) {
	if fractionPpm > ppm.Max {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidFraction, "%d ppm is above %d", fractionPpm, ppm.Max)
	}
	if toModule == "" {
		return sdk.Coin{}, errorsmod.Wrap(sdkerrors.ErrInvalidRequest, "no recipient module")
	}
	w, err := k.getWorker(ctx, worker)
	if err != nil {
		return sdk.Coin{}, err
	}
	amount := w.Bond.Amount.Mul(sdkmath.NewIntFromUint64(uint64(fractionPpm))).Quo(sdkmath.NewInt(ppm.Max))
	slashed := sdk.NewCoin(w.Bond.Denom, amount)
	if amount.IsZero() {
		return slashed, nil
	}
	if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, toModule, sdk.NewCoins(slashed)); err != nil {
		return sdk.Coin{}, err
	}
	nw := w
	nw.Bond = w.Bond.Sub(slashed)
	if err := k.setWorker(ctx, worker, &w, nw); err != nil {
		return sdk.Coin{}, err
	}
	return slashed, events.Emit(ctx, &types.EventBondSlashed{
		Worker: w.Address, FractionPpm: fractionPpm, Amount: slashed, ToModule: toModule, Remaining: nw.Bond,
	})
}
