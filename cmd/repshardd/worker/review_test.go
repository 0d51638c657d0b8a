package worker

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
)

const (
	me    = "repshard1me"
	other = "repshard1other"
	buyer = "repshard1requester"
)

// fakeChain answers the request and review queries from maps.
type fakeChain struct {
	mu       sync.Mutex
	queries  int
	requests map[uint64]deferraltypes.Request
	reviews  map[uint64]reputationtypes.Review
}

type fakeDeferral struct {
	deferraltypes.QueryClient // other methods: not used
	*fakeChain
}

type fakeReputation struct {
	reputationtypes.QueryClient // other methods: not used
	*fakeChain
}

func (f fakeDeferral) Request(_ context.Context, in *deferraltypes.QueryRequestRequest, _ ...grpc.CallOption) (*deferraltypes.QueryRequestResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries++
	r, ok := f.requests[in.RequestId]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "request %d not found", in.RequestId)
	}
	return &deferraltypes.QueryRequestResponse{Request: r}, nil
}

func (f fakeReputation) Review(_ context.Context, in *reputationtypes.QueryReviewRequest, _ ...grpc.CallOption) (*reputationtypes.QueryReviewResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reviews[in.RequestId]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "request %d has no review", in.RequestId)
	}
	return &reputationtypes.QueryReviewResponse{Review: r}, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testWorker is a Worker without a node: its queries go to chain, its state
// file is path.
func testWorker(t *testing.T, path string, rating RatingPolicy, chain *fakeChain) (*Worker, *lockedBuffer) {
	t.Helper()
	store, err := OpenStore(path)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	log := &lockedBuffer{}
	cfg := Config{StatePath: path, Log: log, Metrics: NewMetrics(), Rating: rating}
	cfg.setDefaults()
	w := &Worker{
		cfg: cfg, addrStr: me, query: fakeDeferral{fakeChain: chain}, repQ: fakeReputation{fakeChain: chain}, store: store,
		known: map[key]bool{}, reviewing: map[uint64]bool{}, retries: map[uint64]int{},
		tasks: make(chan deferraltypes.Request, 100), reports: make(chan outcome, 100),
		wake: make(chan struct{}, 1), reviewWake: make(chan struct{}, 1),
	}
	w.tracker = newTracker(w)
	w.signer = newSigner(w)
	return w, log
}

func reportItem(id uint64, attempt uint32, failed bool) txItem {
	o := outcome{req: deferraltypes.Request{Id: id, Attempts: attempt, Requester: buyer}, failed: failed, result: make([]byte, 32)}
	if failed {
		o.reason = "broken"
	}
	return txItem{k: o.key(), outcome: outcomeName(o), o: &o}
}

func finished(id uint64, st deferraltypes.RequestStatus, worker string, attempt uint32) deferraltypes.Request {
	return deferraltypes.Request{Id: id, Requester: buyer, Status: st, Worker: worker, Attempts: attempt}
}

func TestRatingPolicy(t *testing.T) {
	var p RatingPolicy
	require.NoError(t, p.Validate())
	require.EqualValues(t, 5, p.rating("complete"))
	require.EqualValues(t, 3, p.rating("fail"))
	p = RatingPolicy{Completed: 4, Failed: 1}
	require.NoError(t, p.Validate())
	require.EqualValues(t, 4, p.rating("complete"))
	require.EqualValues(t, 1, p.rating("fail"))
	require.ErrorContains(t, RatingPolicy{Completed: 6}.Validate(), "1 (worst) to 5 (best)")
	require.ErrorContains(t, RatingPolicy{Failed: 9}.Validate(), "failed")
}

