package worker

import (
	"context"
	"encoding/hex"
	"sync"
	"time"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// tracker follows the broadcast txs (reports and reviews) until they are in
// a block (or dropped), then records and logs the outcome of each message.
type tracker struct {
	w    *Worker
	mu   sync.Mutex
	txs  map[string]*inflightTx
	poke chan struct{}
}

type inflightTx struct {
	hash       string
	items      []txItem
	sentHeight int64
}

// txItem is one message of a tracked tx.
type txItem struct {
	k       key
	outcome string   // complete or fail (a report), or the outcome a review rates
	review  bool     // a MsgSubmitReview of request k.ID
	o       *outcome // nil for an item adopted from the state file
}

// text is the log text of the item.
func (it txItem) text() string {
	if it.o != nil {
		return describe(*it.o)
	}
	if it.review {
		return "rating"
	}
	if it.outcome == "fail" {
		return "failed"
	}
	if it.outcome == "complete" {
		return "completed"
	}
	return it.outcome
}

func newTracker(w *Worker) *tracker {
	return &tracker{w: w, txs: map[string]*inflightTx{}, poke: make(chan struct{}, 1)}
}

func (t *tracker) tx(hash string, height int64) *inflightTx {
	tx := t.txs[hash]
	if tx == nil {
		tx = &inflightTx{hash: hash, sentHeight: height}
		t.txs[hash] = tx
	}
	return tx
}

func (t *tracker) add(hash string, batch []outcome, height int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx := t.tx(hash, height)
	for i := range batch {
		o := batch[i]
		tx.items = append(tx.items, txItem{k: o.key(), outcome: outcomeName(o), review: o.review, o: &o})
	}
}

// adopt tracks a report or a review of an earlier run left in state "sending".
func (t *tracker) adopt(r record, height int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx := t.tx(r.TxHash, height)
	tx.items = append(tx.items, txItem{k: r.key(), outcome: r.Outcome, review: r.isReview()})
	if !r.isReview() {
		t.w.cfg.Metrics.assigned()
	}
}

// kick makes the loop look now (a new block was seen).
func (t *tracker) kick() {
	select {
	case t.poke <- struct{}{}:
	default:
	}
}

func (t *tracker) loop(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.poke:
		}
		t.check(ctx)
	}
}

func (t *tracker) check(ctx context.Context) {
	t.mu.Lock()
	pending := make([]*inflightTx, 0, len(t.txs))
	for _, tx := range t.txs {
		pending = append(pending, tx)
	}
	t.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	w := t.w
	client := w.cfg.ClientCtx.Client
	if client == nil {
		return
	}
	w.refreshHeight(ctx)
	height := w.height.Load()
	for _, tx := range pending {
		hashBytes, err := hex.DecodeString(tx.hash)
		if err != nil {
			t.remove(tx.hash)
			continue
		}
		res, err := client.Tx(ctx, hashBytes, false)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if height > tx.sentHeight+w.cfg.LostAfterBlocks {
				t.dropped(ctx, tx)
			}
			continue // not in a block yet
		}
		t.remove(tx.hash)
		t.landed(tx, res.Height, res.TxResult.Code, res.TxResult.Codespace, res.TxResult.Log)
	}
}

