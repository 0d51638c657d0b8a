package simulation

import (
	"context"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
)

// MsgSetResultDelegateFactory names another account as the signer's result
// delegate, or removes its delegate (a third of the time).
func MsgSetResultDelegateFactory(_ keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSetResultDelegate, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgSetResultDelegate{Requester: acc.AddressBech32}
		if r.Intn(3) != 0 {
			delegate := testData.AnyAccount(reporter, simsx.ExcludeAccounts(acc))
			if reporter.IsSkipped() {
				return nil, nil, nil
			}
			msg.Delegate = delegate.AddressBech32
		}
		return []simsx.SimAccount{acc}, msg, nil
	})
}

// MsgSetResultDelegateInvalidFactory names the signer itself, or a
// malformed address, as its delegate: refused, nothing stored.
func MsgSetResultDelegateInvalidFactory(_ keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSetResultDelegate, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		if testData.Rand().Intn(2) == 0 {
			return []simsx.SimAccount{acc}, &types.MsgSetResultDelegate{Requester: acc.AddressBech32, Delegate: acc.AddressBech32},
				simsutil.ExpectError(types.ErrInvalidResultDelegate)
		}
		return []simsx.SimAccount{acc}, &types.MsgSetResultDelegate{Requester: acc.AddressBech32, Delegate: "rep1notanaddress"},
			simsutil.ExpectError(sdkerrors.ErrInvalidAddress)
	})
}
