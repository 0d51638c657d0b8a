package app_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferralkeeper "github.com/repshard/repshard/x/deferral/keeper"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The counts docs/reputation.md ("Thresholds") documents for the default
// params of x/reputation, x/shard and x/deferral: after how many completed
// requests (one at a time, no failure, moderate frequency) a requester's
// next submission is routed as preferred (score ≥
// preferred_reputation_threshold_ppm: the least-loaded shard and
// preferred_discount_ppm off the fee) and deferred for its reputation
// (score > defer_reputation_threshold_ppm).
const (
	// no proof of work, stake or review: preferred after 16, never deferred
	cleanPreferredAfter = 16
	// a proof of exactly 16 bits (credit 0.5) on every submission
	pow16PreferredAfter = 7
	pow16DeferredAfter  = 13
	// every completed request rated 5 by its worker, of bond 10 REP (the
	// minimum) and neutral standing 0.5: review weight 0.05
	reviews10PreferredAfter = 10
	reviews10DeferredAfter  = 21
	// … by a worker of bond 100 REP (the full-weight reference): weight 0.5
	reviews100PreferredAfter = 5
	reviews100DeferredAfter  = 9
	// 1 000 REP delegated (stake_reference_amount: full validation credit)
	stakedPreferredAfter = 2
	stakedDeferredAfter  = 5

	// thresholdCycles is the number of request cycles driven; each cycle is
	// cycleBlocks blocks long: one request per 8 blocks keeps the request
	// rate at most 12.5 per rate window, below the free 20 (frequency 1).
	thresholdCycles = 32
	cycleBlocks     = 8
)

// never marks a count that is never reached within thresholdCycles.
const never = -1

// thresholdRequester is one requester of TestReputationThresholdsAtDefaults
// and what it does in each cycle.
type thresholdRequester struct {
	name           string
	acc            apptest.Account
	class          shardtypes.ShardClass
	pow16          bool // a proof of exactly 16 bits on every submission
	reviewed       bool // its worker rates every completed request 5
	halfFailed     bool // every second request fails (two workers report it)
	staked         bool // delegates stake_reference_amount before its first request
	preferredAfter int  // documented; never: not within the cycles
	deferredAfter  int
	scores         []uint32 // read before the submission of each cycle
	preferred      []bool   // the submission's fee quote
	deferred       []bool   // deferred for its reputation
	outcomes       [2]int   // completed, failed
	ids            []uint64
}

// thresholdChain is the whole app at its default genesis params, driven by
// signed transactions.
type thresholdChain struct {
	*apptest.Chain
	t       *testing.T
	workers map[string]apptest.Account
}

func (c *thresholdChain) ok(txs ...[]byte) []*abci.ExecTxResult {
	c.t.Helper()
	res := c.NextBlock(c.t, txs...)
	for i, r := range res {
		require.Zero(c.t, r.Code, "block %d tx %d: %s", c.App.LastBlockHeight(), i, r.Log)
	}
	return res
}

func (c *thresholdChain) register(accs []apptest.Account, class shardtypes.ShardClass, capacity uint64, bond sdkmath.Int) {
	c.t.Helper()
	var txs [][]byte
	for _, a := range accs {
		c.workers[a.Address.String()] = a
		txs = append(txs, c.SignTx(c.t, a, &shardtypes.MsgRegisterWorker{
			Worker: a.Address.String(), Classes: []shardtypes.ShardClass{class},
			CapacityUnits: capacity, StorageBytes: 1 << 30, Bond: sdk.NewCoin(chaincfg.BondDenom, bond),
		}))
	}
	c.ok(txs...)
}

// delegate bonds stake_reference_amount (full validation credit) from a to
// the validator.
func (c *thresholdChain) delegate(a apptest.Account) {
	c.t.Helper()
	p, err := c.App.ReputationKeeper.GetParams(c.Committed())
	require.NoError(c.t, err)
	c.ok(c.SignTx(c.t, a, &stakingtypes.MsgDelegate{
		DelegatorAddress: a.Address.String(), ValidatorAddress: sdk.ValAddress(c.ValSet.Validators[0].Address).String(),
		Amount: sdk.NewCoin(chaincfg.BondDenom, p.StakeReferenceAmount),
	}))
}

