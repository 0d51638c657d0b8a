package app_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// repChain drives the whole app for the reputation tests: requests are
// assigned at once (no threshold defers them unless a test sets one).
type repChain struct {
	*apptest.Chain
	t *testing.T
}

func newRepChain(t *testing.T, n int, deferral func(*deferraltypes.Params)) *repChain {
	t.Helper()
	p := deferraltypes.DefaultParams()
	p.DeferReputationThresholdPpm = 1_000_000 // a score is never above it
	p.DeferLoadThresholdPpm = 1_000_000
	p.DeferNetworkThresholdPpm = 1_000_000
	if deferral != nil {
		deferral(&p)
	}
	return &repChain{Chain: apptest.New(t, n, apptest.WithDeferralParams(t, p)), t: t}
}

// deliver runs msgs, one signed tx each, in one block and returns the results.
func (c *repChain) deliver(from []apptest.Account, msgs ...sdk.Msg) []*abci.ExecTxResult {
	c.t.Helper()
	txs := make([][]byte, len(msgs))
	for i, m := range msgs {
		txs[i] = c.SignTx(c.t, from[i%len(from)], m)
	}
	return c.NextBlock(c.t, txs...)
}

func (c *repChain) ok(res []*abci.ExecTxResult) {
	c.t.Helper()
	for i, r := range res {
		require.Zero(c.t, r.Code, "tx %d: %s", i, r.Log)
	}
}

func requireCode(t *testing.T, want *errorsmod.Error, res *abci.ExecTxResult) {
	t.Helper()
	require.Equal(t, want.Codespace(), res.Codespace, res.Log)
	require.Equal(t, want.ABCICode(), res.Code, res.Log)
}

// registerWorkers registers each account as a worker of the low-priority
// class with capacity 1 and the given bond.
func (c *repChain) registerWorkers(accs []apptest.Account, bond sdkmath.Int) {
	c.t.Helper()
	msgs := make([]sdk.Msg, len(accs))
	for i, a := range accs {
		msgs[i] = &shardtypes.MsgRegisterWorker{
			Worker: a.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassLowPriority},
			CapacityUnits: 1, StorageBytes: 1 << 30, Bond: sdk.NewCoin(chaincfg.BondDenom, bond),
		}
	}
	c.ok(c.deliver(accs, msgs...))
}

func repSubmitMsg(r apptest.Account, nonce []byte) *deferraltypes.MsgSubmitRequest {
	return &deferraltypes.MsgSubmitRequest{
		Requester: r.Address.String(), Class: shardtypes.ClassLowPriority, Urgency: deferraltypes.UrgencyNormal,
		ComputeUnits: 1, Payload: []byte("job"), MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000_000), PowNonce: nonce,
	}
}

// submit sends n requests of r in one block and returns their responses.
func (c *repChain) submit(r apptest.Account, n int) []deferraltypes.MsgSubmitRequestResponse {
	c.t.Helper()
	msgs := make([]sdk.Msg, n)
	for i := range msgs {
		msgs[i] = repSubmitMsg(r, nil)
	}
	res := c.deliver([]apptest.Account{r}, msgs...)
	out := make([]deferraltypes.MsgSubmitRequestResponse, n)
	for i := range res {
		c.MsgResponse(c.t, res[i], &out[i])
	}
	return out
}

// complete has each request's assigned worker complete it.
func (c *repChain) complete(byWorker map[string]apptest.Account, resps []deferraltypes.MsgSubmitRequestResponse) {
	c.t.Helper()
	var txs [][]byte
	for _, r := range resps {
		require.Equal(c.t, deferraltypes.StatusAssigned, r.Status)
		txs = append(txs, c.SignTx(c.t, byWorker[r.Worker], &deferraltypes.MsgCompleteRequest{
			Worker: r.Worker, RequestId: r.RequestId, ResultHash: make([]byte, 32),
		}))
	}
	c.ok(c.NextBlock(c.t, txs...))
}

func (c *repChain) score(addr sdk.AccAddress) uint32 {
	c.t.Helper()
	s, err := c.App.ReputationKeeper.Score(c.Context(), addr)
	require.NoError(c.t, err)
	return s
}

func (c *repChain) profile(addr sdk.AccAddress) reputationtypes.Profile {
	c.t.Helper()
	p, found, err := c.App.ReputationKeeper.GetProfile(c.Context(), addr)
	require.NoError(c.t, err)
	require.True(c.t, found)
	return p
}

