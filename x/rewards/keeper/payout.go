package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/rewards/types"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, collections.ErrNotFound) }

// checkFee accepts a non-negative fee in the bond denom.
func checkFee(fee sdk.Coin) error {
	if fee.Denom != types.Denom {
		return types.ErrInvalidFee.Wrapf("fee must be in %s, got %q", types.Denom, fee.Denom)
	}
	if fee.Amount.IsNil() || fee.Amount.IsNegative() {
		return types.ErrInvalidFee.Wrapf("fee must not be negative, got %s", fee.Amount)
	}
	return nil
}

// ppmOf returns ⌊amount·fraction/1e6⌋.
func ppmOf(amount sdkmath.Int, fraction uint32) sdkmath.Int {
	return amount.MulRaw(int64(fraction)).QuoRaw(ppm.Max)
}

func coin(amount sdkmath.Int) sdk.Coin { return sdk.NewCoin(types.Denom, amount) }

func (k Keeper) addrString(addr sdk.AccAddress) (string, error) {
	s, err := k.addressCodec.BytesToString(addr)
	if err != nil {
		return "", types.ErrInvalidAddress.Wrap(err.Error())
	}
	return s, nil
}

// EscrowFee moves fee from the requester into the escrow account. A requester
// that cannot pay gets ErrInsufficientFunds and nothing moves.
func (k Keeper) EscrowFee(ctx context.Context, requester sdk.AccAddress, fee sdk.Coin) error {
	if err := checkFee(fee); err != nil {
		return err
	}
	addr, err := k.addrString(requester)
	if err != nil {
		return err
	}
	if fee.IsZero() {
		return nil
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, requester, types.EscrowAccountName, sdk.NewCoins(fee)); err != nil {
		if errors.Is(err, sdkerrors.ErrInsufficientFunds) {
			return types.ErrInsufficientFunds.Wrapf("%s cannot pay the fee %s: %s", addr, fee, err)
		}
		return err
	}
	return events.Emit(ctx, &types.EventFeeEscrowed{Requester: addr, Fee: fee})
}

// Refund returns an escrowed fee to the requester.
func (k Keeper) Refund(ctx context.Context, requester sdk.AccAddress, fee sdk.Coin) error {
	if err := checkFee(fee); err != nil {
		return err
	}
	addr, err := k.addrString(requester)
	if err != nil {
		return err
	}
	if fee.IsZero() {
		return nil
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.EscrowAccountName, requester, sdk.NewCoins(fee)); err != nil {
		return errorsmod.Wrap(err, "refund from escrow")
	}
	return events.Emit(ctx, &types.EventFeeRefunded{Requester: addr, Amount: fee})
}

// PayCompletion releases the escrowed fee of a completed request:
// ⌊fee·protocol_fee_share_ppm/1e6⌋ goes to the community pool (sent by the
// escrow account), the rest moves to the rewards account and is owed to the
// worker. The worker also earns contribution points in the open epoch: the
// protocol share itself, in urep. An epoch emits at most its points
// (closeEpoch), so the completion can earn back from the pool at most what it
// paid to the protocol: a requester paying a worker it controls cannot turn
// the emission into a profit (docs/rewards.md). computeUnits and dataBytes
// are counted in the worker's Contribution record; they earn only through the
// fee they were priced at.
func (k Keeper) PayCompletion(ctx context.Context, worker sdk.AccAddress, fee sdk.Coin, computeUnits, dataBytes uint64) error {
	if err := checkFee(fee); err != nil {
		return err
	}
	addr, err := k.addrString(worker)
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	protocol := ppmOf(fee.Amount, params.ProtocolFeeSharePpm)
	workerShare := fee.Amount.Sub(protocol)
	if protocol.IsPositive() {
		if err := k.distr.FundCommunityPool(ctx, sdk.NewCoins(coin(protocol)), k.EscrowAddress()); err != nil {
			return errorsmod.Wrap(err, "protocol share to the community pool")
		}
	}
	if err := k.owe(ctx, worker, workerShare); err != nil {
		return err
	}
	points := protocol
	if err := k.addContribution(ctx, worker, addr, points, computeUnits, dataBytes); err != nil {
		return err
	}
	if err := k.recordAttempt(ctx, worker, addr, params, points, false); err != nil {
		return err
	}
	return events.Emit(ctx, &types.EventWorkerPaid{
		Worker: addr, Fee: fee, ProtocolShare: coin(protocol), WorkerShare: coin(workerShare), Points: points,
	})
}

