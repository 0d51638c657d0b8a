// Package worker is the repshard worker daemon (`repshardd worker run`): it
// learns the requests assigned to its account from CometBFT event
// subscriptions (falling back to polling the requests-by-worker query when
// the subscription drops), runs an executor on each, and reports the results
// with MsgCompleteRequest / MsgFailRequest, several per transaction. Once its
// report of a request is in a block, it rates the request's requester
// (MsgSubmitReview, see RatingPolicy), batched with the other messages.
//
// An assignment is a request and an attempt number: a request re-queued
// after an expiry or a failure report is assigned again under a new attempt
// (to another worker: the chain never gives it back to one that let it
// expire or reported it failed), and a report is only sent while the
// assignment is still this worker's; one it lost is logged and dropped.
//
// Before an executor runs, a payload held at an http, https or file
// payload_uri is fetched and checked against the request's payload_hash
// (PayloadFetcher); the executor's result bytes are kept in a ResultStore
// before the report goes out, and a ResultServer serves them to the
// requester or its result delegate (docs/dataplane.md; the client is
// package resultapi).
//
// It is client code, not state machine: goroutines and wall-clock time are
// fine here. What it reported and rated is kept in a state file (Store) so
// that a restarted daemon never reports an assignment twice nor rates a
// requester twice for one request, and picks up the assignments made while
// it was down.
package worker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
)

// Config configures a Worker.
type Config struct {
	// ClientCtx holds the codecs, the tx config, the keyring, the CometBFT
	// RPC client (broadcast, tx lookup) and the chain id. When its
	// GRPCClient is set, queries and simulations go through gRPC.
	ClientCtx client.Context
	// KeyName is the worker account's key in the keyring.
	KeyName string
	// RPCAddress is the CometBFT RPC address for the websocket subscription
	// (tcp://host:port or http://host:port).
	RPCAddress string
	// Executor runs the requests (BuiltinExecutor when nil).
	Executor Executor
	// Concurrency is how many requests run at once (default 4).
	Concurrency int
	// MaxBatch is the most reports in one transaction (default 100, the
	// chain's default max_batch_requests: a worker reports a whole batch at once).
	MaxBatch int
	// BatchWait is how long the first report of a batch waits for others (default 300ms).
	BatchWait time.Duration
	// PollInterval is how often the assignments are polled while the event
	// subscription is down (default 2s).
	PollInterval time.Duration
	// ResyncInterval is how often they are polled while it is up, as a
	// safety net (default 30s).
	ResyncInterval time.Duration
	// HeartbeatTimeout: no new block header over the subscription for this
	// long means it dropped (default 15s).
	HeartbeatTimeout time.Duration
	// StatePath is the state file (see Store).
	StatePath string
	// GasPrices prices the gas of each report transaction.
	GasPrices sdk.DecCoins
	// GasAdjustment multiplies the simulated gas (default 1.5).
	GasAdjustment float64
	// LostAfterBlocks: a broadcast tx not in a block after this many blocks
	// was dropped, and its reports are sent again (default 10).
	LostAfterBlocks int64
	// Log receives one line per request and the daemon's notices.
	Log io.Writer
	// Metrics, when set, is updated as requests move.
	Metrics *Metrics
	// Rating is how the worker rates the requesters (the zero value rates:
	// 5 after a completion, 3 after a failure).
	Rating RatingPolicy
	// Fetch configures the downloads of payloads held at payload_uri
	// (http, https, file), done before the executor runs.
	Fetch FetchConfig
	// Results, when set, keeps the result bytes of every completed request
	// the executor produced bytes for (see ResultStore); the result server
	// serves them from there. The daemon prunes it on a timer.
	Results *ResultStore
	// WorkDir is where each request gets a private directory for its
	// fetched payload and result file (default: the result store's tmp/, so
	// results move in by rename, else "work" beside the state file).
	WorkDir string
}

// RatingPolicy is how the worker rates the requester of each request it
// processed, with MsgSubmitReview (1 worst .. 5 best; the chain takes one
// review per request, from the worker that finished it). The review goes out
// once the worker's own complete or fail report is in a block. After a
// failure report the chain may send the request back to the queue for
// another worker (it then is not this worker's to rate: no review is sent).
type RatingPolicy struct {
	// Disabled sends no reviews.
	Disabled bool
	// Completed is the rating after a completion (0 means 5).
	Completed uint32
	// Failed is the rating after a failure report (0 means 3).
	Failed uint32
}