func (c *repChain) reputationStore() []apptest.KV {
	return apptest.DumpStore(c.Committed(), c.App.GetKey(reputationtypes.StoreKey))
}

func byAddress(accs []apptest.Account) map[string]apptest.Account {
	m := map[string]apptest.Account{}
	for _, a := range accs {
		m[a.Address.String()] = a
	}
	return m
}

// Every refused review — invalid rating, unknown request, unfinished request,
// not the worker that processed it, self-review, second review — is a typed
// error that changes no reputation state.
func TestReviewRulesThroughTheApp(t *testing.T) {
	c := newRepChain(t, 4, nil)
	requester, worker, other, selfish := c.Accounts[1], c.Accounts[2], c.Accounts[3], c.Accounts[0]
	bond := sdkmath.NewInt(10_000_000)
	c.registerWorkers([]apptest.Account{worker}, bond)

	done := c.submit(requester, 1)[0]
	require.Equal(t, worker.Address.String(), done.Worker)
	c.complete(byAddress(c.Accounts), []deferraltypes.MsgSubmitRequestResponse{done})
	open := c.submit(requester, 1)[0] // assigned, not finished (worker capacity is taken again)
	require.Equal(t, deferraltypes.StatusAssigned, open.Status)

	before := c.reputationStore()
	for _, tc := range []struct {
		name string
		from apptest.Account
		msg  *reputationtypes.MsgSubmitReview
		want *errorsmod.Error
	}{
		{"rating 0", worker, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: done.RequestId, Rating: 0}, reputationtypes.ErrInvalidRating},
		{"rating 6", worker, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: done.RequestId, Rating: 6}, reputationtypes.ErrInvalidRating},
		{"unknown request", worker, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: 999, Rating: 3}, reputationtypes.ErrRequestNotFound},
		{"unfinished request", worker, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: open.RequestId, Rating: 3}, reputationtypes.ErrRequestNotFinished},
		{"non-party", other, &reputationtypes.MsgSubmitReview{Reviewer: other.Address.String(), RequestId: done.RequestId, Rating: 1}, reputationtypes.ErrNotParty},
		{"the requester", requester, &reputationtypes.MsgSubmitReview{Reviewer: requester.Address.String(), RequestId: done.RequestId, Rating: 5}, reputationtypes.ErrNotParty},
	} {
		res := c.deliver([]apptest.Account{tc.from}, tc.msg)[0]
		requireCode(t, tc.want, res)
		require.Equal(t, before, c.reputationStore(), "%s: no state change", tc.name)
	}

	// The worker's review counts once.
	res := c.deliver([]apptest.Account{worker}, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: done.RequestId, Rating: 5})[0]
	var resp reputationtypes.MsgSubmitReviewResponse
	c.MsgResponse(t, res, &resp)
	require.Equal(t, requester.Address.String(), resp.Subject)
	// bond 10 REP of the 100 REP reference × the worker's default standing 0.5
	require.Equal(t, uint32(50_000), resp.WeightPpm)
	events := apptest.TypedEvents[*reputationtypes.EventReviewSubmitted](t, res.Events)
	require.Len(t, events, 1)
	require.Equal(t, uint32(5), events[0].Rating)
	p := c.profile(requester.Address)
	require.Equal(t, uint64(1), p.ReviewsReceived)
	// (50_000·1e6 + 500_000·2e6) / (50_000 + 2e6) = 512_195
	require.Equal(t, uint32(512_195), p.PeerPpm)
	require.Equal(t, resp.Score, p.Score)

	after := c.reputationStore()
	res = c.deliver([]apptest.Account{worker}, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: done.RequestId, Rating: 1})[0]
	requireCode(t, reputationtypes.ErrDuplicateReview, res)
	require.Equal(t, after, c.reputationStore(), "duplicate: no state change")

	// Self-review cannot happen: a requester that is also a worker is never
	// assigned its own request (the other worker is busy with the open
	// request, the selfish worker has room, and still the request waits), so
	// it never becomes the party that may review itself.
	c.registerWorkers([]apptest.Account{selfish}, bond)
	own := c.submit(selfish, 1)[0]
	require.Equal(t, deferraltypes.StatusQueued, own.Status)
	require.Empty(t, own.Worker)
	snap := c.reputationStore()
	res = c.deliver([]apptest.Account{selfish}, &reputationtypes.MsgSubmitReview{Reviewer: selfish.Address.String(), RequestId: own.RequestId, Rating: 5})[0]
	requireCode(t, reputationtypes.ErrRequestNotFinished, res)
	require.Equal(t, snap, c.reputationStore(), "self-review: no state change")
}

