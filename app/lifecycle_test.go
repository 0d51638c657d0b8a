package app_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// lifecycleParams make every branch of the deferral decision reachable in a
// short run: trusted requesters pass the reputation threshold after a few
// completions, tight worker capacity pushes shard load over its threshold.
func lifecycleParams() deferraltypes.Params {
	p := deferraltypes.DefaultParams()
	p.DeferReputationThresholdPpm = 560_000
	p.DeferLoadThresholdPpm = 700_000
	p.DeferNetworkThresholdPpm = 950_000
	p.MaxWaitBlocks = 20
	p.QueueTtlBlocks = 300
	p.AssignmentTimeoutBlocks = 5
	p.MaxAttempts = 2
	// One report ends a request FAILED: the failing requester's reputation
	// must fall in this run (each class has one reporting worker, so a
	// second report could never come). Failure attribution has its own
	// tests (x/deferral/keeper/failure_attribution_test.go).
	p.FailureConfirmations = 1
	p.RetentionBlocks = 10_000
	return p
}

type workerSpec struct {
	class    shardtypes.ShardClass
	capacity uint64
	silent   bool // never reports: its assignments expire
}

// 3 requesters send 200 requests of mixed classes and urgencies, one per
// block, through real signed transactions; 5 workers (one of them silent)
// complete or fail what they are assigned. After every block the chain's
// invariants hold; the test checks the deferral decision of every request
// against the submission decision of docs/architecture.md, the drain order within each shard, the
// maximum wait, expiry with re-queue and refund, the money of every
// requester to the micro-unit, and reputation.
func TestRequestLifecycleThroughTheApp(t *testing.T) {
	params := lifecycleParams()
	c := apptest.New(t, 8, func(g app.GenesisState) {
		g[deferraltypes.ModuleName] = mustJSON(t, &deferraltypes.GenesisState{Params: params, NextRequestId: 1})
	})
	requesters, workerAccs := c.Accounts[:3], c.Accounts[3:8]
	specs := []workerSpec{
		{shardtypes.ClassHighPriority, 6, false},
		{shardtypes.ClassLowPriority, 6, false},
		{shardtypes.ClassDataIntensive, 6, false},
		{shardtypes.ClassComputeIntensive, 6, false},
		{shardtypes.ClassComputeIntensive, 4, true},
	}
	shardParams, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	var regs [][]byte
	for i, s := range specs {
		regs = append(regs, c.SignTx(t, workerAccs[i], &shardtypes.MsgRegisterWorker{
			Worker: workerAccs[i].Address.String(), Classes: []shardtypes.ShardClass{s.class},
			CapacityUnits: s.capacity, StorageBytes: 1 << 30, Bond: shardParams.MinWorkerBond,
		}))
	}
	for i, res := range c.NextBlock(t, regs...) {
		require.Zero(t, res.Code, "register worker %d: %s", i, res.Log)
	}
	silent := workerAccs[4].Address.String()

	initial := map[string]sdkmath.Int{}
	for _, r := range requesters {
		initial[r.Address.String()] = c.App.BankKeeper.GetBalance(c.Context(), r.Address, chaincfg.BondDenom).Amount
	}
	txCount := map[string]int64{}
	txFee := sdkmath.NewInt(apptest.DefaultTxGas / 100)

	rng := rand.New(rand.NewSource(7))
	classes := []shardtypes.ShardClass{shardtypes.ClassHighPriority, shardtypes.ClassLowPriority,
		shardtypes.ClassDataIntensive, shardtypes.ClassComputeIntensive}
	urgencies := []deferraltypes.Urgency{deferraltypes.UrgencyLow, deferraltypes.UrgencyNormal,
		deferraltypes.UrgencyHigh, deferraltypes.UrgencyCritical}
	reasonsSeen := map[deferraltypes.DeferReason]int{}
	sawRequeue, sawAssignmentExpiry := false, false
	drainAssignments := 0

	const nRequests = 200
	for block := 1; ; block++ {
		ctx := c.Context()
		var txs [][]byte
		var expected *deferraltypes.MsgSubmitRequestResponse
		if block <= nRequests {
			r := requesters[block%len(requesters)]
			msg := &deferraltypes.MsgSubmitRequest{
				Requester: r.Address.String(), Class: classes[rng.Intn(len(classes))],
				Urgency: urgencies[rng.Intn(len(urgencies))], ComputeUnits: uint64(1 + rng.Intn(4)),
				Payload: []byte(fmt.Sprintf("request %d", block)), MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000_000),
			}
			expected = expectedDecision(t, c, ctx, params, msg)
			txs = append(txs, c.SignTx(t, r, msg))
			txCount[r.Address.String()]++
		}
		txs = append(txs, workerReports(t, c, ctx, workerAccs, silent, block)...)

		results := c.NextBlock(t, txs...)
		for i, res := range results {
			require.Zero(t, res.Code, "block %d tx %d: %s", block, i, res.Log)
		}
		if expected != nil {
			var got deferraltypes.MsgSubmitRequestResponse
			c.MsgResponse(t, results[0], &got)
			require.Equal(t, expected.Status, got.Status, "block %d: status of request %d", block, got.RequestId)
			require.Equal(t, expected.DeferReason, got.DeferReason, "block %d: defer reason of request %d", block, got.RequestId)
			require.Equal(t, expected.Deferred, got.Deferred)
			require.Equal(t, expected.ShardId, got.ShardId)
			require.Equal(t, expected.Worker, got.Worker)
			reasonsSeen[got.DeferReason]++
		}
		require.NoError(t, c.App.CheckInvariants(c.Context()), "invariants after block %d", block)

		drained := typedEvents[*deferraltypes.EventRequestAssigned](t, c.BlockEvents)
		drainAssignments += len(drained)
		checkDrainOrder(t, c, block, drained)
		for _, txRes := range results {
			for _, a := range typedEvents[*deferraltypes.EventRequestAssigned](t, txRes.Events) {
				drained = append(drained, a)
			}
		}
		for _, a := range drained {
			if a.Attempt == 1 {
				require.LessOrEqual(t, a.WaitedBlocks, int64(params.MaxWaitBlocks),
					"request %d waited %d blocks for its first worker", a.RequestId, a.WaitedBlocks)
			}
		}
		for _, d := range typedEvents[*deferraltypes.EventRequestDeferred](t, c.BlockEvents) {
			sawRequeue = sawRequeue || d.Requeued
		}
		sawAssignmentExpiry = sawAssignmentExpiry ||
			len(typedEvents[*deferraltypes.EventAssignmentExpired](t, c.BlockEvents)) > 0

		if block >= nRequests && openRequests(t, c) == 0 {
			break
		}
		require.Less(t, block, nRequests+400, "requests still open long after the last submission")
	}

	// Every branch of isDeferralCandidate was taken.
	for _, reason := range []deferraltypes.DeferReason{deferraltypes.DeferNone, deferraltypes.DeferReputation,
		deferraltypes.DeferShardLoad, deferraltypes.DeferNoCapacity} {
		require.Positive(t, reasonsSeen[reason], "no request took the %s branch (seen %v)", reason, reasonsSeen)
	}
	require.Greater(t, drainAssignments, 50, "the EndBlock drain assigned too few requests to test its order")
	require.True(t, sawAssignmentExpiry, "the silent worker's assignments never expired")
	require.True(t, sawRequeue, "no expired assignment was re-queued")

	// Every request is final. The silent worker's expired assignments went
	// back to the queue with the silent worker excluded, and the other
	// compute worker finished them; a request that runs out of attempts
	// expires and is refunded.
	ctx := c.Context()
	byStatus := map[deferraltypes.RequestStatus]int{}
	rescued := 0
	spent := map[string]sdkmath.Int{}
	for _, r := range requesters {
		spent[r.Address.String()] = sdkmath.ZeroInt()
	}
	require.NoError(t, c.App.DeferralKeeper.Requests.Walk(ctx, nil, func(id uint64, r deferraltypes.Request) (bool, error) {
		byStatus[r.Status]++
		if len(r.ExcludedWorkers) > 0 {
			require.Equal(t, []string{silent}, r.ExcludedWorkers, "request %d: only the silent worker lets assignments expire", id)
			require.NotEqual(t, silent, r.Worker, "request %d went back to the worker that let it expire", id)
			if r.Status == deferraltypes.StatusCompleted || r.Status == deferraltypes.StatusFailed {
				rescued++
			}
		}
		switch r.Status {
		case deferraltypes.StatusCompleted:
			spent[r.Requester] = spent[r.Requester].Add(r.Fee.Amount)
		case deferraltypes.StatusFailed:
			refund := r.Fee.Amount.MulRaw(int64(params.FailureRefundPpm)).QuoRaw(1_000_000)
			spent[r.Requester] = spent[r.Requester].Add(r.Fee.Amount.Sub(refund))
		case deferraltypes.StatusExpired:
			require.Equal(t, params.MaxAttempts, r.Attempts, "request %d expired after %d attempts", id, r.Attempts)
		default:
			t.Errorf("request %d is still %s", id, r.Status)
		}
		return false, nil
	}))
	require.Equal(t, nRequests, byStatus[deferraltypes.StatusCompleted]+byStatus[deferraltypes.StatusFailed]+
		byStatus[deferraltypes.StatusExpired], "statuses %v", byStatus)
	require.Positive(t, rescued, "no request of the silent worker was finished by another worker")
	require.Positive(t, byStatus[deferraltypes.StatusFailed])
	for _, r := range requesters {
		addr := r.Address.String()
		want := initial[addr].Sub(spent[addr]).Sub(txFee.MulRaw(txCount[addr]))
		got := c.App.BankKeeper.GetBalance(ctx, r.Address, chaincfg.BondDenom).Amount
		require.Equal(t, want.String(), got.String(), "balance of requester %s", addr)
	}

	// Reputation: requesters whose requests complete rise above the default,
	// the one whose requests all fail falls below it.
	rp, err := c.App.ReputationKeeper.GetParams(ctx)
	require.NoError(t, err)
	for i, r := range requesters {
		score, err := c.App.ReputationKeeper.Score(ctx, r.Address)
		require.NoError(t, err)
		if i == failingRequester {
			require.Less(t, score, rp.DefaultScorePpm, "failing requester's score")
		} else {
			require.Greater(t, score, rp.DefaultScorePpm, "requester %d's score", i)
		}
	}

	// The silent worker was slashed for its expired assignments.
	w, err := c.App.ShardKeeper.Workers.Get(ctx, workerAccs[4].Address)
	require.NoError(t, err)
	require.True(t, w.Bond.Amount.LT(shardParams.MinWorkerBond.Amount), "silent worker's bond %s was not slashed", w.Bond)
	require.Positive(t, w.Expired)
}