// Reviews are kept by request, apart from the reports (by request and
// attempt), and survive a reopen.
func TestStoreKeepsReviewsApartFromReports(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	s, err := OpenStore(path)
	require.NoError(t, err)
	require.NoError(t, s.Put(
		record{ID: 5, Attempt: 1, State: stateCommitted, Outcome: "complete", TxHash: "AA"},
		record{Kind: kindReview, ID: 5, Attempt: 1, State: stateSending, Outcome: "complete", Rating: 5, TxHash: "BB"},
		record{Kind: kindReview, ID: 6, Attempt: 2, State: statePending, Outcome: "fail", Rating: 3},
	))
	require.NoError(t, s.Put(record{Kind: kindReview, ID: 5, Attempt: 1, State: stateCommitted, Outcome: "complete", Rating: 5, TxHash: "BB", Height: 9}))
	require.NoError(t, s.Close())

	s, err = OpenStore(path)
	require.NoError(t, err)
	defer s.Close()
	r, ok := s.Get(key{5, 1})
	require.True(t, ok)
	require.Equal(t, stateCommitted, r.State)
	require.Equal(t, "AA", r.TxHash, "the review did not overwrite the report")
	rv, ok := s.Review(5)
	require.True(t, ok)
	require.Equal(t, stateCommitted, rv.State)
	require.EqualValues(t, 5, rv.Rating)
	require.Empty(t, s.Sending(), "reviews are not listed with the reports")
	pend := s.Reviews(statePending)
	require.Len(t, pend, 1)
	require.EqualValues(t, 6, pend[0].ID)
	require.EqualValues(t, 3, pend[0].Rating)
	_, ok = s.Get(key{6, 2})
	require.False(t, ok)
}

// A report in a block calls for one review per request, with the policy's
// rating, written in the same state file write; a restarted daemon (same
// state file) does not queue it again.
func TestReportInBlockQueuesOneReviewAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	w, _ := testWorker(t, path, RatingPolicy{}, &fakeChain{})
	w.tracker.landed(&inflightTx{hash: "T1", items: []txItem{reportItem(1, 1, false), reportItem(2, 1, true)}}, 10, 0, "", "")
	pend := w.store.Reviews(statePending)
	require.Len(t, pend, 2)
	require.EqualValues(t, 5, pend[0].Rating)
	require.Equal(t, "complete", pend[0].Outcome)
	require.EqualValues(t, 3, pend[1].Rating)
	require.Equal(t, "fail", pend[1].Outcome)
	require.EqualValues(t, 1, count(t, w.cfg.Metrics.Completed))
	require.EqualValues(t, 1, count(t, w.cfg.Metrics.Failed))

	// Request 1's review goes out and lands.
	w.reviewing[1] = true
	rv := outcome{req: deferraltypes.Request{Id: 1, Requester: buyer}, review: true, rating: 5}
	w.tracker.landed(&inflightTx{hash: "T2", items: []txItem{{k: rv.key(), outcome: kindReview, review: true, o: &rv}}}, 11, 0, "", "")
	r, _ := w.store.Review(1)
	require.Equal(t, stateCommitted, r.State)
	require.EqualValues(t, 5, r.Rating)
	require.False(t, w.reviewing[1])
	require.EqualValues(t, 1, count(t, w.cfg.Metrics.ReviewsSent))
	require.NoError(t, w.store.Close())

	// Restart: the committed review stays committed, the pending one pending;
	// the same report seen again (e.g. adopted from the state file) queues
	// nothing new.
	w2, _ := testWorker(t, path, RatingPolicy{}, &fakeChain{})
	r, _ = w2.store.Review(1)
	require.Equal(t, stateCommitted, r.State)
	_, again := w2.pendingReview(key{1, 1}, "complete")
	require.False(t, again, "request 1 would be rated twice")
	_, again = w2.pendingReview(key{1, 2}, "complete")
	require.False(t, again, "one review per request, whatever the attempt")
	w2.tracker.landed(&inflightTx{hash: "T1", items: []txItem{{k: key{1, 1}, outcome: "complete"}}}, 10, 0, "", "")
	r, _ = w2.store.Review(1)
	require.Equal(t, stateCommitted, r.State)
	require.Len(t, w2.store.Reviews(statePending), 1)
}

func TestNoReviewWhenRatingDisabled(t *testing.T) {
	w, _ := testWorker(t, filepath.Join(t.TempDir(), "s.jsonl"), RatingPolicy{Disabled: true}, &fakeChain{})
	w.tracker.landed(&inflightTx{hash: "T1", items: []txItem{reportItem(1, 1, false), reportItem(2, 1, true)}}, 10, 0, "", "")
	_, ok := w.store.Review(1)
	require.False(t, ok)
	_, ok = w.store.Review(2)
	require.False(t, ok)
	require.EqualValues(t, 1, count(t, w.cfg.Metrics.Completed))
}