// Sybil resistance. 100 fresh accounts that processed none of the victim's
// requests cannot move its score at all. 10 colluding workers with one
// processed request each move it by at most the bound of docs/reputation.md:
//
//	|Δscore| ≤ w_peer/Σw · k·W/(k·W + P) · max(N, 1e6 − N) + 1
//
// with k reviews of weight at most W = 1e6, prior weight P and neutral N.
func TestSybilReviewsThroughTheApp(t *testing.T) {
	const fresh, colluders = 100, 10
	c := newRepChain(t, 2+fresh+colluders, nil)
	victim := c.Accounts[1]
	sybils := c.Accounts[2 : 2+fresh]
	workers := c.Accounts[2+fresh:]
	c.registerWorkers(workers, sdkmath.NewInt(100_000_000)) // the full-weight bond

	resps := c.submit(victim, colluders)
	seen := map[string]bool{}
	for _, r := range resps {
		seen[r.Worker] = true
	}
	require.Len(t, seen, colluders, "each colluder processed exactly one request")
	c.complete(byAddress(workers), resps)

	victimBefore := c.score(victim.Address)
	storeBefore := c.reputationStore()

	// 100 fresh accounts review every finished request of the victim.
	var msgs []sdk.Msg
	var from []apptest.Account
	for i, s := range sybils {
		msgs = append(msgs, &reputationtypes.MsgSubmitReview{Reviewer: s.Address.String(), RequestId: resps[i%colluders].RequestId, Rating: 1})
		from = append(from, s)
	}
	txs := make([][]byte, len(msgs))
	for i := range msgs {
		txs[i] = c.SignTx(t, from[i], msgs[i])
	}
	for _, res := range c.NextBlock(t, txs...) {
		requireCode(t, reputationtypes.ErrNotParty, res)
	}
	require.Equal(t, victimBefore, c.score(victim.Address), "fresh accounts cannot change the score")
	require.Equal(t, storeBefore, c.reputationStore(), "nor any reputation state")

	// The colluders each rate their one request 1.
	txs = nil
	for _, r := range resps {
		txs = append(txs, c.SignTx(t, byAddress(workers)[r.Worker], &reputationtypes.MsgSubmitReview{Reviewer: r.Worker, RequestId: r.RequestId, Rating: 1}))
	}
	c.ok(c.NextBlock(t, txs...))
	after := c.score(victim.Address)
	params, err := c.App.ReputationKeeper.GetParams(c.Context())
	require.NoError(t, err)

	k := uint64(colluders)
	W, P, N := uint64(1_000_000), params.PeerPriorWeightPpm, uint64(params.PeerNeutralScorePpm)
	sumW := uint64(params.WeightCompletion + params.WeightFrequency + params.WeightValidation + params.WeightPeer)
	bound := uint64(params.WeightPeer)*(k*W*max(N, 1_000_000-N)/(k*W+P))/sumW + 1
	require.Equal(t, uint64(104_167), bound, "defaults: 4/16 · 10/12 · 500_000, +1 for rounding")
	moved := int64(victimBefore) - int64(after)
	require.Positive(t, moved, "the ratings of 1 lower the score")
	require.LessOrEqual(t, uint64(moved), bound)
	// Actual weight: full bond × the colluders' default standing 0.5 each:
	// peer = 500_000·2e6 / (10·500_000 + 2e6) = 142_857.
	p := c.profile(victim.Address)
	require.Equal(t, uint32(142_857), p.PeerPpm)
	require.Equal(t, uint64(colluders), p.ReviewsReceived)

	// Each review cost a paid, processed request: one per request, and a
	// colluder cannot review the request another processed.
	for _, r := range resps {
		req, err := c.App.DeferralKeeper.GetRequest(c.Context(), r.RequestId)
		require.NoError(t, err)
		require.Equal(t, deferraltypes.StatusCompleted, req.Status)
		require.True(t, req.Fee.IsPositive())
	}
	res := c.deliver([]apptest.Account{byAddress(workers)[resps[0].Worker]},
		&reputationtypes.MsgSubmitReview{Reviewer: resps[0].Worker, RequestId: resps[1].RequestId, Rating: 1})[0]
	requireCode(t, reputationtypes.ErrNotParty, res)
	res = c.deliver([]apptest.Account{byAddress(workers)[resps[0].Worker]},
		&reputationtypes.MsgSubmitReview{Reviewer: resps[0].Worker, RequestId: resps[0].RequestId, Rating: 1})[0]
	requireCode(t, reputationtypes.ErrDuplicateReview, res)
	require.Equal(t, after, c.score(victim.Address))
}

