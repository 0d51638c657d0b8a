package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	clitestutil "github.com/cosmos/cosmos-sdk/testutil/cli"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/repshard/repshard/cmd/repshardd/worker"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/testnetwork"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// failOnMarker completes like the built-in executor, and fails the
// requests whose payload holds "FAIL".
type failOnMarker struct{}

func (failOnMarker) Execute(ctx context.Context, job worker.Job) (worker.Result, error) {
	if bytes.Contains(job.Request.Payload, []byte("FAIL")) {
		return worker.Result{}, errors.New("payload marked FAIL")
	}
	return worker.BuiltinExecutor{}.Execute(ctx, job)
}

// syncBuffer is a log the test reads while the daemon writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The daemon against a real in-process validator: it learns its
// assignments (over the websocket, or by polling), completes them with the
// built-in executor's result or fails them, several reports per tx, and rates the
// requester of each (5 after a completion, 3 after a failure); stopped and
// restarted on the same state file, it picks up the requests assigned while
// it was down and never reports nor rates a request twice; with rating off
// it sends no review.
func TestWorkerDaemonOnInProcessNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	cfg, err := testnetwork.DefaultConfig(10 * time.Second)
	require.NoError(t, err)
	cfg.NumValidators = 1
	// One worker: a failure report must end the request FAILED (with the
	// default, a second worker has to confirm it; see the two-worker test).
	var dg deferraltypes.GenesisState
	require.NoError(t, cfg.Codec.UnmarshalJSON(cfg.GenesisState[deferraltypes.ModuleName], &dg))
	dg.Params.FailureConfirmations = 1
	cfg.GenesisState[deferraltypes.ModuleName] = cfg.Codec.MustMarshalJSON(&dg)
	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	val := net.Validators[0]
	_, err = net.WaitForHeightWithTimeout(2, 30*time.Second)
	require.NoError(t, err)

	// A worker account: key, funds, registration for high-priority.
	kr := val.ClientCtx.Keyring
	rec, _, err := kr.NewMnemonic("worker", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	workerAddr, err := rec.GetAddress()
	require.NoError(t, err)
	res, err := testnetwork.BroadcastAndWait(net, val, banktypes.NewMsgSend(val.Address, workerAddr,
		sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(100_000_000)))))
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)
	sp, err := shardtypes.NewQueryClient(val.ClientCtx).Params(context.Background(), &shardtypes.QueryParamsRequest{})
	require.NoError(t, err)
	res, err = signAndWait(net, val.ClientCtx, "worker", workerAddr, &shardtypes.MsgRegisterWorker{
		Worker: workerAddr.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 100, Bond: sp.Params.MinWorkerBond, StorageBytes: 1 << 30,
	})
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)

	var submit func(payloads ...string) []uint64
	submit = func(payloads ...string) []uint64 {
		if len(payloads) > 3 { // 400k gas holds 3 submissions
			return append(submit(payloads[:3]...), submit(payloads[3:]...)...)
		}
		msgs := make([]sdk.Msg, len(payloads))
		for i, p := range payloads {
			msgs[i] = &deferraltypes.MsgSubmitRequest{
				Requester: val.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyHigh,
				// The fee at the floor price (the shard stays below the 50%
				// target load, so its price never rises): 2 units × 1_000 × 1.5 (high).
				ComputeUnits: 2, Payload: []byte(p), MaxFee: sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(3_000)),
			}
		}
		res, err := testnetwork.BroadcastAndWait(net, val, msgs...)
		require.NoError(t, err)
		require.Zero(t, res.Code, res.RawLog)
		var data sdk.TxMsgData
		require.NoError(t, val.ClientCtx.Codec.Unmarshal(mustDecodeHex(t, res.Data), &data))
		var ids []uint64
		for _, any := range data.MsgResponses {
			var r deferraltypes.MsgSubmitRequestResponse
			require.NoError(t, r.Unmarshal(any.Value))
			ids = append(ids, r.RequestId)
		}
		return ids
	}
	q := deferraltypes.NewQueryClient(val.ClientCtx)
	waitFinished := func(ids []uint64) map[uint64]deferraltypes.Request {
		out := map[uint64]deferraltypes.Request{}
		require.Eventually(t, func() bool {
			for _, id := range ids {
				r, err := q.Request(context.Background(), &deferraltypes.QueryRequestRequest{RequestId: id})
				if err != nil || (r.Request.Status != deferraltypes.StatusCompleted && r.Request.Status != deferraltypes.StatusFailed) {
					return false
				}
				out[id] = r.Request
			}
			return true
		}, 60*time.Second, 250*time.Millisecond)
		return out
	}

	statePath := filepath.Join(t.TempDir(), "worker.jsonl")
	metrics := worker.NewMetrics()
	start := func(log *syncBuffer) (stop func()) {
		w, err := worker.New(worker.Config{
			ClientCtx:    val.ClientCtx,
			KeyName:      "worker",
			RPCAddress:   val.RPCAddress,
			Executor:     failOnMarker{},
			StatePath:    statePath,
			GasPrices:    sdk.NewDecCoins(sdk.NewDecCoinFromDec(chaincfg.BondDenom, sdkmath.LegacyMustNewDecFromStr("0.001"))),
			PollInterval: 500 * time.Millisecond,
			Log:          log,
			Metrics:      metrics,
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		return func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(15 * time.Second):
				t.Fatal("the daemon did not stop within 15 s")
			}
		}
	}

	// Run 1: a batch of requests, one of them failing.
	log1, log2 := &syncBuffer{}, &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log, run 1:\n%s\nrun 2:\n%s", log1, log2)
		}
	})
	stop := start(log1)
	require.Eventually(t, func() bool { return strings.Contains(log1.String(), "subscribed to assignments") }, 20*time.Second, 100*time.Millisecond)
	payloads := []string{"job a", "job b", "job c FAIL", "job d", "job e", "job f"}
	ids1 := submit(payloads...)
	got := waitFinished(ids1)
	for i, id := range ids1 {
		r := got[id]
		if strings.Contains(payloads[i], "FAIL") {
			require.Equal(t, deferraltypes.StatusFailed, r.Status)
			require.Equal(t, "payload marked FAIL", r.FailureReason)
			continue
		}
		require.Equal(t, deferraltypes.StatusCompleted, r.Status, "request %d", id)
		require.Equal(t, worker.BuiltinResult([]byte(payloads[i])).Hash, r.ResultHash)
		require.Equal(t, workerAddr.String(), r.Worker)
	}
	// The requester of each is rated by the worker, on chain: 5 after a
	// completion, 3 after the failure; the daemon saw each review in a block.
	rq := reputationtypes.NewQueryClient(val.ClientCtx)
	waitReviews := func(log *syncBuffer, ids []uint64, want map[uint64]uint32) {
		t.Helper()
		require.Eventually(t, func() bool {
			for _, id := range ids {
				re := regexp.MustCompile(fmt.Sprintf(`review of request %d: rating \d of requester \S+ sent in block `, id))
				if !re.MatchString(log.String()) {
					return false
				}
			}
			return true
		}, 30*time.Second, 200*time.Millisecond, "the daemon did not see its reviews in a block")
		for _, id := range ids {
			rv, err := rq.Review(context.Background(), &reputationtypes.QueryReviewRequest{RequestId: id})
			require.NoError(t, err, "request %d has no review", id)
			require.Equal(t, workerAddr.String(), rv.Review.Reviewer)
			require.Equal(t, val.Address.String(), rv.Review.Subject)
			require.Equal(t, want[id], rv.Review.Rating, "request %d", id)
		}
	}
	want := map[uint64]uint32{}
	for i, id := range ids1 {
		want[id] = 5
		if strings.Contains(payloads[i], "FAIL") {
			want[id] = 3
		}
	}
	waitReviews(log1, ids1, want)
	stop()
	for _, id := range ids1 {
		require.Contains(t, log1.String(), fmt.Sprintf("request %d attempt 1: ", id), "one log line per request")
	}

	// While the daemon is down: more requests are assigned to it.
	ids2 := submit("while down 1", "while down 2", "while down 3")
	for _, id := range ids2 {
		r, err := q.Request(context.Background(), &deferraltypes.QueryRequestRequest{RequestId: id})
		require.NoError(t, err)
		require.Contains(t, []deferraltypes.RequestStatus{deferraltypes.StatusAssigned, deferraltypes.StatusQueued}, r.Request.Status)
	}

	// Run 2 on the same state file picks them up and reports nothing twice.
	stop = start(log2)
	waitFinished(ids2)
	require.Eventually(t, func() bool {
		return strings.Count(log2.String(), " reported in block ") == len(ids2)
	}, 10*time.Second, 100*time.Millisecond)
	for _, id := range ids2 {
		want[id] = 5
	}
	waitReviews(log2, ids2, want)
	time.Sleep(2 * time.Second) // room for a wrong second report or review to show up
	stop()
	for _, id := range ids1 {
		require.NotContains(t, log2.String(), fmt.Sprintf("request %d attempt", id), "run 2 touched a request of run 1")
		require.NotContains(t, log2.String(), fmt.Sprintf("review of request %d:", id), "run 2 rated a request of run 1 again")
	}
	require.Zero(t, counterValue(t, metrics, "reviews_refused"))

	// Run 3 without the websocket (a dead RPC address for the subscription):
	// polling alone picks up the assignments. Rating is off: no review.
	ids3 := submit("polled 1", "polled 2")
	log3 := &syncBuffer{}
	noWS := func() func() {
		w, err := worker.New(worker.Config{
			ClientCtx: val.ClientCtx, KeyName: "worker", RPCAddress: "tcp://127.0.0.1:1", Executor: failOnMarker{},
			StatePath: statePath, PollInterval: 300 * time.Millisecond, Log: log3, Metrics: metrics,
			Rating:    worker.RatingPolicy{Disabled: true},
			GasPrices: sdk.NewDecCoins(sdk.NewDecCoinFromDec(chaincfg.BondDenom, sdkmath.LegacyMustNewDecFromStr("0.001"))),
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = w.Run(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	stop = noWS()
	waitFinished(ids3)
	require.Eventually(t, func() bool { // the daemon has seen its txs in a block
		return strings.Count(log3.String(), " reported in block ") == len(ids3)
	}, 10*time.Second, 100*time.Millisecond)
	time.Sleep(2 * time.Second) // room for a wrong review to show up
	stop()
	require.NotContains(t, log3.String(), "subscribed to assignments")
	require.NotContains(t, log3.String(), "review of request")
	for _, id := range ids3 {
		_, err := rq.Review(context.Background(), &reputationtypes.QueryReviewRequest{RequestId: id})
		require.Equal(t, codes.NotFound, status.Code(err), "request %d was rated with --rate-requesters=false", id)
	}
	ids2 = append(ids2, ids3...)

	// On chain: every report message of the worker names a different request,
	// and some tx carried several reports.
	seen := map[uint64]bool{}
	rated := map[uint64]bool{}
	maxPerTx := 0
	txs, err := txtypes.NewServiceClient(val.ClientCtx).GetTxsEvent(context.Background(), &txtypes.GetTxsEventRequest{
		Query: fmt.Sprintf("message.sender='%s'", workerAddr), Limit: 100,
	})
	require.NoError(t, err)
	for i, tx := range txs.Txs {
		require.Zero(t, txs.TxResponses[i].Code, txs.TxResponses[i].RawLog)
		reports := 0
		for _, anyMsg := range tx.Body.Messages {
			var msg sdk.Msg
			require.NoError(t, val.ClientCtx.InterfaceRegistry.UnpackAny(anyMsg, &msg))
			var id uint64
			switch m := msg.(type) {
			case *deferraltypes.MsgCompleteRequest:
				id = m.RequestId
			case *deferraltypes.MsgFailRequest:
				id = m.RequestId
			case *reputationtypes.MsgSubmitReview:
				require.False(t, rated[m.RequestId], "request %d rated twice", m.RequestId)
				rated[m.RequestId] = true
				continue
			default:
				continue
			}
			require.False(t, seen[id], "request %d reported twice", id)
			seen[id] = true
			reports++
		}
		maxPerTx = max(maxPerTx, reports)
	}
	require.Len(t, seen, len(ids1)+len(ids2))
	require.Greater(t, maxPerTx, 1, "no tx batched several reports")
	require.EqualValues(t, len(ids1)+len(ids2), counterValue(t, metrics, "completed")+counterValue(t, metrics, "failed"))
	require.Len(t, rated, len(want))
	require.EqualValues(t, len(want), counterValue(t, metrics, "reviews_sent"))
	require.Zero(t, counterValue(t, metrics, "reviews_refused"))
	require.Zero(t, counterValue(t, metrics, "lost"))
}

func counterValue(t *testing.T, m *worker.Metrics, which string) float64 {
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "repshard_worker_"+which+"_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", which)
	return 0
}

func mustDecodeHex(t *testing.T, s string) []byte {
	var out []byte
	_, err := fmt.Sscanf(s, "%X", &out)
	require.NoError(t, err)
	return out
}

// signAndWait signs msgs with the key name (an account other than the
// validator's) and waits for the block.
func signAndWait(net *network.Network, cctx client.Context, name string, addr sdk.AccAddress, msgs ...sdk.Msg) (sdk.TxResponse, error) {
	cctx = cctx.WithFromAddress(addr).WithFromName(name).WithBroadcastMode(flags.BroadcastSync)
	txf := clienttx.Factory{}.WithChainID(cctx.ChainID).WithKeybase(cctx.Keyring).WithTxConfig(cctx.TxConfig).
		WithAccountRetriever(cctx.AccountRetriever).WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
		WithGas(400_000).WithFees("1000" + chaincfg.BondDenom)
	txf, err := txf.Prepare(cctx)
	if err != nil {
		return sdk.TxResponse{}, err
	}
	b, err := txf.BuildUnsignedTx(msgs...)
	if err != nil {
		return sdk.TxResponse{}, err
	}
	if err := clienttx.Sign(context.Background(), txf, name, b, true); err != nil {
		return sdk.TxResponse{}, err
	}
	bz, err := cctx.TxConfig.TxEncoder()(b.GetTx())
	if err != nil {
		return sdk.TxResponse{}, err
	}
	res, err := cctx.BroadcastTx(bz)
	if err != nil || res.Code != 0 {
		if err == nil {
			return *res, nil
		}
		return sdk.TxResponse{}, err
	}
	return clitestutil.GetTxResponse(net, cctx, res.TxHash)
}

// slowOnMarker waits, for a payload holding "SLOW", until the chain is past
// the assignment's deadline (the assignment is lost by then), and otherwise
// works like failOnMarker.
type slowOnMarker struct{ val *network.Validator }

func (e slowOnMarker) Execute(ctx context.Context, job worker.Job) (worker.Result, error) {
	if req := job.Request; bytes.Contains(req.Payload, []byte("SLOW")) {
		for {
			st, err := e.val.RPCClient.Status(ctx)
			if err == nil && st.SyncInfo.LatestBlockHeight > req.DeadlineHeight+1 {
				break
			}
			select {
			case <-ctx.Done():
				return worker.Result{}, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return failOnMarker{}.Execute(ctx, job)
}

// Two workers and the chain's re-assignments (default params: a failure
// needs failure_confirmations = 2 reports from distinct workers):
//   - worker A lets a SLOW request's assignment pass its deadline; the chain
//     hands it to B (attempt 2), which completes it; A, reporting late,
//     finds the assignment lost, logs and drops it, and keeps running;
//   - A reports a FAIL request failed: the chain sends it back to the queue
//     and then to B (attempt 2), whose report ends it FAILED; only B, the
//     worker that finished it, rates its requester (3); A's review is skipped;
//   - B rates the requester of the request it completed (5).
func TestWorkerDaemonsReassignmentsAndRatings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	cfg, err := testnetwork.DefaultConfig(10 * time.Second)
	require.NoError(t, err)
	cfg.NumValidators = 1
	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	val := net.Validators[0]
	_, err = net.WaitForHeightWithTimeout(2, 30*time.Second)
	require.NoError(t, err)
	ctx := context.Background()
	q := deferraltypes.NewQueryClient(val.ClientCtx)
	rq := reputationtypes.NewQueryClient(val.ClientCtx)
	dp, err := q.Params(ctx, &deferraltypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.EqualValues(t, 2, dp.Params.FailureConfirmations, "the test relies on the default failure_confirmations")

	sp, err := shardtypes.NewQueryClient(val.ClientCtx).Params(ctx, &shardtypes.QueryParamsRequest{})
	require.NoError(t, err)
	kr := val.ClientCtx.Keyring
	newWorker := func(name string) sdk.AccAddress {
		rec, _, err := kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		require.NoError(t, err)
		addr, err := rec.GetAddress()
		require.NoError(t, err)
		res, err := testnetwork.BroadcastAndWait(net, val, banktypes.NewMsgSend(val.Address, addr,
			sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(100_000_000)))))
		require.NoError(t, err)
		require.Zero(t, res.Code, res.RawLog)
		return addr
	}
	register := func(name string, addr sdk.AccAddress) {
		res, err := signAndWait(net, val.ClientCtx, name, addr, &shardtypes.MsgRegisterWorker{
			Worker: addr.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 100, Bond: sp.Params.MinWorkerBond, StorageBytes: 1 << 30,
		})
		require.NoError(t, err)
		require.Zero(t, res.Code, res.RawLog)
	}
	submit := func(payload string) uint64 {
		res, err := testnetwork.BroadcastAndWait(net, val, &deferraltypes.MsgSubmitRequest{
			Requester: val.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyHigh,
			// The fee at the floor price (2 of 200 units held: below the 50%
			// target load, the price never rises): 2 units × 1_000 × 1.5 (high).
			ComputeUnits: 2, Payload: []byte(payload), MaxFee: sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(3_000)),
		})
		require.NoError(t, err)
		require.Zero(t, res.Code, res.RawLog)
		var data sdk.TxMsgData
		require.NoError(t, val.ClientCtx.Codec.Unmarshal(mustDecodeHex(t, res.Data), &data))
		var r deferraltypes.MsgSubmitRequestResponse
		require.NoError(t, r.Unmarshal(data.MsgResponses[0].Value))
		return r.RequestId
	}
	request := func(id uint64) deferraltypes.Request {
		r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
		require.NoError(t, err)
		return r.Request
	}
	gas := sdk.NewDecCoins(sdk.NewDecCoinFromDec(chaincfg.BondDenom, sdkmath.LegacyMustNewDecFromStr("0.001")))
	type daemon struct {
		log     *syncBuffer
		metrics *worker.Metrics
		stop    func()
	}
	start := func(name string, exec worker.Executor) *daemon {
		d := &daemon{log: &syncBuffer{}, metrics: worker.NewMetrics()}
		w, err := worker.New(worker.Config{
			ClientCtx: val.ClientCtx, KeyName: name, RPCAddress: val.RPCAddress, Executor: exec,
			StatePath: filepath.Join(t.TempDir(), name+".jsonl"), GasPrices: gas,
			PollInterval: 500 * time.Millisecond, Log: d.log, Metrics: d.metrics,
		})
		require.NoError(t, err)
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(runCtx) }()
		d.stop = func() {
			select {
			case err := <-done:
				t.Fatalf("daemon %s stopped on its own: %v", name, err)
			default:
			}
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(15 * time.Second):
				t.Fatalf("daemon %s did not stop within 15 s", name)
			}
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("daemon %s log:\n%s", name, d.log)
			}
		})
		return d
	}

	// Worker A alone: it gets both requests (attempt 1).
	addrA, addrB := newWorker("wa"), newWorker("wb")
	register("wa", addrA)
	a := start("wa", slowOnMarker{val: val})
	slow := submit("job SLOW")
	failing := submit("job FAIL")
	require.Eventually(t, func() bool { // at submission, or by the drain when deferred
		return request(slow).Worker == addrA.String()
	}, 30*time.Second, 200*time.Millisecond)

	// A's failure report sends the request back to the queue (one report of
	// two; its first and only assignment was A's).
	require.Eventually(t, func() bool {
		r := request(failing)
		return r.Status == deferraltypes.StatusQueued && len(r.FailureReports) == 1
	}, 30*time.Second, 200*time.Millisecond)
	require.Equal(t, addrA.String(), request(failing).FailureReports[0].Worker)
	require.EqualValues(t, 1, request(failing).Attempts)
	require.Eventually(t, func() bool {
		return strings.Contains(a.log.String(), fmt.Sprintf("review of request %d: not sent: ", failing))
	}, 10*time.Second, 100*time.Millisecond, "A did not skip the review of the request it does not finish")

	// Worker B joins: it gets the re-queued request, then the SLOW one once
	// A's assignment expires (attempt 2 each: a request A has never seen
	// under that attempt, and B has never seen at all).
	register("wb", addrB)
	b := start("wb", failOnMarker{})
	finishedBy := func(id uint64, st deferraltypes.RequestStatus) deferraltypes.Request {
		var r deferraltypes.Request
		require.Eventually(t, func() bool {
			r = request(id)
			return r.Status == st
		}, 60*time.Second, 250*time.Millisecond, "request %d is not %s", id, st)
		return r
	}
	rf := finishedBy(failing, deferraltypes.StatusFailed)
	require.Equal(t, addrB.String(), rf.Worker)
	require.EqualValues(t, 2, rf.Attempts)
	require.Len(t, rf.FailureReports, 2)
	rs := finishedBy(slow, deferraltypes.StatusCompleted)
	require.Equal(t, addrB.String(), rs.Worker)
	require.EqualValues(t, 2, rs.Attempts)
	require.Contains(t, rs.ExcludedWorkers, addrA.String())

	// A reports the SLOW request late: lost, dropped, logged; A runs on.
	require.Eventually(t, func() bool {
		return strings.Contains(a.log.String(), fmt.Sprintf("request %d attempt 1: lost the assignment", slow))
	}, 30*time.Second, 200*time.Millisecond)
	require.EqualValues(t, 1, counterValue(t, a.metrics, "lost"))
	require.Zero(t, counterValue(t, a.metrics, "completed"))

	// Reviews: B rated both requests' requester (it finished both); A none.
	for id, want := range map[uint64]uint32{failing: 3, slow: 5} {
		var rv *reputationtypes.QueryReviewResponse
		require.Eventually(t, func() bool {
			rv, err = rq.Review(ctx, &reputationtypes.QueryReviewRequest{RequestId: id})
			return err == nil
		}, 30*time.Second, 250*time.Millisecond, "request %d has no review", id)
		require.Equal(t, addrB.String(), rv.Review.Reviewer)
		require.Equal(t, want, rv.Review.Rating, "request %d", id)
	}
	require.Eventually(t, func() bool { return counterValue(t, b.metrics, "reviews_sent") == 2 }, 10*time.Second, 100*time.Millisecond)
	time.Sleep(time.Second)
	require.Zero(t, counterValue(t, a.metrics, "reviews_sent"))
	require.EqualValues(t, 1, counterValue(t, a.metrics, "reviews_skipped"))
	require.Zero(t, counterValue(t, a.metrics, "reviews_refused")+counterValue(t, b.metrics, "reviews_refused"))
	require.Zero(t, counterValue(t, b.metrics, "lost"))

	// A replicated request runs on both daemons; they hash the same payload
	// the same way, so the two replicas agree and the request completes.
	res, err := testnetwork.BroadcastAndWait(net, val, &deferraltypes.MsgSubmitRequest{
		Requester: val.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyHigh,
		ComputeUnits: 2, Payload: []byte("job REPLICATED"), Replicas: 2,
		// One share per replica and per tie-break replica, each 2 units × 1_000 × 1.5 (high).
		MaxFee: sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewInt(3_000*int64(2+dp.Params.MaxTiebreakReplicas))),
	})
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)
	var data sdk.TxMsgData
	require.NoError(t, val.ClientCtx.Codec.Unmarshal(mustDecodeHex(t, res.Data), &data))
	var sub deferraltypes.MsgSubmitRequestResponse
	require.NoError(t, sub.Unmarshal(data.MsgResponses[0].Value))
	rr := finishedBy(sub.RequestId, deferraltypes.StatusCompleted)
	require.Len(t, rr.ReplicaRuns, 2)
	for _, run := range rr.ReplicaRuns {
		require.Equal(t, deferraltypes.ReplicaReported, run.Status)
		require.Equal(t, rr.ResultHash, run.ResultHash, "both replicas reported the quorum's hash")
	}
	require.ElementsMatch(t, []string{addrA.String(), addrB.String()}, []string{rr.ReplicaRuns[0].Worker, rr.ReplicaRuns[1].Worker})
	a.stop()
	b.stop()
}
