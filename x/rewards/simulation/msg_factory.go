package simulation

import (
	"context"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/rewards/keeper"
	"github.com/repshard/repshard/x/rewards/types"
)

// WeightedOperations registers x/rewards' operations. Adding one is a
// factory below plus one line here; the weight can be overridden from the sim
// params file by its key.
func WeightedOperations(weights simsx.WeightSource, reg simsx.Registry, k keeper.Keeper) {
	reg.Add(weights.Get("msg_claim_rewards", 20), MsgClaimRewardsFactory(k))
	reg.Add(weights.Get("msg_claim_rewards_invalid", 5), MsgClaimRewardsInvalidFactory(k))
	reg.Add(weights.Get("msg_fund_pool", 5), MsgFundPoolFactory())
	reg.Add(weights.Get("msg_fund_pool_invalid", 3), MsgFundPoolInvalidFactory())
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory())
	reg.Add(weights.Get("msg_retry_quarantined_unauthorized", 1), MsgRetryQuarantinedUnauthorizedFactory())
	reg.Add(weights.Get("msg_drop_quarantined_unauthorized", 1), MsgDropQuarantinedUnauthorizedFactory())
}

// MsgFundPoolFactory moves part of an account's balance into the reward pool.
func MsgFundPoolFactory() simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgFundPool, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter, simsx.WithSpendableBalance())
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		amount := acc.LiquidBalance().RandSubsetCoin(reporter, types.Denom)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, &types.MsgFundPool{Funder: acc.AddressBech32, Amount: amount}, nil
	})
}

// MsgFundPoolInvalidFactory funds the pool with zero, another denom, or more
// than the funder holds.
func MsgFundPoolInvalidFactory() simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgFundPool, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgFundPool{Funder: acc.AddressBech32}
		switch testData.Rand().Intn(3) {
		case 0:
			msg.Amount = sdk.NewCoin(types.Denom, sdkmath.ZeroInt())
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInvalidFunding)
		case 1:
			msg.Amount = sdk.NewInt64Coin("notrep", 1)
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInvalidFunding)
		default:
			_, held := acc.LiquidBalance().Find(types.Denom)
			msg.Amount = sdk.NewCoin(types.Denom, held.Amount.AddRaw(1).MulRaw(1_000))
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrFunderCannotPay)
		}
	})
}

// ProposalMsgs registers the governance proposals (x/gov submits each with
// a 25th of its weight) of x/rewards.
func ProposalMsgs(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), MsgUpdateParamsFactory())
}

// owedSomething reports whether a claim by addr has something to pay: fee
// earnings or epoch rewards not yet settled.
func owedSomething(ctx context.Context, k keeper.Keeper, addr sdk.AccAddress) bool {
	if owed, err := k.Owed.Get(ctx, addr); err == nil && owed.IsPositive() {
		return true
	}
	pending, err := k.PendingEpochRewards(ctx, addr)
	return err == nil && pending.IsPositive()
}

// MsgClaimRewardsFactory claims for an account that is owed something.
func MsgClaimRewardsFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgClaimRewards, simsx.SimDeliveryResultHandler) {
		var owed []sdk.AccAddress
		for _, acc := range testData.AllAccounts() {
			if owedSomething(ctx, k, acc.Address) {
				owed = append(owed, acc.Address)
			}
		}
		addr, ok := simsutil.Pick(testData.Rand(), owed)
		if !ok {
			reporter.Skip("nobody is owed anything")
			return nil, nil, nil
		}
		acc := testData.GetAccountbyAccAddr(reporter, addr)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, &types.MsgClaimRewards{Worker: acc.AddressBech32}, nil
	})
}

// MsgClaimRewardsInvalidFactory claims for an account owed nothing.
func MsgClaimRewardsInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgClaimRewards, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			return !owedSomething(ctx, k, a.Address)
		}))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, &types.MsgClaimRewards{Worker: acc.AddressBech32}, simsutil.ExpectError(types.ErrNothingToClaim)
	})
}

// MsgUpdateParamsUnauthorizedFactory sends MsgUpdateParams signed by an
// ordinary account: refused as unauthorized, params unchanged.
func MsgUpdateParamsUnauthorizedFactory() simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgUpdateParams{Authority: acc.AddressBech32, Params: RandomParams(testData.Rand().Rand)}
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrUnauthorized)
	})
}

// MsgUpdateParamsFactory is the governance proposal: random valid params.
func MsgUpdateParamsFactory() simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    RandomParams(testData.Rand().Rand),
		}
	}
}