// The review loop sends what the chain would take, skips what is not this
// worker's to rate (a failure report sent the request back to the queue; the
// request ended with another worker), and records a review the chain already
// holds (sent before a crash) as done, without sending it again.
func TestReviewLoopChecksTheChain(t *testing.T) {
	chain := &fakeChain{
		requests: map[uint64]deferraltypes.Request{
			1: finished(1, deferraltypes.StatusCompleted, me, 1),
			2: finished(2, deferraltypes.StatusQueued, "", 1),
			3: finished(3, deferraltypes.StatusFailed, other, 2),
			4: finished(4, deferraltypes.StatusFailed, me, 2),
			5: finished(5, deferraltypes.StatusCompleted, me, 1),
		},
		reviews: map[uint64]reputationtypes.Review{5: {RequestId: 5, Reviewer: me, Rating: 5, Height: 3}},
	}
	w, log := testWorker(t, filepath.Join(t.TempDir(), "s.jsonl"), RatingPolicy{}, chain)
	for id, outcome := range map[uint64]string{1: "complete", 2: "fail", 3: "fail", 4: "fail", 5: "complete"} {
		rv, ok := w.pendingReview(key{id, 1}, outcome)
		require.True(t, ok)
		require.NoError(t, w.store.Put(rv))
	}
	w.reviewOnce(context.Background())
	sent := map[uint64]uint32{}
	for len(w.reports) > 0 {
		o := <-w.reports
		require.True(t, o.review)
		sent[o.req.Id] = o.rating
	}
	require.Equal(t, map[uint64]uint32{1: 5, 4: 3}, sent)
	for id, want := range map[uint64]string{1: statePending, 2: stateSkipped, 3: stateSkipped, 4: statePending, 5: stateCommitted} {
		r, _ := w.store.Review(id)
		require.Equal(t, want, r.State, "request %d", id)
	}
	require.EqualValues(t, 2, count(t, w.cfg.Metrics.ReviewsSkipped))
	require.Contains(t, log.String(), "review of request 2: not sent: the request is QUEUED")

	// In flight: not handed to the signer twice.
	w.reviewOnce(context.Background())
	require.Empty(t, w.reports)
}

// A review the chain refuses is logged and counted, never retried, and does
// not stop the reports next to it; a tx that failed as a whole puts its
// review back to pending (a few times at most).
func TestRefusedReviewIsDroppedNotFatal(t *testing.T) {
	w, log := testWorker(t, filepath.Join(t.TempDir(), "s.jsonl"), RatingPolicy{}, &fakeChain{})
	for _, id := range []uint64{1, 2} {
		rv, _ := w.pendingReview(key{id, 1}, "complete")
		require.NoError(t, w.store.Put(rv))
		w.reviewing[id] = true
	}
	rv1 := outcome{req: deferraltypes.Request{Id: 1}, review: true, rating: 5}
	w.tracker.landed(&inflightTx{hash: "T", items: []txItem{{k: rv1.key(), review: true, o: &rv1}}}, 7, 12, reputationtypes.ModuleName, "request already reviewed")
	r, _ := w.store.Review(1)
	require.Equal(t, stateRejected, r.State)
	require.EqualValues(t, 1, count(t, w.cfg.Metrics.ReviewsRefused))
	require.Contains(t, log.String(), "review of request 1: rating 5 REFUSED in block 7")

	// Simulation refused it: same, through the signer.
	w.signer.refused(outcome{req: deferraltypes.Request{Id: 2}, review: true, rating: 5}, "request 2: request already reviewed")
	r, _ = w.store.Review(2)
	require.Equal(t, stateRejected, r.State)
	require.EqualValues(t, 2, count(t, w.cfg.Metrics.ReviewsRefused))
	require.False(t, w.reviewing[2])

	// A tx of a report and a review failing as a whole: the review is pending again.
	rv3, _ := w.pendingReview(key{3, 1}, "complete")
	require.NoError(t, w.store.Put(rv3))
	o3 := outcome{req: deferraltypes.Request{Id: 3}, review: true, rating: 5}
	for i := 1; i <= maxReviewRetries+1; i++ {
		w.reviewing[3] = true
		w.tracker.landed(&inflightTx{hash: "U", items: []txItem{reportItem(9, 1, false), {k: o3.key(), review: true, o: &o3}}}, 8, 11, "sdk", "out of gas")
		r, _ = w.store.Review(3)
		if i <= maxReviewRetries {
			require.Equal(t, statePending, r.State, "try %d", i)
		}
	}
	require.Equal(t, stateRejected, r.State, "given up after %d failed txs", maxReviewRetries)
	r9, _ := w.store.Get(key{9, 1})
	require.Equal(t, stateDropped, r9.State, "the report is sent again")
}

