package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/x/rewards/types"
)

// The reward pool: funded by anyone with MsgFundPool (governance through the
// community pool) and by slashed bonds, it emits to workers at each epoch
// close (epochs.go). Its book, the Ledger, tracks where every funded coin is.

// normalizeLedger reads unset amounts of the pool's book as zero.
func normalizeLedger(l types.Ledger) types.Ledger {
	l.Funded = zeroIfNil(l.Funded)
	l.EpochRewardsClaimed = zeroIfNil(l.EpochRewardsClaimed)
	l.EpochRewardsOwed = zeroIfNil(l.EpochRewardsOwed)
	l.Unsettled = zeroIfNil(l.Unsettled)
	l.Dust = zeroIfNil(l.Dust)
	return l
}

// GetLedger returns the pool's book (all zero when unset).
func (k Keeper) GetLedger(ctx context.Context) (types.Ledger, error) {
	l, err := k.Ledger.Get(ctx)
	if err != nil && !errorsIsNotFound(err) {
		return types.Ledger{}, err
	}
	return normalizeLedger(l), nil
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
	return coin(pool), events.Emit(ctx, &types.EventPoolFunded{Funder: addr, Amount: amount, Pool: coin(pool)})
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
	return events.Emit(ctx, &types.EventBondSlashed{Worker: addr, Amount: slashed, FractionPpm: fractionPpm, Reason: reason})
}