// Rating bounds and defaults (x/reputation takes 1..5).
const (
	MinRating             = 1
	MaxRating             = 5
	DefaultRatingComplete = 5
	DefaultRatingFailed   = 3
)

// Validate checks the ratings (0 stands for the default).
func (p RatingPolicy) Validate() error {
	for _, r := range []struct {
		name string
		v    uint32
	}{{"completed", p.Completed}, {"failed", p.Failed}} {
		if r.v != 0 && (r.v < MinRating || r.v > MaxRating) {
			return fmt.Errorf("rating after a %s request: %d; rate %d (worst) to %d (best)", r.name, r.v, MinRating, MaxRating)
		}
	}
	return nil
}

// rating is the rating of a request the worker reported with outcome
// ("complete" or "fail").
func (p RatingPolicy) rating(outcome string) uint32 {
	if outcome == "fail" {
		if p.Failed == 0 {
			return DefaultRatingFailed
		}
		return p.Failed
	}
	if p.Completed == 0 {
		return DefaultRatingComplete
	}
	return p.Completed
}

func (c *Config) setDefaults() {
	if c.Executor == nil {
		c.Executor = BuiltinExecutor{}
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 100
	}
	if c.BatchWait <= 0 {
		c.BatchWait = 300 * time.Millisecond
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.ResyncInterval <= 0 {
		c.ResyncInterval = 30 * time.Second
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 15 * time.Second
	}
	if c.GasAdjustment <= 0 {
		c.GasAdjustment = 1.5
	}
	if c.LostAfterBlocks <= 0 {
		c.LostAfterBlocks = 10
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.WorkDir == "" {
		if c.Results != nil {
			c.WorkDir = c.Results.TmpDir()
		} else if c.StatePath != "" {
			c.WorkDir = filepath.Join(filepath.Dir(c.StatePath), "work")
		}
	}
}

// Worker is one worker daemon.
type Worker struct {
	cfg     Config
	addr    sdk.AccAddress
	addrStr string
	query   deferraltypes.QueryClient
	// reputation reads the worker's own profile (unresponsive mark).
	reputation reputationtypes.QueryClient
	repQ       reputationtypes.QueryClient
	store      *Store

	logMu sync.Mutex

	mu        sync.Mutex
	known     map[key]bool    // assignments executing, waiting to be reported or in a tx in flight
	reviewing map[uint64]bool // reviews waiting to be sent or in a tx in flight
	retries   map[uint64]int  // reviews whose tx failed as a whole, how often

	tasks      chan deferraltypes.Request
	reports    chan outcome // reports and reviews, for the signer
	wake       chan struct{}
	reviewWake chan struct{}

	subscribed atomic.Bool
	height     atomic.Int64

	tracker   *tracker
	signer    *signer
	processor *processor
}

// outcome is an executed request, ready to be reported, or (review set) the
// rating of the requester of a request the worker finished.
type outcome struct {
	req    deferraltypes.Request
	result []byte // sha256 of the result (complete)
	reason string // failure reason (fail)
	failed bool
	review bool   // a MsgSubmitReview of req's requester
	rating uint32 // the review's rating
}

func (o outcome) key() key { return key{o.req.Id, o.req.Attempts} }

// New checks the config and opens the state file.
func New(cfg Config) (*Worker, error) {
	cfg.setDefaults()
	cfg.ClientCtx = cfg.ClientCtx.WithBroadcastMode(flags.BroadcastSync)
	if cfg.ClientCtx.Keyring == nil {
		return nil, errors.New("worker: no keyring")
	}
	rec, err := cfg.ClientCtx.Keyring.Key(cfg.KeyName)
	if err != nil {
		return nil, fmt.Errorf("worker: key %q: %w", cfg.KeyName, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	if cfg.StatePath == "" {
		return nil, errors.New("worker: no state file")
	}
	if err := cfg.Rating.Validate(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	store, err := OpenStore(cfg.StatePath)
	if err != nil {
		return nil, fmt.Errorf("worker: state file: %w", err)
	}
	w := &Worker{
		cfg:        cfg,
		addr:       addr,
		addrStr:    addr.String(),
		query:      deferraltypes.NewQueryClient(cfg.ClientCtx),
		reputation: reputationtypes.NewQueryClient(cfg.ClientCtx),
		repQ:       reputationtypes.NewQueryClient(cfg.ClientCtx),
		store:      store,
		known:      map[key]bool{},
		reviewing:  map[uint64]bool{},
		retries:    map[uint64]int{},
		tasks:      make(chan deferraltypes.Request, 100_000),
		reports:    make(chan outcome, 100_000),
		wake:       make(chan struct{}, 1),
		reviewWake: make(chan struct{}, 1),
	}
	w.tracker = newTracker(w)
	w.signer = newSigner(w)
	if w.cfg.Fetch.WorkerAddress == "" {
		w.cfg.Fetch.WorkerAddress = w.addrStr
	}
	if w.cfg.Fetch.ChainID == "" {
		w.cfg.Fetch.ChainID = cfg.ClientCtx.ChainID
	}
	if w.cfg.Fetch.SealKey == nil {
		// Not fatal: only sealed payloads need it, and they are then
		// reported failed with this reason.
		if w.cfg.Fetch.SealKey, err = SealKey(rec); err != nil {
			w.logf("sealed payloads cannot be opened: %v", err)
		}
	}
	w.processor = &processor{
		fetcher:  NewPayloadFetcher(w.cfg.Fetch),
		executor: cfg.Executor,
		results:  cfg.Results,
		workDir:  cfg.WorkDir,
		logf:     w.logf,
	}
	return w, nil
}

// Address is the worker account.
func (w *Worker) Address() sdk.AccAddress { return w.addr }

// Logf writes one line to the daemon's log (the CLI's result server logs
// there too).
func (w *Worker) Logf(format string, args ...any) { w.logf(format, args...) }

// logf writes one log line.
func (w *Worker) logf(format string, args ...any) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	fmt.Fprintf(w.cfg.Log, "%s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), fmt.Sprintf(format, args...))
}

// Run runs the daemon until ctx is cancelled (SIGINT/SIGTERM in the CLI).
// Requests being executed when it stops are not reported; they are picked
// up again by the next run (they are still assigned, the state file does not
// list them).
func (w *Worker) Run(ctx context.Context) error {
	defer w.store.Close()
	rating := "off"
	if !w.cfg.Rating.Disabled {
		rating = fmt.Sprintf("%d after a completion, %d after a failure", w.cfg.Rating.rating("complete"), w.cfg.Rating.rating("fail"))
	}
	kept := "not kept"
	if w.cfg.Results != nil {
		n, size := w.cfg.Results.Usage()
		kept = fmt.Sprintf("kept in %s (%d, %d bytes)", w.cfg.Results.Dir(), n, size)
	}
	w.logf("worker %s starting: state %s, %d executor(s), up to %d reports per tx, rating requesters: %s, results %s",
		w.addrStr, w.cfg.StatePath, w.cfg.Concurrency, w.cfg.MaxBatch, rating, kept)

	// Reports and reviews of a previous run whose outcome is unknown: wait
	// for their txs.
	w.refreshHeight(ctx)
	for _, r := range w.store.Sending() {
		w.mu.Lock()
		w.known[r.key()] = true
		w.mu.Unlock()
		w.tracker.adopt(r, w.height.Load())
	}
	if n := len(w.store.Sending()); n > 0 {
		w.logf("%d report(s) of the previous run were in flight: checking their transactions", n)
	}
	for _, r := range w.store.Reviews(stateSending) {
		w.mu.Lock()
		w.reviewing[r.ID] = true
		w.mu.Unlock()
		w.tracker.adopt(r, w.height.Load())
	}

	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	for range w.cfg.Concurrency {
		run(w.executeLoop)
	}
	run(w.signer.loop)
	run(w.tracker.loop)
	run(w.subscribeLoop)
	run(w.pollLoop)
	if !w.cfg.Rating.Disabled {
		run(w.reviewLoop)
	}
	if w.cfg.Results != nil {
		run(w.pruneResultsLoop)
	}
	<-ctx.Done()
	wg.Wait()
	w.logf("worker %s stopped", w.addrStr)
	return nil
}

// resultPruneInterval is how often the result store drops expired results
// while no new result comes in to prune it.
const resultPruneInterval = 10 * time.Minute

func (w *Worker) pruneResultsLoop(ctx context.Context) {
	t := time.NewTicker(resultPruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.cfg.Results.Prune(); err != nil {
				w.logf("result store: %v", err)
			}
		}
	}
}

// poke asks the poll loop for a full poll now.
func (w *Worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// dispatch starts a request when it is an assignment of this worker not yet
// handled in this run nor reported in an earlier one.
func (w *Worker) dispatch(ctx context.Context, req deferraltypes.Request) {
	if !req.HeldBy(w.addrStr) { // its worker, or one of its running replicas
		return
	}
	k := key{req.Id, req.Attempts}
	w.mu.Lock()
	if w.handledLocked(k) {
		w.mu.Unlock()
		return
	}
	w.known[k] = true
	w.mu.Unlock()
	w.cfg.Metrics.assigned()
	select {
	case w.tasks <- req:
	case <-ctx.Done():
	}
}

// handledLocked tells whether assignment k (a request and an attempt: a
// request re-queued and assigned again is a new assignment) is in hand in
// this run or was reported, refused or lost in an earlier one. w.mu is held.
func (w *Worker) handledLocked(k key) bool {
	if w.known[k] {
		return true
	}
	r, ok := w.store.Get(k)
	return ok && r.State != stateDropped
}

// handled is handledLocked without w.mu held.
func (w *Worker) handled(k key) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.handledLocked(k)
}

// forget lets an assignment be dispatched again (its report never reached a block).
func (w *Worker) forget(k key) {
	w.mu.Lock()
	delete(w.known, k)
	w.mu.Unlock()
}

// done ends an assignment's in-flight time (it stays known: never again in this run).
func (w *Worker) done() { w.cfg.Metrics.finished() }

func (w *Worker) executeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-w.tasks:
			o, ok := w.processor.process(ctx, req)
			if !ok {
				return
			}
			select {
			case w.reports <- o:
			case <-ctx.Done():
				return
			}
		}
	}
}

// refreshHeight reads the latest height from the node.
func (w *Worker) refreshHeight(ctx context.Context) {
	if w.cfg.ClientCtx.Client == nil {
		return
	}
	st, err := w.cfg.ClientCtx.Client.Status(ctx)
	if err == nil {
		w.setHeight(st.SyncInfo.LatestBlockHeight)
	}
}

func (w *Worker) setHeight(h int64) {
	for {
		old := w.height.Load()
		if h <= old || w.height.CompareAndSwap(old, h) {
			return
		}
	}
}

// pollLoop polls the worker's assignments: often while the event
// subscription is down, rarely while it is up, and at once when poked.
func (w *Worker) pollLoop(ctx context.Context) {
	w.pollOnce(ctx) // assignments made while the daemon was down
	for {
		interval := w.cfg.PollInterval
		if w.subscribed.Load() {
			interval = w.cfg.ResyncInterval
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
			t.Stop()
		case <-t.C:
		}
		w.pollOnce(ctx)
	}
}

// pollOnce pages through the requests-by-worker query and dispatches the
// ASSIGNED ones.
func (w *Worker) pollOnce(ctx context.Context) {
	w.refreshHeight(ctx)
	w.resumeIfUnresponsive(ctx)
	var next []byte
	for {
		res, err := w.query.RequestsByWorker(ctx, &deferraltypes.QueryRequestsByWorkerRequest{
			Worker:     w.addrStr,
			Pagination: &query.PageRequest{Key: next, Limit: 200},
		})
		if err != nil {
			if ctx.Err() == nil {
				w.logf("poll: requests-by-worker: %v", err)
			}
			return
		}
		for _, r := range res.Requests {
			w.dispatch(ctx, r)
		}
		if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
			return
		}
		next = res.Pagination.NextKey
	}
}

// fetchAndDispatch reads one request and dispatches it.
func (w *Worker) fetchAndDispatch(ctx context.Context, id uint64) {
	res, err := w.query.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
	if err != nil {
		if ctx.Err() == nil {
			w.logf("request %d: query: %v (the next poll retries)", id, err)
			w.poke()
		}
		return
	}
	w.dispatch(ctx, res.Request)
}

// describe is the log text of an outcome.
func describe(o outcome) string {
	if o.review {
		if o.req.Requester == "" {
			return fmt.Sprintf("rating %d", o.rating)
		}
		return fmt.Sprintf("rating %d of requester %s", o.rating, o.req.Requester)
	}
	if o.failed {
		return fmt.Sprintf("failed (%s)", o.reason)
	}
	return "completed result=" + hex.EncodeToString(o.result)
}

// shortErr keeps the first line of an error.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return truncate(s, 300)
}
