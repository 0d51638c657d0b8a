package worker

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/cometbft/cometbft/crypto/tmhash"

	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
)

// signer batches the outcomes (reports and reviews) into transactions, signs
// them with the worker key and broadcasts them (sync mode: CheckTx), keeping
// the account sequence itself so several txs can be in one block.
type signer struct {
	w *Worker

	loaded bool
	accNum uint64
	seq    uint64
}

func newSigner(w *Worker) *signer { return &signer{w: w} }

// maxSendAttempts bounds the retries of one batch before it is given up (its
// requests are then dispatched again by a later poll).
const maxSendAttempts = 8

func (s *signer) loop(ctx context.Context) {
	for {
		var batch []outcome
		select {
		case <-ctx.Done():
			return
		case o := <-s.w.reports:
			batch = append(batch, o)
		}
		timer := time.NewTimer(s.w.cfg.BatchWait)
	collect:
		for len(batch) < s.w.cfg.MaxBatch {
			select {
			case o := <-s.w.reports:
				batch = append(batch, o)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		timer.Stop()
		s.send(ctx, batch)
	}
}

// send reports a batch, retrying with backoff.
func (s *signer) send(ctx context.Context, batch []outcome) {
	w := s.w
	backoff := 250 * time.Millisecond
	sleep := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, 5*time.Second)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return
		}
		var err error
		if batch, err = s.stillMine(ctx, batch, false); err != nil {
			w.logf("query: %v (retrying)", shortErr(err))
			if !sleep() {
				return
			}
			continue
		}
		if len(batch) == 0 {
			return
		}
		if attempt > maxSendAttempts {
			for _, o := range batch {
				if o.review {
					w.logf("review of request %d: giving up after %d attempts to send it; tried again later", o.req.Id, maxSendAttempts)
					w.retryReview(o.req.Id, false)
					continue
				}
				w.logf("%s: giving up after %d attempts to report it; a later poll tries again", o.key(), maxSendAttempts)
				w.forget(o.key())
				w.done()
			}
			return
		}
		if !s.loaded {
			num, seq, err := w.cfg.ClientCtx.AccountRetriever.GetAccountNumberSequence(w.cfg.ClientCtx, w.addr)
			if err != nil {
				w.logf("account %s: %v (retrying)", w.addrStr, shortErr(err))
				if !sleep() {
					return
				}
				continue
			}
			s.accNum, s.seq, s.loaded = num, seq, true
		}

		msgs := make([]sdk.Msg, len(batch))
		for i, o := range batch {
			if o.review {
				msgs[i] = &reputationtypes.MsgSubmitReview{Reviewer: w.addrStr, RequestId: o.req.Id, Rating: o.rating}
				continue
			}
			if o.failed {
				msgs[i] = &deferraltypes.MsgFailRequest{Worker: w.addrStr, RequestId: o.req.Id, Reason: o.reason}
			} else {
				msgs[i] = &deferraltypes.MsgCompleteRequest{Worker: w.addrStr, RequestId: o.req.Id, ResultHash: o.result}
			}
		}
		txf := w.txFactory(s.accNum, s.seq)

		_, gas, err := clienttx.CalculateGas(w.cfg.ClientCtx, txf, msgs...)
		if err != nil {
			if expected, ok := wrongSequence(err); ok {
				s.seq = expected
				continue
			}
			if isSequenceError(err) {
				s.loaded = false
				continue
			}
			// Transport trouble or a report the chain refuses? Ask about each.
			kept, qerr := s.stillMine(ctx, batch, true)
			if qerr != nil {
				w.logf("simulate: %s; query: %v (retrying)", shortErr(err), shortErr(qerr))
				if !sleep() {
					return
				}
				continue
			}
			if len(kept) < len(batch) {
				batch = kept
				continue
			}
			if len(batch) > 1 {
				// One message the chain refuses would fail the whole tx:
				// send them one by one.
				for _, o := range batch {
					s.send(ctx, []outcome{o})
				}
				return
			}
			s.refused(batch[0], shortErr(err))
			return
		}
		txf = txf.WithGas(gas + quorumGasReserve(batch))
		builder, err := txf.BuildUnsignedTx(msgs...)
		if err != nil {
			w.logf("build tx: %v", err)
			return
		}
		if err := clienttx.Sign(ctx, txf, w.cfg.KeyName, builder, true); err != nil {
			w.logf("sign: %v", err)
			return
		}
		bz, err := w.cfg.ClientCtx.TxConfig.TxEncoder()(builder.GetTx())
		if err != nil {
			w.logf("encode: %v", err)
			return
		}
		hash := fmt.Sprintf("%X", tmhash.Sum(bz))
		height := w.height.Load()

		// Written and synced before the broadcast: a daemon killed right
		// after it knows the tx may be on its way.
		recs := make([]record, len(batch))
		for i, o := range batch {
			recs[i] = s.itemRecord(o, stateSending, hash, height)
		}
		if err := w.store.Put(recs...); err != nil {
			w.logf("state file: %v; not broadcasting", err)
			if !sleep() {
				return
			}
			continue
		}

		res, err := w.cfg.ClientCtx.BroadcastTx(bz)
		if err != nil {
			// The node may or may not have the tx: the tracker finds out,
			// and reports it dropped after LostAfterBlocks if it never lands.
			w.logf("broadcast tx %s: %v (tracking it)", hash, shortErr(err))
			s.loaded = false
			w.tracker.add(hash, batch, height)
			return
		}
		switch {
		case res.Code == 0 || (res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrTxInMempoolCache.ABCICode()):
			s.seq++
			w.tracker.add(hash, batch, height)
			return
		case res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrWrongSequence.ABCICode():
			if expected, ok := parseExpectedSequence(res.RawLog); ok {
				s.seq = expected
			} else {
				s.loaded = false
			}
		default:
			w.logf("tx %s refused by CheckTx (code %d %s): %s (retrying)", hash, res.Code, res.Codespace, truncate(res.RawLog, 300))
		}
		s.markDropped(batch, hash)
		if !sleep() {
			return
		}
	}
}

