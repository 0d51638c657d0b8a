package simulation

import (
	"context"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/rewards/types"
)

// MsgRetryQuarantinedUnauthorizedFactory sends MsgRetryQuarantined signed by
// an ordinary account: only governance may retry a quarantined EndBlock
// item, so it is refused as unauthorized and nothing changes.
func MsgRetryQuarantinedUnauthorizedFactory() simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRetryQuarantined, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgRetryQuarantined{Authority: acc.AddressBech32, Step: types.StepCloseEpoch, Item: types.EpochItem(1)}
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrUnauthorized, sdkerrors.ErrUnauthorized)
	})
}

// MsgDropQuarantinedUnauthorizedFactory sends MsgDropQuarantined signed by an
// ordinary account: only governance may drop a quarantined EndBlock item, so
// it is refused as unauthorized and nothing changes.
func MsgDropQuarantinedUnauthorizedFactory() simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgDropQuarantined, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgDropQuarantined{Authority: acc.AddressBech32, Step: types.StepCloseEpoch, Item: types.EpochItem(1)}
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrUnauthorized, sdkerrors.ErrUnauthorized)
	})
}