// passProposal submits msgs as a governance proposal from the delegator of
// the only validator (account 0), votes yes and lets the voting period end.
func (c *repChain) passProposal(msgs ...sdk.Msg) {
	c.t.Helper()
	ctx := c.Context()
	govParams, err := c.App.GovKeeper.Params.Get(ctx)
	require.NoError(c.t, err)
	anys := make([]*codectypes.Any, len(msgs))
	for i, m := range msgs {
		anys[i], err = codectypes.NewAnyWithValue(m)
		require.NoError(c.t, err)
	}
	proposer := c.Accounts[0]
	res := c.deliver([]apptest.Account{proposer}, &govv1.MsgSubmitProposal{
		Messages: anys, InitialDeposit: govParams.MinDeposit, Proposer: proposer.Address.String(),
		Title: "reputation weights", Summary: "change the reputation weights",
	})[0]
	var submitted govv1.MsgSubmitProposalResponse
	c.MsgResponse(c.t, res, &submitted)
	c.ok(c.deliver([]apptest.Account{proposer}, &govv1.MsgVote{
		ProposalId: submitted.ProposalId, Voter: proposer.Address.String(), Option: govv1.OptionYes,
	}))
	// An empty block after the voting period: gov's EndBlock tallies and executes.
	_, err = c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height: c.App.LastBlockHeight() + 1, NextValidatorsHash: c.ValSet.Hash(),
		Time: time.Unix(0, 0).Add(*govParams.VotingPeriod), // the earlier blocks carry the zero time (year 1)
	})
	require.NoError(c.t, err)
	_, err = c.App.Commit()
	require.NoError(c.t, err)
	prop, err := c.App.GovKeeper.Proposals.Get(c.Context(), submitted.ProposalId)
	require.NoError(c.t, err)
	require.Equal(c.t, govv1.StatusPassed, prop.Status, "proposal %d: %s", submitted.ProposalId, prop.FailedReason)
}

// A governance proposal changes the weights; an existing profile's score
// changes accordingly at once, no stored profile is rewritten (the score is
// computed at read time), and the deferral decision of the very next
// submission uses the new score.
func TestGovernanceWeightsAndTheNextDeferralDecision(t *testing.T) {
	c := newRepChain(t, 4, func(p *deferraltypes.Params) { p.DeferReputationThresholdPpm = 700_000 })
	requester, bystander, worker := c.Accounts[1], c.Accounts[2], c.Accounts[3]
	c.registerWorkers([]apptest.Account{worker}, sdkmath.NewInt(10_000_000))

	first := c.submit(requester, 1)[0]
	require.Equal(t, deferraltypes.StatusAssigned, first.Status, "score 500_000 is not above the 700_000 threshold")
	c.complete(byAddress(c.Accounts), []deferraltypes.MsgSubmitRequestResponse{first})
	c.submit(bystander, 1)
	p := c.profile(requester.Address)
	// completion 3/5 = 600_000, frequency 1e6, validation 0, peer 500_000:
	// (8·600_000 + 2·1e6 + 0 + 4·500_000)/16
	require.Equal(t, uint32(550_000), p.Score)
	storeBefore := c.reputationStore()

	params, err := c.App.ReputationKeeper.GetParams(c.Context())
	require.NoError(t, err)
	params.WeightCompletion, params.WeightFrequency, params.WeightValidation, params.WeightPeer = 1, 3, 0, 0
	c.passProposal(&reputationtypes.MsgUpdateParams{Authority: reputationtypes.GovAuthority(), Params: params})

	got, err := c.App.ReputationKeeper.GetParams(c.Context())
	require.NoError(t, err)
	require.Equal(t, params, got)
	// (1·600_000 + 3·1e6)/4
	require.Equal(t, uint32(900_000), c.score(requester.Address))
	require.Equal(t, uint32(900_000), c.profile(requester.Address).Score)
	// No profile was rewritten: only the params entry of the store changed.
	storeAfter := c.reputationStore()
	require.Equal(t, len(storeBefore), len(storeAfter))
	paramsKey := string(reputationtypes.ParamsKey.Bytes())
	changed := 0
	for i := range storeBefore {
		require.Equal(t, storeBefore[i].Key, storeAfter[i].Key)
		if string(storeBefore[i].Value) != string(storeAfter[i].Value) {
			changed++
			require.Equal(t, paramsKey, string(storeBefore[i].Key), "only the params change")
		}
	}
	require.Equal(t, 1, changed)

	// The very next submission sees the new score and is deferred for it.
	res := c.deliver([]apptest.Account{requester}, repSubmitMsg(requester, nil))[0]
	var next deferraltypes.MsgSubmitRequestResponse
	c.MsgResponse(t, res, &next)
	require.True(t, next.Deferred)
	require.Equal(t, deferraltypes.DeferReputation, next.DeferReason)
	ev := apptest.TypedEvents[*deferraltypes.EventRequestSubmitted](t, res.Events)
	require.Len(t, ev, 1)
	require.Equal(t, uint32(900_000), ev[0].ReputationPpm)
}