// landed records the outcome of a tx found in block height (code 0: it
// succeeded).
func (t *tracker) landed(tx *inflightTx, height int64, code uint32, codespace, log string) {
	w := t.w
	if code != 0 && len(tx.items) > 1 {
		// The tx failed as a whole: none of its messages took effect.
		// Its requests still assigned to this worker are reported again,
		// its reviews sent again.
		w.logf("tx %s (%d messages) failed in block %d (code %d): %s; reporting its requests again",
			tx.hash, len(tx.items), height, code, truncate(log, 300))
		var recs []record
		for _, it := range tx.items {
			if !it.review {
				recs = append(recs, record{ID: it.k.ID, Attempt: it.k.Attempt, State: stateDropped, Outcome: it.outcome, TxHash: tx.hash, Height: height})
			}
		}
		if err := w.store.Put(recs...); err != nil {
			w.logf("state file: %v", err)
		}
		for _, it := range tx.items {
			if it.review {
				w.retryReview(it.k.ID, true)
				continue
			}
			w.forget(it.k)
			w.done()
		}
		w.poke()
		return
	}

	// Reports: their state, and the review each now calls for (same write).
	var recs []record
	reviews := 0
	for _, it := range tx.items {
		if it.review {
			continue
		}
		state := stateCommitted
		switch {
		case code != 0 && lostAssignment(codespace, code, log):
			state = stateLost
		case code != 0:
			state = stateRejected
		}
		recs = append(recs, record{ID: it.k.ID, Attempt: it.k.Attempt, State: state, Outcome: it.outcome, TxHash: tx.hash, Height: height})
		if state == stateCommitted {
			if rv, ok := w.pendingReview(it.k, it.outcome); ok {
				recs = append(recs, rv)
				reviews++
			}
		}
	}
	if err := w.store.Put(recs...); err != nil {
		w.logf("state file: %v", err)
	}

	for _, it := range tx.items {
		if it.review {
			if r, ok := w.store.Review(it.k.ID); ok && it.o == nil {
				it.o = &outcome{req: deferraltypes.Request{Id: it.k.ID}, review: true, rating: r.Rating}
			}
			if code == 0 {
				w.logf("review of request %d: %s sent in block %d tx %s", it.k.ID, it.text(), height, tx.hash)
				w.setReview(it.k.ID, stateCommitted, tx.hash, height)
				w.cfg.Metrics.reviewSent()
			} else {
				w.logf("review of request %d: %s REFUSED in block %d tx %s: %s", it.k.ID, it.text(), height, tx.hash, truncate(log, 300))
				w.setReview(it.k.ID, stateRejected, tx.hash, height)
				w.cfg.Metrics.reviewRefused()
			}
			w.releaseReview(it.k.ID)
			continue
		}
		switch {
		case code != 0 && lostAssignment(codespace, code, log):
			w.logf("%s: lost the assignment, %s not reported (block %d tx %s): %s", it.k, it.text(), height, tx.hash, truncate(log, 300))
			w.cfg.Metrics.lost()
		case code != 0:
			w.logf("%s: %s REJECTED in block %d tx %s: %s", it.k, it.text(), height, tx.hash, truncate(log, 300))
			w.cfg.Metrics.rejected()
		case it.outcome == "fail":
			w.logf("%s: %s reported in block %d tx %s", it.k, it.text(), height, tx.hash)
			w.cfg.Metrics.failed()
		default:
			w.logf("%s: %s reported in block %d tx %s", it.k, it.text(), height, tx.hash)
			w.cfg.Metrics.completed()
		}
		w.done()
	}
	if reviews > 0 {
		w.kickReviews()
	}
}

// dropped handles a tx that never reached a block: its requests still
// assigned to this worker (same attempt) are reported again, its reviews
// sent again.
func (t *tracker) dropped(ctx context.Context, tx *inflightTx) {
	w := t.w
	t.remove(tx.hash)
	var recs []record
	for _, it := range tx.items {
		if !it.review {
			recs = append(recs, record{ID: it.k.ID, Attempt: it.k.Attempt, State: stateDropped, Outcome: it.outcome, TxHash: tx.hash})
		}
	}
	if err := w.store.Put(recs...); err != nil {
		w.logf("state file: %v", err)
	}
	w.logf("tx %s not in a block %d blocks after it was sent: dropped; its %d message(s) are sent again if still due",
		tx.hash, w.cfg.LostAfterBlocks, len(tx.items))
	for _, it := range tx.items {
		if it.review {
			w.retryReview(it.k.ID, false)
			continue
		}
		w.forget(it.k)
		w.done()
	}
	_ = ctx
	w.poke()
}

func (t *tracker) remove(hash string) {
	t.mu.Lock()
	delete(t.txs, hash)
	t.mu.Unlock()
}

// inflight is the number of txs being followed.
func (t *tracker) inflight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.txs)
}