// SettleFailure splits the escrowed fee of a request that ended FAILED:
// refundPpm of it back to the requester, the rest owed to the workers whose
// failure reports confirmed the failure, in equal parts (the last one also
// gets the remainder of the division). Each report counts as a failed
// attempt in the open epoch.
func (k Keeper) SettleFailure(ctx context.Context, requester sdk.AccAddress, workers []sdk.AccAddress, fee sdk.Coin, refundPpm uint32) error {
	if err := checkFee(fee); err != nil {
		return err
	}
	if refundPpm > ppm.Max {
		return types.ErrInvalidRefund.Wrapf("refund must be at most %d ppm, got %d", ppm.Max, refundPpm)
	}
	if len(workers) == 0 {
		return types.ErrInvalidRefund.Wrap("a failure is settled with at least one reporting worker")
	}
	reqAddr, err := k.addrString(requester)
	if err != nil {
		return err
	}
	addrs := make([]string, len(workers))
	for i, w := range workers {
		if addrs[i], err = k.addrString(w); err != nil {
			return err
		}
	}
	refund := ppmOf(fee.Amount, refundPpm)
	workersShare := fee.Amount.Sub(refund)
	if refund.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.EscrowAccountName, requester, sdk.NewCoins(coin(refund))); err != nil {
			return errorsmod.Wrap(err, "refund from escrow")
		}
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	part := workersShare.QuoRaw(int64(len(workers)))
	for i, w := range workers {
		share := part
		if i == len(workers)-1 {
			share = workersShare.Sub(part.MulRaw(int64(len(workers) - 1)))
		}
		if err := k.owe(ctx, w, share); err != nil {
			return err
		}
		if err := k.recordAttempt(ctx, w, addrs[i], params, sdkmath.ZeroInt(), true); err != nil {
			return err
		}
		refunded := coin(refund) // once per request: in the first worker's event
		if i > 0 {
			refunded = coin(sdkmath.ZeroInt())
		}
		if err := events.Emit(ctx, &types.EventFailureSettled{
			Requester: reqAddr, Worker: addrs[i], Fee: fee, Refunded: refunded, WorkerShare: coin(share),
		}); err != nil {
			return err
		}
	}
	return nil
}

// PenalizeExpiry slashes expiry_slash_ppm of the worker's bond (held by
// x/shard) into the reward pool. The expiry counts towards the worker's
// failure rate in the open epoch.
func (k Keeper) PenalizeExpiry(ctx context.Context, worker sdk.AccAddress) error {
	return k.penalize(ctx, worker, func(p types.Params) uint32 { return p.ExpirySlashPpm }, "expiry")
}

// PenalizeDissent slashes slashPpm of the worker's bond (held by x/shard)
// into the reward pool: the worker ran a replica of a replicated request and
// reported a result hash other than the majority's. It counts as a failed
// attempt in the open epoch.
func (k Keeper) PenalizeDissent(ctx context.Context, worker sdk.AccAddress, slashPpm uint32) error {
	if slashPpm > ppm.Max {
		return types.ErrInvalidRefund.Wrapf("slash must be at most %d ppm, got %d", ppm.Max, slashPpm)
	}
	return k.penalize(ctx, worker, func(types.Params) uint32 { return slashPpm }, "dissent")
}

// penalize counts a failed attempt of the worker in the open epoch and
// slashes the share of its bond that slashPpm gives (none at 0).
func (k Keeper) penalize(ctx context.Context, worker sdk.AccAddress, slashPpm func(types.Params) uint32, reason string) error {
	addr, err := k.addrString(worker)
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := k.recordAttempt(ctx, worker, addr, params, sdkmath.ZeroInt(), true); err != nil {
		return err
	}
	share := slashPpm(params)
	if share == 0 {
		return nil
	}
	return k.slashBond(ctx, worker, addr, share, reason)
}