// stillMine drops the outcomes whose assignment is no longer this worker's
// to report (its deadline passed, the request moved on to the queue or to
// another worker, or was assigned again under another attempt), logging each
// as a lost assignment. It asks the chain about the outcomes whose deadline
// is near, or about all of them when force is set (then about the reviews
// too: one the chain would not take is dropped); a query error is returned
// (the node may be down).
func (s *signer) stillMine(ctx context.Context, batch []outcome, force bool) ([]outcome, error) {
	w := s.w
	h := w.height.Load()
	out := make([]outcome, 0, len(batch))
	for _, o := range batch {
		if o.review {
			if force {
				_, verdict, why, err := w.reviewable(ctx, o.req.Id)
				if err != nil {
					return batch, err
				}
				if verdict != reviewSend {
					w.logf("review of request %d: not sent: %s", o.req.Id, why)
					if verdict == reviewDone {
						w.setReview(o.req.Id, stateCommitted, "", 0)
					} else {
						w.setReview(o.req.Id, stateSkipped, "", 0)
						w.cfg.Metrics.reviewSkipped()
					}
					w.releaseReview(o.req.Id)
					continue
				}
			}
			out = append(out, o)
			continue
		}
		if force || (h > 0 && h >= o.req.DeadlineHeight) {
			res, err := w.query.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: o.req.Id})
			if err != nil {
				return batch, err
			}
			if r := res.Request; !r.HeldBy(w.addrStr) || r.Attempts != o.req.Attempts {
				now := statusName(r.Status)
				if r.Status == deferraltypes.StatusAssigned {
					now = fmt.Sprintf("%s to %s, attempt %d", now, r.Worker, r.Attempts)
				}
				s.lost(o, fmt.Sprintf("the request is now %s (deadline was height %d)", now, o.req.DeadlineHeight))
				continue
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// lost drops a report whose assignment is no longer this worker's.
func (s *signer) lost(o outcome, why string) {
	w := s.w
	w.logf("%s: lost the assignment, %s not reported: %s", o.key(), describe(o), why)
	if err := w.store.Put(s.itemRecord(o, stateLost, "", 0)); err != nil {
		w.logf("state file: %v", err)
	}
	w.cfg.Metrics.lost()
	w.done()
}

// refused handles a message the chain refuses (its simulation fails) while
// the chain says it is still this worker's to send.
func (s *signer) refused(o outcome, why string) {
	w := s.w
	switch {
	case o.review:
		w.logf("review of request %d: %s REFUSED by the chain: %s", o.req.Id, describe(o), why)
		w.setReview(o.req.Id, stateRejected, "", 0)
		w.cfg.Metrics.reviewRefused()
		w.releaseReview(o.req.Id)
	case lostAssignment("", 0, why):
		s.lost(o, why)
	default:
		w.logf("%s: %s not reported: the chain refuses it: %s", o.key(), describe(o), why)
		w.cfg.Metrics.rejected()
		w.done()
	}
}

// itemRecord is the state file record of an outcome (a review keeps the
// rating it was recorded with).
func (s *signer) itemRecord(o outcome, state, hash string, height int64) record {
	if o.review {
		r, _ := s.w.store.Review(o.req.Id)
		r.Kind, r.ID, r.State, r.TxHash, r.Height = kindReview, o.req.Id, state, hash, height
		if r.Rating == 0 {
			r.Rating = o.rating
		}
		return r
	}
	return record{ID: o.req.Id, Attempt: o.req.Attempts, State: state, Outcome: outcomeName(o), TxHash: hash, Height: height}
}

// markDropped records that a batch's tx was refused before it reached the
// mempool (the batch is sent again): its reports may be sent again, its
// reviews are pending.
func (s *signer) markDropped(batch []outcome, hash string) {
	recs := make([]record, len(batch))
	for i, o := range batch {
		state := stateDropped
		if o.review {
			state = statePending
		}
		recs[i] = s.itemRecord(o, state, hash, 0)
	}
	if err := s.w.store.Put(recs...); err != nil {
		s.w.logf("state file: %v", err)
	}
}

func outcomeName(o outcome) string {
	switch {
	case o.review:
		return kindReview
	case o.failed:
		return "fail"
	}
	return "complete"
}

var expectedSeqRe = regexp.MustCompile(`account sequence mismatch, expected (\d+), got (\d+)`)

// parseExpectedSequence reads the expected sequence from an
// ErrWrongSequence log.
func parseExpectedSequence(log string) (uint64, bool) {
	m := expectedSeqRe.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	return n, err == nil
}

func wrongSequence(err error) (uint64, bool) { return parseExpectedSequence(err.Error()) }

func isSequenceError(err error) bool {
	return sdkerrors.ErrWrongSequence.Is(err) || expectedSeqRe.MatchString(err.Error())
}

// quorumSettlementGasPerReplica is the gas a replicated request's quorum
// decision costs per replica (each replica is paid, slashed or counted), on
// top of a report that decides nothing (docs/BENCHMARKS.md: a 3-replica
// decision costs ≈ 276k more, ≈ 92k per replica).
const quorumSettlementGasPerReplica = 120_000

// quorumGasReserve is the gas a batch reserves beyond its simulation for the
// quorum decisions its replica reports may make: whichever replica reports
// last decides and pays for the decision, and another replica's report
// included in the same block just before this one can make this report the
// deciding one after it was simulated.
func quorumGasReserve(batch []outcome) uint64 {
	var reserve uint64
	for _, o := range batch {
		if !o.review && o.req.Replicas > 1 {
			reserve += quorumSettlementGasPerReplica * uint64(o.req.Replicas)
		}
	}
	return reserve
}

// txFactory is the factory of the worker's txs: its key, direct signing, gas
// simulated and adjusted, the configured gas prices, the given account number
// and sequence.
func (w *Worker) txFactory(accNum, seq uint64) clienttx.Factory {
	return clienttx.Factory{}.
		WithChainID(w.cfg.ClientCtx.ChainID).
		WithKeybase(w.cfg.ClientCtx.Keyring).
		WithTxConfig(w.cfg.ClientCtx.TxConfig).
		WithAccountRetriever(w.cfg.ClientCtx.AccountRetriever).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
		WithFromName(w.cfg.KeyName).
		WithSimulateAndExecute(true).
		WithGasAdjustment(w.cfg.GasAdjustment).
		WithGasPrices(w.cfg.GasPrices.String()).
		WithAccountNumber(accNum).
		WithSequence(seq)
}