// failingRequester is the requester whose requests the workers report failed.
const failingRequester = 2

// expectedDecision applies the submission decision (docs/architecture.md) to
// the state before the block, independently of the msg server.
func expectedDecision(t *testing.T, c *apptest.Chain, ctx sdk.Context, params deferraltypes.Params, msg *deferraltypes.MsgSubmitRequest) *deferraltypes.MsgSubmitRequestResponse {
	t.Helper()
	requester := sdk.MustAccAddressFromBech32(msg.Requester)
	rep, err := c.App.ReputationKeeper.Score(ctx, requester)
	require.NoError(t, err)
	id, err := c.App.DeferralKeeper.RequestSeq.Peek(ctx)
	require.NoError(t, err)
	routed, err := c.App.ShardKeeper.Route(ctx, msg.Class, rep, id)
	shard := routed.Shard
	require.NoError(t, err)
	network, err := c.App.ShardKeeper.NetworkLoadPpm(ctx)
	require.NoError(t, err)
	out := &deferraltypes.MsgSubmitRequestResponse{ShardId: shard.Id, Status: deferraltypes.StatusQueued, Deferred: true}
	switch {
	case rep > params.DeferReputationThresholdPpm:
		out.DeferReason = deferraltypes.DeferReputation
	case shard.LoadPpm > params.DeferLoadThresholdPpm:
		out.DeferReason = deferraltypes.DeferShardLoad
	case network > params.DeferNetworkThresholdPpm:
		out.DeferReason = deferraltypes.DeferNetworkLoad
	default:
		worker, found, err := c.App.ShardKeeper.FindWorker(ctx, shard.Id, msg.ComputeUnits, 0, []sdk.AccAddress{sdk.MustAccAddressFromBech32(msg.Requester)})
		require.NoError(t, err)
		if found {
			out.Status, out.Deferred, out.Worker = deferraltypes.StatusAssigned, false, worker.String()
		} else {
			out.DeferReason = deferraltypes.DeferNoCapacity
		}
	}
	return out
}