// A review changes the score the deferral decision of the next submission
// reads.
func TestReviewReachesTheNextDeferralDecision(t *testing.T) {
	c := newRepChain(t, 3, nil)
	requester, worker := c.Accounts[1], c.Accounts[2]
	c.registerWorkers([]apptest.Account{worker}, sdkmath.NewInt(100_000_000))
	r := c.submit(requester, 1)[0]
	c.complete(byAddress(c.Accounts), []deferraltypes.MsgSubmitRequestResponse{r})
	before := c.score(requester.Address)
	res := c.deliver([]apptest.Account{worker}, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: r.RequestId, Rating: 5})[0]
	var review reputationtypes.MsgSubmitReviewResponse
	c.MsgResponse(t, res, &review)
	require.Greater(t, review.Score, before)

	res = c.deliver([]apptest.Account{requester}, repSubmitMsg(requester, nil))[0]
	ev := apptest.TypedEvents[*deferraltypes.EventRequestSubmitted](t, res.Events)
	require.Len(t, ev, 1)
	require.Equal(t, review.Score, ev[0].ReputationPpm, "the submission right after the review reads the reviewed score")
}

// Proof of work and stake through signed txs: a nonce below the minimum
// difficulty fails the submission with a typed error and changes no repshard
// state; a valid nonce earns credit; bonded delegations earn stake credit.
func TestValidationFactorThroughTheApp(t *testing.T) {
	c := newRepChain(t, 3, nil)
	delegator, requester, worker := c.Accounts[0], c.Accounts[1], c.Accounts[2]
	c.registerWorkers([]apptest.Account{worker}, sdkmath.NewInt(10_000_000))
	payloadHash := sha256.Sum256([]byte("job"))
	// bitsAt is the work a nonce proves for the requester's submission number n.
	bitsAt := func(n uint64, nonce []byte) uint32 {
		return reputationtypes.LeadingZeroBits(reputationtypes.PowDigest(requester.Address, payloadHash[:], n, nonce))
	}
	// next is the number the requester's next submission will carry, as the
	// profile query shows it.
	next := func() uint64 {
		n, err := c.App.ReputationKeeper.NextPowSubmission(c.Committed(), requester.Address)
		require.NoError(t, err)
		return n
	}
	// find returns the first counter nonce with lo..hi bits for the next
	// submission that also proves less than the minimum for the one after
	// (so replaying it is refused).
	find := func(lo, hi uint32) ([]byte, uint32) {
		n := next()
		for i := uint64(0); ; i++ {
			nonce := binary.BigEndian.AppendUint64(nil, i)
			if b := bitsAt(n, nonce); b >= lo && b <= hi && bitsAt(n+1, nonce) < 8 {
				return nonce, b
			}
		}
	}

	weak, _ := find(0, 7)
	stores, balances := c.AfterEmptyBlock(t, requester.Address)
	res := c.deliver([]apptest.Account{requester}, repSubmitMsg(requester, weak))[0]
	requireCode(t, reputationtypes.ErrInsufficientWork, res)
	require.Contains(t, res.Log, "leading zero bits, the minimum is 8")
	require.Equal(t, stores, c.DumpRepshardStores(c.Committed()), "no repshard state changes")
	fee := sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, apptest.DefaultTxGas/100))
	require.Equal(t, balances[requester.Address.String()].Sub(fee...), c.Balances(c.Committed(), requester.Address)[requester.Address.String()],
		"only the tx fee is paid; no request fee is escrowed")

	good, bits := find(14, 18)
	res = c.deliver([]apptest.Account{requester}, repSubmitMsg(requester, good))[0]
	require.Zero(t, res.Code, res.Log)
	ev := apptest.TypedEvents[*reputationtypes.EventProofOfWork](t, res.Events)
	require.Len(t, ev, 1)
	require.Equal(t, bits, ev[0].Bits)
	p := c.profile(requester.Address)
	require.Equal(t, uint32((bits-8)*62_500/5), p.ValidationCreditPpm)
	require.Equal(t, p.ValidationCreditPpm, p.ValidationPpm)
	require.Equal(t, uint64(1), p.PowProofs)

	// Replayed with the same payload in the next submission, the same nonce
	// proves nothing: the digest binds the submission number, so the work
	// has to be done again. The submission is refused and no credit moves.
	stores, _ = c.AfterEmptyBlock(t, requester.Address)
	res = c.deliver([]apptest.Account{requester}, repSubmitMsg(requester, good))[0]
	requireCode(t, reputationtypes.ErrInsufficientWork, res)
	require.Contains(t, res.Log, fmt.Sprintf("submission %d", next()))
	require.Equal(t, stores, c.DumpRepshardStores(c.Committed()), "a replayed nonce changes no repshard state")
	require.Equal(t, uint64(1), c.profile(requester.Address).PowProofs, "pow_proofs does not move")
	// A nonce searched for this submission earns credit again.
	fresh, _ := find(12, 18)
	c.ok(c.deliver([]apptest.Account{requester}, repSubmitMsg(requester, fresh)))
	require.Equal(t, uint64(2), c.profile(requester.Address).PowProofs)

	// Stake: account 0 delegated the validator's genesis bond (1_000_000 urep):
	// 1_000_000 / 1_000_000_000 → 1_000 ppm; delegating 249_000_000 more
	// makes it 250_000 at the next submission.
	c.ok(c.deliver([]apptest.Account{delegator}, repSubmitMsg(delegator, nil)))
	require.Equal(t, uint32(1_000), c.profile(delegator.Address).StakeCreditPpm)
	valoper := sdk.ValAddress(c.ValSet.Validators[0].Address).String()
	c.ok(c.deliver([]apptest.Account{delegator}, &stakingtypes.MsgDelegate{
		DelegatorAddress: delegator.Address.String(), ValidatorAddress: valoper, Amount: sdk.NewInt64Coin(chaincfg.BondDenom, 249_000_000),
	}))
	c.ok(c.deliver([]apptest.Account{delegator}, repSubmitMsg(delegator, nil)))
	p = c.profile(delegator.Address)
	require.Equal(t, uint32(250_000), p.StakeCreditPpm)
	require.Equal(t, uint32(250_000), p.ValidationPpm, "the larger of proof of work (0) and stake")
}

