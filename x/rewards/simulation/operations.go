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
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory())
}

// ProposalMsgs registers the governance proposals (x/gov submits each with
// a 25th of its weight) of x/rewards.
func ProposalMsgs(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), MsgUpdateParamsFactory())
}

// MsgClaimRewardsFactory claims for a worker that is owed something.
func MsgClaimRewardsFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgClaimRewards, simsx.SimDeliveryResultHandler) {
		var owed []sdk.AccAddress
		_ = k.Owed.Walk(ctx, nil, func(addr sdk.AccAddress, amount sdkmath.Int) (bool, error) {
			if amount.IsPositive() {
				owed = append(owed, addr)
			}
			return len(owed) >= 64, nil
		})
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
			has, _ := k.Owed.Has(ctx, a.Address)
			return !has
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