// workerReports has every worker but the silent one report its assignments
// 1–4 blocks after they were made: completed, or failed for the failing
// requester's requests.
func workerReports(t *testing.T, c *apptest.Chain, ctx sdk.Context, workers []apptest.Account, silent string, block int) [][]byte {
	t.Helper()
	failing := c.Accounts[failingRequester].Address.String()
	var txs [][]byte
	for _, w := range workers {
		if w.Address.String() == silent {
			continue
		}
		var msgs []sdk.Msg
		rng := collections.NewPrefixedPairRange[sdk.AccAddress, uint64](w.Address)
		require.NoError(t, c.App.DeferralKeeper.ByWorker.Walk(ctx, rng, func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
			r, err := c.App.DeferralKeeper.Requests.Get(ctx, key.K2())
			if err != nil || r.Status != deferraltypes.StatusAssigned || r.Worker != w.Address.String() {
				return false, err
			}
			if ctx.BlockHeight()+1 < r.AssignedHeight+1+int64(r.Id%4) {
				return false, nil
			}
			if r.Requester == failing {
				msgs = append(msgs, &deferraltypes.MsgFailRequest{Worker: r.Worker, RequestId: r.Id, Reason: "input rejected"})
			} else {
				result := make([]byte, 32)
				result[0] = byte(r.Id)
				msgs = append(msgs, &deferraltypes.MsgCompleteRequest{Worker: r.Worker, RequestId: r.Id, ResultHash: result})
			}
			return false, nil
		}))
		if len(msgs) > 0 {
			txs = append(txs, c.SignTx(t, w, msgs...))
		}
	}
	return txs
}

