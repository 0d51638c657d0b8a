package testnetwork

import (
	"context"
	"fmt"

	"github.com/cosmos/cosmos-sdk/client/flags"
	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	clitestutil "github.com/cosmos/cosmos-sdk/testutil/cli"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	"github.com/repshard/repshard/internal/chaincfg"
)

// BroadcastAndWait signs msgs with the validator's own key (SIGN_MODE_DIRECT),
// broadcasts the tx and waits until it is in a block. It returns the tx
// result, whose Code is non-zero when a msg failed in DeliverTx.
func BroadcastAndWait(net *network.Network, val *network.Validator, msgs ...sdk.Msg) (sdk.TxResponse, error) {
	clientCtx := val.ClientCtx.
		WithFromAddress(val.Address).
		WithFromName(val.Moniker).
		WithBroadcastMode(flags.BroadcastSync).
		WithSkipConfirmation(true)
	txf := clienttx.Factory{}.
		WithChainID(clientCtx.ChainID).
		WithKeybase(clientCtx.Keyring).
		WithTxConfig(clientCtx.TxConfig).
		WithAccountRetriever(clientCtx.AccountRetriever).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
		WithGas(400_000).
		WithFees("1000" + chaincfg.BondDenom)
	txf, err := txf.Prepare(clientCtx)
	if err != nil {
		return sdk.TxResponse{}, fmt.Errorf("prepare: %w", err)
	}
	builder, err := txf.BuildUnsignedTx(msgs...)
	if err != nil {
		return sdk.TxResponse{}, fmt.Errorf("build: %w", err)
	}
	if err := clienttx.Sign(context.Background(), txf, val.Moniker, builder, true); err != nil {
		return sdk.TxResponse{}, fmt.Errorf("sign: %w", err)
	}
	bz, err := clientCtx.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return sdk.TxResponse{}, err
	}
	res, err := clientCtx.BroadcastTx(bz)
	if err != nil {
		return sdk.TxResponse{}, fmt.Errorf("broadcast: %w", err)
	}
	if res.Code != 0 {
		return *res, nil // rejected by CheckTx
	}
	return clitestutil.GetTxResponse(net, val.ClientCtx, res.TxHash)
}
