package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
)

// Reviews: once the worker's report of a request is in a block, the tracker
// records a "pending" review of the request in the state file (in the same
// write as the report's "committed"). The review loop checks each pending
// review against the chain (the request ended COMPLETED or FAILED with this
// worker as its worker, and has no review yet) and hands it to the signer,
// which batches it with the reports; the tracker records the outcome. The
// state file keeps one review record per request, so a restarted daemon never
// rates a request twice, and sends the reviews left pending.

// reviewInterval is how often the review loop looks for pending reviews
// when nothing kicks it.
const reviewInterval = 2 * time.Second

// maxReviewRetries bounds how often a review is sent again after its tx
// failed as a whole (with other messages); it is then given up.
const maxReviewRetries = 3

// kickReviews asks the review loop to look now.
func (w *Worker) kickReviews() {
	select {
	case w.reviewWake <- struct{}{}:
	default:
	}
}

// pendingReview is the review record to write once the report of assignment
// k with outcome ("complete" or "fail") is in a block, or false when the
// worker does not rate or already has a review of the request.
func (w *Worker) pendingReview(k key, outcome string) (record, bool) {
	if w.cfg.Rating.Disabled {
		return record{}, false
	}
	if _, ok := w.store.Review(k.ID); ok {
		return record{}, false
	}
	return record{Kind: kindReview, ID: k.ID, Attempt: k.Attempt, State: statePending,
		Outcome: outcome, Rating: w.cfg.Rating.rating(outcome)}, true
}

// setReview records a new state of a review (keeping its rating).
func (w *Worker) setReview(id uint64, state, txHash string, height int64) {
	r, _ := w.store.Review(id)
	r.Kind, r.ID, r.State, r.TxHash, r.Height = kindReview, id, state, txHash, height
	if err := w.store.Put(r); err != nil {
		w.logf("state file: %v", err)
	}
}

// releaseReview ends a review's time in the signer and the tracker.
func (w *Worker) releaseReview(id uint64) {
	w.mu.Lock()
	delete(w.reviewing, id)
	w.mu.Unlock()
}

// retryReview puts a review whose tx never took effect back to pending, at
// most maxReviewRetries times after a failed tx (failed counts one).
func (w *Worker) retryReview(id uint64, failed bool) {
	w.mu.Lock()
	if failed {
		w.retries[id]++
	}
	n := w.retries[id]
	w.mu.Unlock()
	if n > maxReviewRetries {
		w.logf("review of request %d: its tx failed %d times; given up", id, n)
		w.setReview(id, stateRejected, "", 0)
		w.cfg.Metrics.reviewRefused()
	} else {
		w.setReview(id, statePending, "", 0)
	}
	w.releaseReview(id)
	w.kickReviews()
}

func (w *Worker) reviewLoop(ctx context.Context) {
	tick := time.NewTicker(reviewInterval)
	defer tick.Stop()
	for {
		w.reviewOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.reviewWake:
		}
	}
}

// reviewOnce hands the pending reviews that the chain would take to the
// signer, and records the others as skipped (or as done, when the chain
// already holds this worker's review).
func (w *Worker) reviewOnce(ctx context.Context) {
	for _, r := range w.store.Reviews(statePending) {
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		busy := w.reviewing[r.ID]
		w.mu.Unlock()
		if busy {
			continue
		}
		req, verdict, why, err := w.reviewable(ctx, r.ID)
		if err != nil {
			if ctx.Err() == nil {
				w.logf("review of request %d: query: %s (retrying)", r.ID, shortErr(err))
			}
			return
		}
		switch verdict {
		case reviewDone:
			w.logf("review of request %d: %s", r.ID, why)
			w.setReview(r.ID, stateCommitted, "", 0)
			continue
		case reviewSkip:
			w.logf("review of request %d: not sent: %s", r.ID, why)
			w.setReview(r.ID, stateSkipped, "", 0)
			w.cfg.Metrics.reviewSkipped()
			continue
		}
		w.mu.Lock()
		w.reviewing[r.ID] = true
		w.mu.Unlock()
		select {
		case w.reports <- outcome{req: req, review: true, rating: r.Rating}:
		case <-ctx.Done():
			return
		}
	}
}

type reviewVerdict int

const (
	reviewSend reviewVerdict = iota // the chain would take it
	reviewDone                      // the chain holds this worker's review already
	reviewSkip                      // not this worker's to send
)

// reviewable asks the chain whether the worker may rate the requester of
// request id: x/reputation takes one review per request, from the worker of
// a COMPLETED or FAILED request that is not its requester. A query error is
// returned (the node may be down).
func (w *Worker) reviewable(ctx context.Context, id uint64) (deferraltypes.Request, reviewVerdict, string, error) {
	rv, err := w.repQ.Review(ctx, &reputationtypes.QueryReviewRequest{RequestId: id})
	switch {
	case err == nil:
		if rv.Review.Reviewer == w.addrStr {
			return deferraltypes.Request{}, reviewDone, fmt.Sprintf("already on chain (rating %d at height %d)", rv.Review.Rating, rv.Review.Height), nil
		}
		return deferraltypes.Request{}, reviewSkip, "already reviewed by " + rv.Review.Reviewer, nil
	case status.Code(err) != codes.NotFound:
		return deferraltypes.Request{}, 0, "", err
	}
	res, err := w.query.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return deferraltypes.Request{}, reviewSkip, "the request is gone (pruned)", nil
		}
		return deferraltypes.Request{}, 0, "", err
	}
	req := res.Request
	switch {
	case req.Status != deferraltypes.StatusCompleted && req.Status != deferraltypes.StatusFailed:
		return req, reviewSkip, fmt.Sprintf("the request is %s (back in the queue after the failure report, for another worker)", statusName(req.Status)), nil
	case req.Worker != w.addrStr:
		return req, reviewSkip, fmt.Sprintf("the request ended %s by worker %s", statusName(req.Status), req.Worker), nil
	case req.Requester == w.addrStr:
		return req, reviewSkip, "this worker is its requester", nil
	}
	return req, reviewSend, "", nil
}

// lostAssignment tells whether the chain refused a report because the
// assignment is no longer the worker's: the request is not (or no longer)
// ASSIGNED, it is assigned to another worker, or the deadline passed (it will
// be re-queued). text is a simulation error or a failed tx's log; codespace
// and code, when known (a tx in a block), are checked first.
func lostAssignment(codespace string, code uint32, text string) bool {
	lost := []interface {
		ABCICode() uint32
		Error() string
	}{deferraltypes.ErrNotAssignedWorker, deferraltypes.ErrRequestNotAssigned, deferraltypes.ErrDeadlinePassed}
	for _, e := range lost {
		if codespace == deferraltypes.ModuleName && code == e.ABCICode() {
			return true
		}
		if codespace == "" && strings.Contains(text, e.Error()) {
			return true
		}
	}
	return false
}

// statusName is a request status without its enum prefix (QUEUED, FAILED, …).
func statusName(s deferraltypes.RequestStatus) string {
	return strings.TrimPrefix(s.String(), "REQUEST_STATUS_")
}