// Profiles, reviews and the score index survive export and import byte for byte.
func TestReputationExportImportWithReviews(t *testing.T) {
	c := newRepChain(t, 3, nil)
	requester, worker := c.Accounts[1], c.Accounts[2]
	c.registerWorkers([]apptest.Account{worker}, sdkmath.NewInt(10_000_000))
	r := c.submit(requester, 1)[0]
	c.complete(byAddress(c.Accounts), []deferraltypes.MsgSubmitRequestResponse{r})
	c.ok(c.deliver([]apptest.Account{worker}, &reputationtypes.MsgSubmitReview{Reviewer: worker.Address.String(), RequestId: r.RequestId, Rating: 4}))

	exported, err := c.App.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var genesis map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &genesis))
	var gs reputationtypes.GenesisState
	require.NoError(t, c.App.AppCodec().UnmarshalJSON(genesis[reputationtypes.ModuleName], &gs))
	require.Len(t, gs.Reviews, 1)
	require.Equal(t, uint32(4), gs.Reviews[0].Rating)

	fresh := apptest.NewApp(t)
	ctxB := fresh.NewContextLegacy(true, cmtproto.Header{Height: c.App.LastBlockHeight()})
	_, err = fresh.ModuleManager.InitGenesis(ctxB, fresh.AppCodec(), genesis)
	require.NoError(t, err)
	a := kvPairs(t, c.Context().KVStore(c.App.GetKey(reputationtypes.StoreKey)))
	b := kvPairs(t, ctxB.KVStore(fresh.GetKey(reputationtypes.StoreKey)))
	require.Equal(t, a, b)
}