func TestLostAssignmentClassification(t *testing.T) {
	for _, c := range []struct {
		codespace string
		code      uint32
		text      string
		lost      bool
	}{
		{deferraltypes.ModuleName, deferraltypes.ErrNotAssignedWorker.ABCICode(), "", true},
		{deferraltypes.ModuleName, deferraltypes.ErrRequestNotAssigned.ABCICode(), "", true},
		{deferraltypes.ModuleName, deferraltypes.ErrDeadlinePassed.ABCICode(), "", true},
		{deferraltypes.ModuleName, deferraltypes.ErrInvalidResultHash.ABCICode(), "", false},
		{"sdk", 11, "out of gas", false},
		{"", 0, "rpc error: code = Unknown desc = failed to execute message; message index: 0: request 4 is assigned to repshard1x: signer is not the request's assigned worker [cosmos/cosmos-sdk@v0.53/baseapp/baseapp.go:1000] With gas wanted", true},
		{"", 0, "message index: 0: request 4 is QUEUED: request is not assigned", true},
		{"", 0, "deadline was height 40, now 41: assignment deadline has passed", true},
		{"", 0, "invalid result hash", false},
	} {
		require.Equal(t, c.lost, lostAssignment(c.codespace, c.code, c.text), "%+v", c)
	}
}

// A report whose assignment is gone (the chain re-queued the request, gave
// it to another worker, or this worker's attempt was superseded) is dropped:
// logged, recorded "lost", counted, no review, no crash.
func TestLostAssignmentIsDropped(t *testing.T) {
	chain := &fakeChain{requests: map[uint64]deferraltypes.Request{
		1: {Id: 1, Status: deferraltypes.StatusQueued, Attempts: 1},
		2: {Id: 2, Status: deferraltypes.StatusAssigned, Worker: other, Attempts: 2},
		3: {Id: 3, Status: deferraltypes.StatusAssigned, Worker: me, Attempts: 3}, // re-assigned? never to the same worker; but a stale attempt is not ours
		4: {Id: 4, Status: deferraltypes.StatusAssigned, Worker: me, Attempts: 1, DeadlineHeight: 100},
	}}
	w, log := testWorker(t, filepath.Join(t.TempDir(), "s.jsonl"), RatingPolicy{}, chain)
	var batch []outcome
	for id := uint64(1); id <= 4; id++ {
		batch = append(batch, outcome{req: deferraltypes.Request{Id: id, Attempts: 1, DeadlineHeight: 100}, result: make([]byte, 32)})
		w.known[key{id, 1}] = true
	}
	kept, err := w.signer.stillMine(context.Background(), batch, true)
	require.NoError(t, err)
	require.Len(t, kept, 1)
	require.EqualValues(t, 4, kept[0].req.Id)
	for id := uint64(1); id <= 3; id++ {
		r, ok := w.store.Get(key{id, 1})
		require.True(t, ok)
		require.Equal(t, stateLost, r.State)
		require.Contains(t, log.String(), fmt.Sprintf("request %d attempt 1: lost the assignment", id))
		_, rated := w.store.Review(id)
		require.False(t, rated)
	}
	require.EqualValues(t, 3, count(t, w.cfg.Metrics.Lost))
	require.Zero(t, count(t, w.cfg.Metrics.Rejected))

	// The simulation says so while the query still showed it ours (a race).
	w.signer.refused(kept[0], "failed to execute message; message index: 0: request 4 is assigned to repshard1other: signer is not the request's assigned worker")
	r, _ := w.store.Get(key{4, 1})
	require.Equal(t, stateLost, r.State)

	// In a block (the tx's only report).
	w.tracker.landed(&inflightTx{hash: "V", items: []txItem{reportItem(5, 1, false)}}, 50, deferraltypes.ErrRequestNotAssigned.ABCICode(), deferraltypes.ModuleName, "request 5 is EXPIRED: request is not assigned")
	r, _ = w.store.Get(key{5, 1})
	require.Equal(t, stateLost, r.State)
	_, rated := w.store.Review(5)
	require.False(t, rated, "a lost assignment is not rated")
	require.EqualValues(t, 5, count(t, w.cfg.Metrics.Lost))
	require.True(t, strings.Contains(log.String(), "request 5 attempt 1: lost the assignment"))
}

