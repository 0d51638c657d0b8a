package worker

import (
	"context"

	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// resumeIfUnresponsive sends MsgResumeWorker when the chain marked this
// worker unresponsive (x/reputation's max_consecutive_expiries assignments in
// a row expired, e.g. while the daemon was stopped): a daemon that runs and
// polls is able to take work again. It is called when the daemon starts and
// at each full poll; the query is one O(1) read. A failed send (a sequence
// race with the report signer, a node that is down) is logged and tried at
// the next poll. It returns whether a resume was sent.
func (w *Worker) resumeIfUnresponsive(ctx context.Context) bool {
	res, err := w.reputation.WorkerProfile(ctx, &reputationtypes.QueryWorkerProfileRequest{Address: w.addrStr})
	if err != nil {
		if ctx.Err() == nil {
			w.logf("worker profile: %v (checked again at the next poll)", shortErr(err))
		}
		return false
	}
	if !res.Found || !res.Profile.Unresponsive {
		return false
	}
	w.logf("the chain marked worker %s unresponsive (%d assignments in a row expired): sending resume-worker",
		w.addrStr, res.Profile.ConsecutiveExpiries)
	num, seq, err := w.cfg.ClientCtx.AccountRetriever.GetAccountNumberSequence(w.cfg.ClientCtx, w.addr)
	if err != nil {
		w.logf("resume-worker: account: %v (tried again at the next poll)", shortErr(err))
		return false
	}
	txf := clienttx.Factory{}.
		WithChainID(w.cfg.ClientCtx.ChainID).
		WithKeybase(w.cfg.ClientCtx.Keyring).
		WithTxConfig(w.cfg.ClientCtx.TxConfig).
		WithAccountRetriever(w.cfg.ClientCtx.AccountRetriever).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
		WithFromName(w.cfg.KeyName).
		WithSimulateAndExecute(true).
		WithGasAdjustment(w.cfg.GasAdjustment).
		WithGasPrices(w.cfg.GasPrices.String()).
		WithAccountNumber(num).
		WithSequence(seq)
	msg := &shardtypes.MsgResumeWorker{Worker: w.addrStr}
	fail := func(step string, err error) bool {
		w.logf("resume-worker: %s: %v (tried again at the next poll)", step, shortErr(err))
		return false
	}
	_, gas, err := clienttx.CalculateGas(w.cfg.ClientCtx, txf, msg)
	if err != nil {
		return fail("simulate", err)
	}
	builder, err := txf.WithGas(gas).BuildUnsignedTx(msg)
	if err != nil {
		return fail("build", err)
	}
	if err := clienttx.Sign(ctx, txf.WithGas(gas), w.cfg.KeyName, builder, true); err != nil {
		return fail("sign", err)
	}
	bz, err := w.cfg.ClientCtx.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return fail("encode", err)
	}
	res2, err := w.cfg.ClientCtx.BroadcastTx(bz)
	if err != nil {
		return fail("broadcast", err)
	}
	if res2.Code != 0 {
		w.logf("resume-worker: refused by the node: %s (tried again at the next poll)", res2.RawLog)
		return false
	}
	w.logf("resume-worker sent: tx %s", res2.TxHash)
	return true
}