func (c *thresholdChain) request(id uint64) deferraltypes.Request {
	c.t.Helper()
	r, err := c.App.DeferralKeeper.GetRequest(c.Committed(), id)
	require.NoError(c.t, err)
	return r
}

// thresholdPayload is the payload of every request of these tests.
var thresholdPayload = []byte("job")

// submitMsg builds the next submission of r (with its proof of work).
func (c *thresholdChain) submitMsg(r *thresholdRequester) *deferraltypes.MsgSubmitRequest {
	c.t.Helper()
	msg := &deferraltypes.MsgSubmitRequest{
		Requester: r.acc.Address.String(), Class: r.class, Urgency: deferraltypes.UrgencyNormal,
		ComputeUnits: 1, Payload: thresholdPayload, MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000_000),
	}
	if r.pow16 {
		n, err := c.App.ReputationKeeper.NextPowSubmission(c.Committed(), r.acc.Address)
		require.NoError(c.t, err)
		msg.PowNonce = nonceWithExactBits(r.acc.Address, n, 16)
	}
	return msg
}

// nonceWithExactBits returns the first 8-byte counter nonce that proves
// exactly bits leading zero bits for the requester's submission number n
// (exactly, so that the credit, (bits − 8)/16, is the same in every run).
func nonceWithExactBits(requester sdk.AccAddress, n uint64, bits uint32) []byte {
	payloadHash := sha256.Sum256(thresholdPayload)
	for i := uint64(0); ; i++ {
		nonce := binary.BigEndian.AppendUint64(nil, i)
		if reputationtypes.LeadingZeroBits(reputationtypes.PowDigest(requester, payloadHash[:], n, nonce)) == bits {
			return nonce
		}
	}
}

// read returns r's score and whether its next request of its class would
// be routed as preferred, checking that x/shard's Route, x/deferral's
// Query/Quote and the discount agree with the threshold, and that its
// frequency factor is 1 (the request rate is moderate).
func (c *thresholdChain) read(r *thresholdRequester) (uint32, bool) {
	c.t.Helper()
	ctx := c.Committed()
	score, err := c.App.ReputationKeeper.Score(ctx, r.acc.Address)
	require.NoError(c.t, err)
	p, found, err := c.App.ReputationKeeper.GetProfile(ctx, r.acc.Address)
	require.NoError(c.t, err)
	if found {
		require.Equal(c.t, uint32(1_000_000), p.FrequencyPpm, "%s: a moderate request rate costs nothing", r.name)
	}
	shardParams, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(c.t, err)
	params, err := c.App.DeferralKeeper.GetParams(ctx)
	require.NoError(c.t, err)
	routed, err := c.App.ShardKeeper.Route(ctx, r.class, score, 1)
	require.NoError(c.t, err)
	preferred := score >= shardParams.PreferredReputationThresholdPpm
	require.Equal(c.t, preferred, routed.Preferred, "%s: Route at score %d", r.name, score)

	resp, err := deferralkeeper.NewQueryServerImpl(c.App.DeferralKeeper).Quote(ctx, &deferraltypes.QueryQuoteRequest{
		Requester: r.acc.Address.String(), Class: r.class, ComputeUnits: 1, Urgency: deferraltypes.UrgencyNormal,
	})
	require.NoError(c.t, err)
	requireQuote(c.t, params, resp.Quote, score, preferred, r.name)
	return score, preferred
}

// requireQuote checks a fee quote: the reputation it was priced at, and the
// preferred discount exactly when preferred.
func requireQuote(t *testing.T, params deferraltypes.Params, q deferraltypes.FeeQuote, score uint32, preferred bool, name string) {
	t.Helper()
	require.Equal(t, score, q.ReputationPpm, "%s: quoted at its score", name)
	require.Equal(t, preferred, q.Preferred, "%s: preferred at score %d", name, score)
	require.True(t, q.Gross.Amount.IsPositive())
	if preferred {
		require.Equal(t, params.PreferredDiscountPpm, q.DiscountPpm)
		require.Equal(t, q.Gross.Amount.MulRaw(int64(params.PreferredDiscountPpm)).QuoRaw(1_000_000), q.Discount.Amount)
		require.True(t, q.Discount.Amount.IsPositive(), "%s: a discount", name)
	} else {
		require.Zero(t, q.DiscountPpm)
		require.True(t, q.Discount.Amount.IsZero(), "%s: no discount", name)
	}
	require.Equal(t, q.Gross.Amount.Sub(q.Discount.Amount), q.Fee.Amount)
}