// dispatch keys on the assignment (request and attempt) and on the chain's
// worker: a request seen before under another attempt is a new assignment; a
// request assigned to another worker or already handled is not.
func TestDispatchKeysOnAssignment(t *testing.T) {
	w, _ := testWorker(t, filepath.Join(t.TempDir(), "s.jsonl"), RatingPolicy{}, &fakeChain{})
	require.NoError(t, w.store.Put(
		record{ID: 7, Attempt: 1, State: stateLost},
		record{ID: 8, Attempt: 1, State: stateCommitted, Outcome: "fail"},
		record{Kind: kindReview, ID: 9, State: stateCommitted, Rating: 5},
		record{ID: 10, Attempt: 1, State: stateDropped},
	))
	ctx := context.Background()
	assigned := func(id uint64, attempt uint32, worker string) deferraltypes.Request {
		return deferraltypes.Request{Id: id, Attempts: attempt, Worker: worker, Status: deferraltypes.StatusAssigned}
	}
	w.dispatch(ctx, assigned(7, 1, me))     // lost, same attempt: no
	w.dispatch(ctx, assigned(7, 2, me))     // a new assignment of a request seen before: yes
	w.dispatch(ctx, assigned(7, 2, me))     // already dispatched in this run: no
	w.dispatch(ctx, assigned(8, 1, me))     // reported: no
	w.dispatch(ctx, assigned(9, 1, me))     // only its review is known (another role): yes
	w.dispatch(ctx, assigned(10, 1, me))    // dropped tx: yes, again
	w.dispatch(ctx, assigned(11, 1, other)) // another worker's: no
	w.dispatch(ctx, deferraltypes.Request{Id: 12, Attempts: 1, Worker: me, Status: deferraltypes.StatusQueued})
	var got []key
	for len(w.tasks) > 0 {
		r := <-w.tasks
		got = append(got, key{r.Id, r.Attempts})
	}
	require.Equal(t, []key{{7, 2}, {9, 1}, {10, 1}}, got)
}

// count reads a counter.
func count(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 1)
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}

// An assignment event names the request, the worker and the attempt: one
// already handled (same request and attempt) is not even fetched; a request
// seen before under another attempt is fetched and dispatched; another
// worker's is ignored.
func TestAssignmentEventsKeyOnAttempt(t *testing.T) {
	chain := &fakeChain{requests: map[uint64]deferraltypes.Request{
		7: {Id: 7, Attempts: 2, Worker: me, Status: deferraltypes.StatusAssigned},
		8: {Id: 8, Attempts: 1, Worker: me, Status: deferraltypes.StatusAssigned},
	}}
	w, _ := testWorker(t, filepath.Join(t.TempDir(), "s.jsonl"), RatingPolicy{}, chain)
	require.NoError(t, w.store.Put(record{ID: 7, Attempt: 1, State: stateLost}, record{ID: 8, Attempt: 1, State: stateCommitted, Outcome: "complete"}))
	ev := func(id, worker, attempt string) ctypes.ResultEvent {
		return ctypes.ResultEvent{Events: map[string][]string{
			assignedEvent + ".request_id": {`"` + id + `"`},
			assignedEvent + ".worker":     {`"` + worker + `"`},
			assignedEvent + ".attempt":    {attempt},
		}}
	}
	ctx := context.Background()
	w.onAssigned(ctx, ev("8", me, "1")) // reported already: no query
	w.onAssigned(ctx, ev("7", me, "1")) // lost already: no query
	w.onAssigned(ctx, ev("9", other, "1"))
	require.Zero(t, chain.queries)
	w.onAssigned(ctx, ev("7", me, "2")) // a new attempt of a request seen before
	require.Equal(t, 1, chain.queries)
	require.Len(t, w.tasks, 1)
	r := <-w.tasks
	require.Equal(t, key{7, 2}, key{r.Id, r.Attempts})
	w.onAssigned(ctx, ev("7", me, "2")) // in hand: no query
	require.Equal(t, 1, chain.queries)
}