// owe moves amount from escrow to the rewards account and adds it to what
// worker is owed (and to the total).
func (k Keeper) owe(ctx context.Context, worker sdk.AccAddress, amount sdkmath.Int) error {
	if !amount.IsPositive() {
		return nil
	}
	if err := k.bank.SendCoinsFromModuleToModule(ctx, types.EscrowAccountName, types.ModuleName, sdk.NewCoins(coin(amount))); err != nil {
		return errorsmod.Wrap(err, "escrow to rewards")
	}
	owed, err := getMapInt(ctx, k.Owed, worker)
	if err != nil {
		return err
	}
	if err := k.Owed.Set(ctx, worker, owed.Add(amount)); err != nil {
		return err
	}
	total, err := k.GetTotalOwed(ctx)
	if err != nil {
		return err
	}
	return k.TotalOwed.Set(ctx, total.Add(amount))
}

// addContribution adds one completion, and the points it earned, to worker's
// cumulative record.
func (k Keeper) addContribution(ctx context.Context, worker sdk.AccAddress, addr string, points sdkmath.Int, computeUnits, dataBytes uint64) error {
	c, err := k.GetContribution(ctx, worker)
	if err != nil {
		return err
	}
	c.Worker = addr
	c.TotalPoints = c.TotalPoints.Add(points)
	c.ComputeUnits = saturatingAdd(c.ComputeUnits, computeUnits)
	c.DataBytes = saturatingAdd(c.DataBytes, dataBytes)
	c.Completed++
	c.LastHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	return k.Contributions.Set(ctx, worker, c)
}

func saturatingAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// Claim settles worker and pays it everything it is owed: fee earnings and
// epoch rewards. Nothing owed is ErrNothingToClaim, with no state change.
// It returns the total paid, the fees and the epoch rewards in it.
func (k Keeper) Claim(ctx context.Context, worker sdk.AccAddress) (paid, fees, epochRewards sdk.Coin, err error) {
	addr, err := k.addrString(worker)
	if err != nil {
		return paid, fees, epochRewards, err
	}
	owed, err := getMapInt(ctx, k.Owed, worker)
	if err != nil {
		return paid, fees, epochRewards, err
	}
	pendingEpoch, err := k.PendingEpochRewards(ctx, worker)
	if err != nil {
		return paid, fees, epochRewards, err
	}
	if !owed.IsPositive() && !pendingEpoch.IsPositive() {
		return paid, fees, epochRewards, types.ErrNothingToClaim.Wrapf("%s is owed nothing", addr)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return paid, fees, epochRewards, err
	}
	ws, _, err := k.touch(ctx, worker, addr, params)
	if err != nil {
		return paid, fees, epochRewards, err
	}
	epoch := ws.EpochRewardsOwed
	if owed.IsPositive() {
		total, err := k.GetTotalOwed(ctx)
		if err != nil {
			return paid, fees, epochRewards, err
		}
		if total.LT(owed) {
			return paid, fees, epochRewards, types.ErrInsolvent.Wrapf("total owed %s is below %s owed to %s", total, owed, addr)
		}
		if err := k.Owed.Remove(ctx, worker); err != nil {
			return paid, fees, epochRewards, err
		}
		if err := k.TotalOwed.Set(ctx, total.Sub(owed)); err != nil {
			return paid, fees, epochRewards, err
		}
	}
	if epoch.IsPositive() {
		ledger, err := k.GetLedger(ctx)
		if err != nil {
			return paid, fees, epochRewards, err
		}
		if ledger.EpochRewardsOwed.LT(epoch) {
			return paid, fees, epochRewards, types.ErrInsolvent.Wrapf("epoch rewards owed %s is below %s owed to %s", ledger.EpochRewardsOwed, epoch, addr)
		}
		ledger.EpochRewardsOwed = ledger.EpochRewardsOwed.Sub(epoch)
		ledger.EpochRewardsClaimed = ledger.EpochRewardsClaimed.Add(epoch)
		if err := k.Ledger.Set(ctx, ledger); err != nil {
			return paid, fees, epochRewards, err
		}
		ws.EpochRewardsOwed = sdkmath.ZeroInt()
		if err := k.WorkerEpochs.Set(ctx, worker, ws); err != nil {
			return paid, fees, epochRewards, err
		}
	}
	paid, fees, epochRewards = coin(owed.Add(epoch)), coin(owed), coin(epoch)
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, worker, sdk.NewCoins(paid)); err != nil {
		return paid, fees, epochRewards, errorsmod.Wrap(err, "pay worker")
	}
	return paid, fees, epochRewards, events.Emit(ctx, &types.EventRewardsClaimed{Worker: addr, Amount: paid, Fees: fees, EpochRewards: epochRewards})
}