// TestReputationThresholdsAtDefaults drives requesters through signed
// transactions at the default params of every module and checks the counts
// docs/reputation.md documents: a clean record of completions reaches
// preferred routing (Route, Query/Quote, the submission's fee quote and its
// discount) after exactly cleanPreferredAfter completions — not one earlier
// — and is never deferred for its reputation; a record with half its
// requests failed is never preferred; completions with proof of work or
// good reviews take a requester above the deferral threshold after the
// documented counts, and it is then deferred with DEFER_REASON_REPUTATION,
// served in the same block's EndBlock, routed as preferred and queued ahead
// of the lower reputations. It logs the table of scores the doc shows.
func TestReputationThresholdsAtDefaults(t *testing.T) {
	// 0: the genesis delegator (its 1 REP of stake would count); 1..5 and 12
	// requesters; 6..9 low-priority workers (10 REP); 10..11 compute workers (100 REP).
	c := &thresholdChain{Chain: apptest.New(t, 13, nil), t: t, workers: map[string]apptest.Account{}}
	acc := c.Accounts
	c.register(acc[6:10], shardtypes.ClassLowPriority, 4, sdkmath.NewInt(10_000_000))
	c.register(acc[10:12], shardtypes.ClassComputeIntensive, 2, sdkmath.NewInt(100_000_000))

	low, compute := shardtypes.ClassLowPriority, shardtypes.ClassComputeIntensive
	rs := []*thresholdRequester{
		{name: "clean", acc: acc[1], class: low, preferredAfter: cleanPreferredAfter, deferredAfter: never},
		{name: "half failed", acc: acc[2], class: low, halfFailed: true, preferredAfter: never, deferredAfter: never},
		{name: "pow16", acc: acc[3], class: low, pow16: true, preferredAfter: pow16PreferredAfter, deferredAfter: pow16DeferredAfter},
		{name: "reviews 10 REP", acc: acc[4], class: low, reviewed: true, preferredAfter: reviews10PreferredAfter, deferredAfter: reviews10DeferredAfter},
		{name: "reviews 100 REP", acc: acc[5], class: compute, reviewed: true, preferredAfter: reviews100PreferredAfter, deferredAfter: reviews100DeferredAfter},
		{name: "staked 1000 REP", acc: acc[12], class: low, staked: true, preferredAfter: stakedPreferredAfter, deferredAfter: stakedDeferredAfter},
	}
	for _, r := range rs {
		if r.staked {
			c.delegate(r.acc)
		}
	}

	ctx := c.Committed()
	shardParams, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	params, err := c.App.DeferralKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, shardtypes.DefaultParams(), shardParams, "the default params")
	require.Equal(t, deferraltypes.DefaultParams(), params, "the default params")
	repParams, err := c.App.ReputationKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, reputationtypes.DefaultParams(), repParams, "the default params")
	prefT, deferT := shardParams.PreferredReputationThresholdPpm, params.DeferReputationThresholdPpm
	require.Less(t, prefT, deferT, "a requester deferred for its reputation is always routed as preferred")

	for cycle := 0; cycle < thresholdCycles; cycle++ {
		start := c.App.LastBlockHeight()
		// Read, then submit: one request of each requester.
		var txs [][]byte
		for _, r := range rs {
			score, preferred := c.read(r)
			r.scores, r.preferred = append(r.scores, score), append(r.preferred, preferred)
			txs = append(txs, c.SignTx(t, r.acc, c.submitMsg(r)))
		}
		res := c.ok(txs...)
		for i, r := range rs {
			var resp deferraltypes.MsgSubmitRequestResponse
			c.MsgResponse(t, res[i], &resp)
			score := r.scores[cycle]
			requireQuote(t, params, resp.FeeQuote, score, r.preferred[cycle], r.name)
			deferred := score > deferT
			r.deferred = append(r.deferred, deferred)
			if deferred {
				// Acknowledged at once, queued for its reputation…
				require.Equal(t, deferraltypes.StatusQueued, resp.Status, "%s, cycle %d", r.name, cycle)
				require.True(t, resp.Deferred)
				require.Equal(t, deferraltypes.DeferReputation, resp.DeferReason, "%s, cycle %d", r.name, cycle)
				require.NotZero(t, resp.RequestId)
				require.Empty(t, resp.Worker)
			} else {
				require.Equal(t, deferraltypes.StatusAssigned, resp.Status, "%s, cycle %d: %s", r.name, cycle, resp.DeferReason)
				require.False(t, resp.Deferred)
			}
			// … and served by the same block's EndBlock when a worker has room.
			req := c.request(resp.RequestId)
			require.Equal(t, deferraltypes.StatusAssigned, req.Status, "%s, cycle %d", r.name, cycle)
			require.Equal(t, deferred, req.Deferred)
			require.Equal(t, deferraltypes.Priority(params, score, deferraltypes.UrgencyNormal), req.PriorityPpm)
			require.NotEqual(t, r.acc.Address.String(), req.Worker)
			r.ids = append(r.ids, resp.RequestId)
		}
		// The reputation term of the priority puts a requester deferred for
		// its reputation ahead of every one below the threshold (same urgency).
		for _, r := range rs {
			if !r.deferred[cycle] {
				continue
			}
			for _, o := range rs {
				if !o.deferred[cycle] {
					require.Greater(t, c.request(r.ids[cycle]).PriorityPpm, c.request(o.ids[cycle]).PriorityPpm, "%s ahead of %s", r.name, o.name)
				}
			}
		}

		// Outcomes: a completion, or a failure report (every second request
		// of the half-failed requester; a second worker confirms it next block).
		txs = nil
		var failing *thresholdRequester
		for _, r := range rs {
			id := r.ids[cycle]
			worker := c.workers[c.request(id).Worker]
			if r.halfFailed && cycle%2 == 1 {
				failing = r
				txs = append(txs, c.SignTx(t, worker, &deferraltypes.MsgFailRequest{Worker: worker.Address.String(), RequestId: id, Reason: "bad input"}))
				continue
			}
			txs = append(txs, c.SignTx(t, worker, &deferraltypes.MsgCompleteRequest{
				Worker: worker.Address.String(), RequestId: id, ResultHash: make([]byte, 32),
			}))
		}
		c.ok(txs...)

		// Reviews of the completed requests; the second failure report.
		txs = nil
		for _, r := range rs {
			id := r.ids[cycle]
			req := c.request(id)
			if r == failing {
				require.Equal(t, deferraltypes.StatusAssigned, req.Status, "re-queued and drained to another worker")
				worker := c.workers[req.Worker]
				txs = append(txs, c.SignTx(t, worker, &deferraltypes.MsgFailRequest{Worker: worker.Address.String(), RequestId: id, Reason: "bad input"}))
				continue
			}
			require.Equal(t, deferraltypes.StatusCompleted, req.Status)
			r.outcomes[0]++
			if r.reviewed {
				worker := c.workers[req.Worker]
				txs = append(txs, c.SignTx(t, worker, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: id, Rating: 5}))
			}
		}
		c.ok(txs...)
		if failing != nil {
			require.Equal(t, deferraltypes.StatusFailed, c.request(failing.ids[cycle]).Status)
			failing.outcomes[1]++
		}
		for c.App.LastBlockHeight() < start+cycleBlocks {
			c.ok()
		}
	}

	for _, r := range rs {
		p, found, err := c.App.ReputationKeeper.GetProfile(c.Committed(), r.acc.Address)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, uint64(r.outcomes[0]), p.Completed, r.name)
		require.Equal(t, uint64(r.outcomes[1]), p.Failed, r.name)
		require.Zero(t, p.Expired, r.name)
		if r.staked {
			require.Equal(t, uint32(1_000_000), p.StakeCreditPpm, r.name)
		} else {
			require.Zero(t, p.StakeCreditPpm, r.name)
		}

		// The documented counts: below before, at or above from then on.
		require.Equal(t, r.preferredAfter, firstTrue(r.preferred), "%s: preferred after %d completions", r.name, r.preferredAfter)
		require.Equal(t, r.deferredAfter, firstTrue(r.deferred), "%s: deferred for its reputation after %d completions", r.name, r.deferredAfter)
		for n, s := range r.scores {
			require.Equal(t, s >= prefT, r.preferred[n])
			require.Equal(t, s > deferT, r.deferred[n])
			if r.deferred[n] {
				require.True(t, r.preferred[n], "%s: deferred implies preferred", r.name)
			}
			if n == 0 {
				require.Equal(t, repParams.DefaultScorePpm, s, "%s: a fresh requester starts at the default", r.name)
				continue
			}
			if r.halfFailed {
				require.Less(t, s, prefT, "%s: never preferred", r.name)
				continue
			}
			require.Greater(t, s, r.scores[n-1], "%s: every completion raises the score", r.name)
		}
		if r.preferredAfter > 0 {
			require.Less(t, r.scores[r.preferredAfter-1], prefT)
			require.GreaterOrEqual(t, r.scores[r.preferredAfter], prefT)
		}
	}
	clean := rs[0]
	require.Equal(t, cleanPreferredAfter, firstTrue(clean.preferred))
	require.Less(t, clean.scores[thresholdCycles-1], deferT, "completions alone stay below the deferral threshold")

	// The table of docs/reputation.md.
	var b strings.Builder
	b.WriteString("\n| completions | completion | score: clean | 16-bit proofs | reviews 10 REP | reviews 100 REP | 1 000 REP staked | half failed (outcomes) |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	cell := func(r *thresholdRequester, n int) string {
		mark := ""
		switch {
		case r.deferred[n]:
			mark = " **D**"
		case r.preferred[n]:
			mark = " **P**"
		}
		return fmt.Sprintf("%d%s", r.scores[n], mark)
	}
	for n := 0; n < thresholdCycles; n++ {
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %s | %s | %s |\n", n, reputationtypes.CompletionPpm(repParams, uint64(n), 0, 0),
			cell(rs[0], n), cell(rs[2], n), cell(rs[3], n), cell(rs[4], n), cell(rs[5], n), cell(rs[1], n))
	}
	t.Log(b.String())
}

