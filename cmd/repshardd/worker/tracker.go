package worker

import (
	"context"
	"encoding/hex"
	"sync"
	"time"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// tracker follows the broadcast report txs until they are in a block (or
// dropped), then records and logs the outcome of each request.
type tracker struct {
	w    *Worker
	mu   sync.Mutex
	txs  map[string]*inflightTx
	poke chan struct{}
}

type inflightTx struct {
	hash       string
	batch      []outcome // empty for a tx adopted from the state file
	keys       []key
	outcomes   []string
	sentHeight int64
}

func newTracker(w *Worker) *tracker {
	return &tracker{w: w, txs: map[string]*inflightTx{}, poke: make(chan struct{}, 1)}
}

func (t *tracker) add(hash string, batch []outcome, height int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx := t.txs[hash]
	if tx == nil {
		tx = &inflightTx{hash: hash, sentHeight: height}
		t.txs[hash] = tx
	}
	for _, o := range batch {
		tx.batch = append(tx.batch, o)
		tx.keys = append(tx.keys, o.key())
		tx.outcomes = append(tx.outcomes, outcomeName(o))
	}
}

// adopt tracks a report of an earlier run left in state "sending".
func (t *tracker) adopt(r record, height int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx := t.txs[r.TxHash]
	if tx == nil {
		tx = &inflightTx{hash: r.TxHash, sentHeight: height}
		t.txs[r.TxHash] = tx
	}
	tx.keys = append(tx.keys, r.key())
	tx.outcomes = append(tx.outcomes, r.Outcome)
	t.w.cfg.Metrics.assigned()
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
		state := stateCommitted
		if res.TxResult.Code != 0 {
			state = stateRejected
		}
		recs := make([]record, len(tx.keys))
		for i, k := range tx.keys {
			recs[i] = record{ID: k.ID, Attempt: k.Attempt, State: state, Outcome: tx.outcomes[i], TxHash: tx.hash, Height: res.Height}
		}
		if err := w.store.Put(recs...); err != nil {
			w.logf("state file: %v", err)
		}
		if state == stateRejected && len(tx.keys) > 1 {
			// The tx failed as a whole: none of its reports took effect.
			// Those still assigned to this worker are reported again.
			w.logf("tx %s (%d reports) failed in block %d (code %d): %s; reporting its requests again",
				tx.hash, len(tx.keys), res.Height, res.TxResult.Code, truncate(res.TxResult.Log, 300))
			for i := range recs {
				recs[i].State = stateDropped
			}
			_ = w.store.Put(recs...)
			for _, k := range tx.keys {
				w.forget(k)
				w.done()
			}
			w.poke()
			continue
		}
		for i, k := range tx.keys {
			text := tx.outcomes[i]
			if i < len(tx.batch) {
				text = describe(tx.batch[i])
			}
			switch {
			case state == stateRejected:
				w.logf("%s: %s REJECTED in block %d tx %s: %s", k, text, res.Height, tx.hash, truncate(res.TxResult.Log, 300))
				w.cfg.Metrics.rejected()
			case tx.outcomes[i] == "fail":
				w.logf("%s: %s reported in block %d tx %s", k, text, res.Height, tx.hash)
				w.cfg.Metrics.failed()
			default:
				w.logf("%s: %s reported in block %d tx %s", k, text, res.Height, tx.hash)
				w.cfg.Metrics.completed()
			}
			w.done()
		}
	}
}

// dropped handles a tx that never reached a block: its requests still
// assigned to this worker (same attempt) are reported again.
func (t *tracker) dropped(ctx context.Context, tx *inflightTx) {
	w := t.w
	t.remove(tx.hash)
	recs := make([]record, len(tx.keys))
	for i, k := range tx.keys {
		recs[i] = record{ID: k.ID, Attempt: k.Attempt, State: stateDropped, Outcome: tx.outcomes[i], TxHash: tx.hash}
	}
	if err := w.store.Put(recs...); err != nil {
		w.logf("state file: %v", err)
	}
	w.logf("tx %s not in a block %d blocks after it was sent: dropped; its %d request(s) are reported again if still assigned",
		tx.hash, w.cfg.LostAfterBlocks, len(tx.keys))
	for _, k := range tx.keys {
		w.forget(k)
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

var _ = deferraltypes.StatusAssigned
