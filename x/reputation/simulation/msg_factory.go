package simulation

import (
	"context"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// WeightedOperations registers x/reputation's operations. Adding one is a
// factory below plus one line here; the weight can be overridden from the sim
// params file by its key. Profiles also change through x/deferral's
// operations (every submission and outcome updates the requester's profile).
// The operations that need x/deferral's msgs or records live in x/deferral's
// simulation, as x/deferral depends on x/reputation and not the reverse:
// submissions carrying a proof of work (msg_submit_request_with_proof,
// msg_submit_request_bad_proof) and MsgSubmitReview, next to the finished
// requests it reviews.
func WeightedOperations(weights simsx.WeightSource, reg simsx.Registry, _ keeper.Keeper) {
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory())
}

// ProposalMsgs registers the governance proposals (x/gov submits each with
// a 25th of its weight) of x/reputation.
func ProposalMsgs(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), MsgUpdateParamsFactory())
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