// TestPreferredNeedsCompletions: without a completed request a requester is
// never routed as preferred, however many requests it submits, even with the
// largest validation credit (1 000 REP of stake, full credit) or a proof of
// work on every submission. No worker is registered: nothing completes.
func TestPreferredNeedsCompletions(t *testing.T) {
	c := &thresholdChain{Chain: apptest.New(t, 4, nil), t: t, workers: map[string]apptest.Account{}}
	low := shardtypes.ClassLowPriority
	rs := []*thresholdRequester{
		{name: "submits only", acc: c.Accounts[1], class: low},
		{name: "1000 REP staked", acc: c.Accounts[2], class: low, staked: true},
		{name: "pow16", acc: c.Accounts[3], class: low, pow16: true},
	}
	c.delegate(rs[1].acc) // full validation credit
	shardParams, err := c.App.ShardKeeper.GetParams(c.Committed())
	require.NoError(t, err)
	for cycle := 0; cycle < thresholdCycles; cycle++ {
		start := c.App.LastBlockHeight()
		var txs [][]byte
		for _, r := range rs {
			score, preferred := c.read(r)
			require.False(t, preferred, "%s, %d submissions without a completion: score %d", r.name, cycle, score)
			require.Less(t, score, shardParams.PreferredReputationThresholdPpm)
			r.scores = append(r.scores, score)
			txs = append(txs, c.SignTx(t, r.acc, c.submitMsg(r)))
		}
		for _, res := range c.ok(txs...) {
			var resp deferraltypes.MsgSubmitRequestResponse
			c.MsgResponse(t, res, &resp)
			require.False(t, resp.FeeQuote.Preferred)
			require.NotEqual(t, deferraltypes.DeferReputation, resp.DeferReason)
		}
		for c.App.LastBlockHeight() < start+cycleBlocks {
			c.ok()
		}
	}
	p, _, err := c.App.ReputationKeeper.GetProfile(c.Committed(), rs[1].acc.Address)
	require.NoError(t, err)
	require.Equal(t, uint32(1_000_000), p.ValidationPpm, "full validation credit")
	require.Zero(t, p.Completed)
	t.Logf("after %d submissions without a completion: %s %d, %s %d, %s %d", thresholdCycles,
		rs[0].name, rs[0].scores[thresholdCycles-1], rs[1].name, rs[1].scores[thresholdCycles-1], rs[2].name, rs[2].scores[thresholdCycles-1])
}

// firstTrue is the index of the first true value, or never.
func firstTrue(v []bool) int {
	for i, b := range v {
		if b {
			return i
		}
	}
	return never
}
