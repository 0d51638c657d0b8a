package apptest

import (
	"context"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"

	"github.com/repshard/repshard/internal/chaincfg"
)

// DefaultTxGas is the gas limit of transactions built by SignTx.
const DefaultTxGas = 2_000_000

// SignTx builds and signs (SIGN_MODE_DIRECT) a transaction from acc carrying
// msgs, with the account number and sequence read from the last committed
// state plus the transactions already signed for the coming block.
func (c *Chain) SignTx(t testing.TB, acc Account, msgs ...sdk.Msg) []byte {
	t.Helper()
	return c.SignTxGas(t, acc, DefaultTxGas, msgs...)
}

// SignTxGas is SignTx with a gas limit of gas (and a fee of gas/100).
func (c *Chain) SignTxGas(t testing.TB, acc Account, gas uint64, msgs ...sdk.Msg) []byte {
	t.Helper()
	if c.pending == nil {
		c.pending = map[string]uint64{}
	}
	ctx := c.Context()
	account := c.App.AccountKeeper.GetAccount(ctx, acc.Address)
	require.NotNil(t, account, "account %s does not exist", acc.Address)
	seq := account.GetSequence() + c.pending[acc.Address.String()]

	txCfg := c.App.TxConfig()
	builder := txCfg.NewTxBuilder()
	require.NoError(t, builder.SetMsgs(msgs...))
	builder.SetGasLimit(gas)
	builder.SetFeeAmount(sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, int64(gas/100))))
	require.NoError(t, builder.SetSignatures(signing.SignatureV2{
		PubKey:   acc.Key.PubKey(),
		Data:     &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT},
		Sequence: seq,
	}))
	sig, err := clienttx.SignWithPrivKey(context.Background(), signing.SignMode_SIGN_MODE_DIRECT,
		authsigning.SignerData{
			ChainID: chaincfg.DefaultChainID, AccountNumber: account.GetAccountNumber(), Sequence: seq,
			PubKey: acc.Key.PubKey(), Address: acc.Address.String(),
		}, builder, acc.Key, txCfg, seq)
	require.NoError(t, err)
	require.NoError(t, builder.SetSignatures(sig))
	bz, err := txCfg.TxEncoder()(builder.GetTx())
	require.NoError(t, err)
	c.pending[acc.Address.String()]++
	return bz
}

// MsgResponse decodes the first msg response of a successful tx result into out.
func (c *Chain) MsgResponse(t testing.TB, res *abci.ExecTxResult, out proto.Message) {
	t.Helper()
	require.Zero(t, res.Code, res.Log)
	var data sdk.TxMsgData
	require.NoError(t, proto.Unmarshal(res.Data, &data))
	require.NotEmpty(t, data.MsgResponses)
	resp := data.MsgResponses[0]
	require.Equal(t, "/"+proto.MessageName(out), resp.TypeUrl)
	require.NoError(t, proto.Unmarshal(resp.Value, out))
}
