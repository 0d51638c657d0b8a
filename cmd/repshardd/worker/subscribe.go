package worker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

// assignedEvent is the typed event x/deferral emits on every assignment;
// typed-event attributes hold JSON values, so strings come quoted.
const assignedEvent = "repshard.deferral.v1.EventRequestAssigned"

// subscribeLoop keeps a websocket subscription to the node: the worker's
// assignments in txs (assigned at submission) and in block events (the
// EndBlock drain), and the new block headers as a heartbeat. While it is
// down, pollLoop polls every PollInterval; when it comes back, one full poll
// picks up what was missed.
func (w *Worker) subscribeLoop(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := w.subscribeOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if w.subscribed.Swap(false) {
			w.logf("event subscription dropped (%v): polling every %s until it is back", err, w.cfg.PollInterval)
			backoff = time.Second
		}
		w.poke()
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (w *Worker) subscribeOnce(ctx context.Context) error {
	c, err := rpchttp.New(w.cfg.RPCAddress, "/websocket")
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return err
	}
	defer func() { _ = c.Stop() }()

	filter := fmt.Sprintf("%s.worker='\"%s\"'", assignedEvent, w.addrStr)
	subCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	const subscriber = "repshard-worker"
	txs, err := c.Subscribe(subCtx, subscriber, fmt.Sprintf("tm.event='Tx' AND %s", filter), 1000)
	if err != nil {
		return err
	}
	blocks, err := c.Subscribe(subCtx, subscriber, fmt.Sprintf("tm.event='NewBlockEvents' AND %s", filter), 1000)
	if err != nil {
		return err
	}
	headers, err := c.Subscribe(subCtx, subscriber, "tm.event='NewBlockHeader'", 100)
	if err != nil {
		return err
	}
	if !w.subscribed.Swap(true) {
		w.logf("subscribed to assignments of %s over %s/websocket", w.addrStr, w.cfg.RPCAddress)
	}
	w.poke() // catch up with what happened before the subscription

	heartbeat := time.NewTimer(w.cfg.HeartbeatTimeout)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			return fmt.Errorf("no new block for %s", w.cfg.HeartbeatTimeout)
		case ev, ok := <-headers:
			if !ok {
				return fmt.Errorf("subscription closed")
			}
			if h, ok := ev.Data.(cmttypes.EventDataNewBlockHeader); ok {
				w.setHeight(h.Header.Height)
			}
			heartbeat.Reset(w.cfg.HeartbeatTimeout)
			w.tracker.kick()
		case ev, ok := <-txs:
			if !ok {
				return fmt.Errorf("subscription closed")
			}
			w.onAssigned(ctx, ev)
		case ev, ok := <-blocks:
			if !ok {
				return fmt.Errorf("subscription closed")
			}
			w.onAssigned(ctx, ev)
		}
	}
}

// onAssigned dispatches the requests of the worker's assignment events
// (EventRequestAssigned: request_id, worker, attempt, deadline_height). An
// assignment already in hand or handled (same request and attempt) is not
// fetched again; any other is read from the chain, which has the last word
// (dispatch checks it is still this worker's).
func (w *Worker) onAssigned(ctx context.Context, ev ctypes.ResultEvent) {
	ids := ev.Events[assignedEvent+".request_id"]
	workers := ev.Events[assignedEvent+".worker"]
	attempts := ev.Events[assignedEvent+".attempt"]
	want := strconv.Quote(w.addrStr)
	for i, raw := range ids {
		if len(workers) == len(ids) && workers[i] != want {
			continue // another worker's assignment in the same tx or block
		}
		id, err := strconv.ParseUint(strings.Trim(raw, `"`), 10, 64)
		if err != nil {
			continue
		}
		if len(attempts) == len(ids) {
			if a, err := strconv.ParseUint(strings.Trim(attempts[i], `"`), 10, 32); err == nil && w.handled(key{id, uint32(a)}) {
				continue
			}
		}
		w.fetchAndDispatch(ctx, id)
	}
}