// checkDrainOrder: within a shard higher priority (earlier due height) drains
// first. A request the drain assigned may only have overtaken a still-queued
// request of the same shard with an earlier due height if that request needs
// more units (it fit no worker when its turn came).
func checkDrainOrder(t *testing.T, c *apptest.Chain, block int, assigned []*deferraltypes.EventRequestAssigned) {
	t.Helper()
	ctx := c.Context()
	for _, a := range assigned {
		x, err := c.App.DeferralKeeper.Requests.Get(ctx, a.RequestId)
		require.NoError(t, err)
		rng := collections.NewPrefixedTripleRange[uint64, uint64, uint64](a.ShardId)
		require.NoError(t, c.App.DeferralKeeper.Queue.Walk(ctx, rng, func(key collections.Triple[uint64, uint64, uint64]) (bool, error) {
			if int64(key.K2()) >= x.DueHeight {
				return true, nil
			}
			y, err := c.App.DeferralKeeper.Requests.Get(ctx, key.K3())
			if err != nil {
				return true, err
			}
			if y.Requester == a.Worker || slices.Contains(y.ExcludedWorkers, a.Worker) {
				return false, nil // y may never go to x's worker
			}
			require.Greater(t, y.ComputeUnits, x.ComputeUnits,
				"block %d: request %d (due %d) was drained before request %d (due %d) of shard %d that fits as well",
				block, x.Id, x.DueHeight, y.Id, y.DueHeight, a.ShardId)
			return false, nil
		}))
	}
}

func openRequests(t *testing.T, c *apptest.Chain) int {
	t.Helper()
	n := 0
	ctx := c.Context()
	count := func(collections.Pair[uint64, uint64]) (bool, error) { n++; return false, nil }
	require.NoError(t, c.App.DeferralKeeper.QueueExpiries.Walk(ctx, nil, count)) // one per QUEUED request
	require.NoError(t, c.App.DeferralKeeper.Deadlines.Walk(ctx, nil, count))     // one per ASSIGNED request
	return n
}

// typedEvents decodes the events of type T.
func typedEvents[T interface {
	ProtoMessage()
	Reset()
	String() string
}](t *testing.T, events []abci.Event) []T {
	t.Helper()
	var out []T
	for _, e := range events {
		// FinalizeBlock tags block events with a "mode" attribute (BeginBlock,
		// EndBlock) that is not a field of the typed event.
		attrs := e.Attributes[:0:0]
		for _, a := range e.Attributes {
			if a.Key != "mode" {
				attrs = append(attrs, a)
			}
		}
		e.Attributes = attrs
		msg, err := sdk.ParseTypedEvent(e)
		if err != nil {
			continue // not a typed event
		}
		if v, ok := msg.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
