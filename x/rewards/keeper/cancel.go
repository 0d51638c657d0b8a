package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/rewards/types"
)

// PayCancellation settles the escrowed fee of a request its requester
// cancelled while workers held it. Each worker is owed
// ⌊workerFee·sharePpm/1e6⌋, where workerFee is what that worker would have
// been paid from fee for the work (the whole fee of a one-worker request,
// one share of a replicated one). The worker is credited through Owed, as for
// a completion, but the cancellation earns no contribution points, counts no
// attempt in the open epoch and pays no protocol share: it compensates the
// capacity the worker reserved, it is not work done. The rest of fee goes
// back to the requester, so paid + refunded = fee and the escrow keeps
// holding exactly the fees of open requests.
//
// Every input is checked before anything moves: a fee or worker fee that is
// not a non-negative amount of the bond denom, a share above 1e6 ppm, or
// worker fees adding up to more than fee are refused with a typed error and
// nothing changes. With no workers the whole fee is refunded.
func (k Keeper) PayCancellation(ctx context.Context, requester sdk.AccAddress, workers []sdk.AccAddress, fee, workerFee sdk.Coin, sharePpm uint32) (paid, refunded sdk.Coin, err error) {
	zero := coin(sdkmath.ZeroInt())
	if err := checkFee(fee); err != nil {
		return zero, zero, err
	}
	if err := checkFee(workerFee); err != nil {
		return zero, zero, err
	}
	if sharePpm > ppm.Max {
		return zero, zero, types.ErrInvalidRefund.Wrapf("cancellation share must be at most %d ppm, got %d", ppm.Max, sharePpm)
	}
	if total := workerFee.Amount.MulRaw(int64(len(workers))); total.GT(fee.Amount) {
		return zero, zero, types.ErrInvalidFee.Wrapf("%d workers' fees of %s each exceed the fee %s", len(workers), workerFee, fee)
	}
	if _, err := k.addrString(requester); err != nil {
		return zero, zero, err
	}
	addrs := make([]string, len(workers))
	for i, w := range workers {
		if addrs[i], err = k.addrString(w); err != nil {
			return zero, zero, err
		}
	}

	part := ppmOf(workerFee.Amount, sharePpm)
	total := part.MulRaw(int64(len(workers)))
	for i, w := range workers {
		if !part.IsPositive() {
			break
		}
		if err := k.owe(ctx, w, part); err != nil {
			return zero, zero, err
		}
		if err := events.Emit(ctx, &types.EventWorkerPaid{
			Worker: addrs[i], Fee: workerFee, ProtocolShare: zero, WorkerShare: coin(part), Points: sdkmath.ZeroInt(),
		}); err != nil {
			return zero, zero, err
		}
	}
	rest := coin(fee.Amount.Sub(total))
	if err := k.Refund(ctx, requester, rest); err != nil {
		return zero, zero, errorsmod.Wrap(err, "cancellation refund")
	}
	return coin(total), rest, nil
}

// RefundLessExitFee settles the escrowed fee of a request that left its queue
// unserved by its requester's choice: ⌊fee·exitFeePpm/1e6⌋ goes to the
// community pool (sent by the escrow account, like a completion's protocol
// share), the rest back to the requester. No worker is touched and nothing
// earns contribution points. A fee that is not a non-negative amount of the
// bond denom, or a share above 1e6 ppm, is refused with a typed error and
// nothing moves.
func (k Keeper) RefundLessExitFee(ctx context.Context, requester sdk.AccAddress, fee sdk.Coin, exitFeePpm uint32) (exitFee, refunded sdk.Coin, err error) {
	zero := coin(sdkmath.ZeroInt())
	if err := checkFee(fee); err != nil {
		return zero, zero, err
	}
	if exitFeePpm > ppm.Max {
		return zero, zero, types.ErrInvalidRefund.Wrapf("exit fee must be at most %d ppm, got %d", ppm.Max, exitFeePpm)
	}
	if _, err := k.addrString(requester); err != nil {
		return zero, zero, err
	}
	kept := ppmOf(fee.Amount, exitFeePpm)
	if kept.IsPositive() {
		if err := k.distr.FundCommunityPool(ctx, sdk.NewCoins(coin(kept)), k.EscrowAddress()); err != nil {
			return zero, zero, errorsmod.Wrap(err, "queue exit fee to the community pool")
		}
	}
	rest := coin(fee.Amount.Sub(kept))
	if err := k.Refund(ctx, requester, rest); err != nil {
		return zero, zero, errorsmod.Wrap(err, "refund less the exit fee")
	}
	return coin(kept), rest, nil
}
