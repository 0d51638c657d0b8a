//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// grpcAccount signs and broadcasts txs of one account through the generated
// gRPC clients only (auth Query, tx Service): what a dApp backend does.
type grpcAccount struct {
	name   string
	addr   sdk.AccAddress
	conn   *grpc.ClientConn
	cctx   client.Context // codecs, tx config and keyring (no node connection)
	accNum uint64
	seq    uint64
	loaded bool
}

func (n *network) grpcAccount(name string, addr sdk.AccAddress) *grpcAccount {
	return &grpcAccount{name: name, addr: addr, conn: n.grpcConn, cctx: n.cdc}
}

func (a *grpcAccount) load(ctx context.Context) error {
	res, err := authtypes.NewQueryClient(a.conn).AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: a.addr.String()})
	if err != nil {
		return err
	}
	a.accNum, a.seq, a.loaded = res.Info.AccountNumber, res.Info.Sequence, true
	return nil
}

// broadcast signs msgs with the next sequence and broadcasts them in sync
// mode; it returns the tx hash once CheckTx accepted the tx. A sequence
// mismatch reloads the account and retries.
func (a *grpcAccount) broadcast(ctx context.Context, msgs ...sdk.Msg) (string, error) {
	for attempt := 0; attempt < 5; attempt++ {
		if !a.loaded {
			if err := a.load(ctx); err != nil {
				return "", err
			}
		}
		txf := clienttx.Factory{}.
			WithChainID(chainID).
			WithKeybase(a.cctx.Keyring).
			WithTxConfig(a.cctx.TxConfig).
			WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
			WithAccountNumber(a.accNum).
			WithSequence(a.seq).
			WithGas(400_000 * uint64(len(msgs))). // a submission takes under 400,000
			WithFees(txFees)
		builder, err := txf.BuildUnsignedTx(msgs...)
		if err != nil {
			return "", err
		}
		if err := clienttx.Sign(ctx, txf, a.name, builder, true); err != nil {
			return "", err
		}
		bz, err := a.cctx.TxConfig.TxEncoder()(builder.GetTx())
		if err != nil {
			return "", err
		}
		res, err := txtypes.NewServiceClient(a.conn).BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
		if err != nil {
			return "", err
		}
		switch res.TxResponse.Code {
		case 0:
			a.seq++
			return res.TxResponse.TxHash, nil
		case 32: // account sequence mismatch
			a.loaded = false
			time.Sleep(200 * time.Millisecond)
			continue
		default:
			return "", fmt.Errorf("CheckTx code %d: %s", res.TxResponse.Code, res.TxResponse.RawLog)
		}
	}
	return "", fmt.Errorf("%s: sequence mismatch after 5 attempts", a.name)
}

// submitMsg is a high-priority request of units compute units.
func submitMsg(requester sdk.AccAddress, units uint64, payload string) *deferraltypes.MsgSubmitRequest {
	return &deferraltypes.MsgSubmitRequest{
		Requester:    requester.String(),
		Class:        shardtypes.ClassHighPriority,
		Urgency:      deferraltypes.Urgency(1 + units%3),
		ComputeUnits: units,
		Payload:      []byte(payload),
		MaxFee:       sdk.NewCoin(denom, sdkmath.NewIntFromUint64(maxFeePerUnit*units)),
	}
}

// requestIDOf reads the request id from a submit tx's response.
func requestIDOf(res *txtypes.GetTxResponse) (uint64, error) {
	ids, err := requestIDsOf(res)
	if err != nil {
		return 0, err
	}
	if len(ids) != 1 {
		return 0, fmt.Errorf("%d msg responses", len(ids))
	}
	return ids[0], nil
}

// requestIDsOf reads the request ids from the responses of a tx of submissions.
func requestIDsOf(res *txtypes.GetTxResponse) ([]uint64, error) {
	if res.TxResponse.Code != 0 {
		return nil, fmt.Errorf("tx failed (code %d): %s", res.TxResponse.Code, res.TxResponse.RawLog)
	}
	var data sdk.TxMsgData
	if err := data.Unmarshal(mustHex(res.TxResponse.Data)); err != nil {
		return nil, err
	}
	var ids []uint64
	for _, r := range data.MsgResponses {
		var resp deferraltypes.MsgSubmitRequestResponse
		if err := resp.Unmarshal(r.Value); err != nil {
			return nil, err
		}
		ids = append(ids, resp.RequestId)
	}
	return ids, nil
}
