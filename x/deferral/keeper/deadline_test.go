package keeper_test

import (
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
)

// Requester deadlines (MsgSubmitRequest.deadline_blocks): with no result
// accepted by submit height + deadline_blocks, the request ends EXPIRED,
// counted against nobody, wherever it is, with the whole fee refunded — but
// for a request still queued and never assigned, which pays the queue exit
// fee (queue_exit_fee_ppm of its fee) to the community pool and gets the rest
// back.

// withDeadline is m with the requester's own deadline.
func withDeadline(m *types.MsgSubmitRequest, blocks uint64) *types.MsgSubmitRequest {
	m.DeadlineBlocks = blocks
	return m
}

// longTimeouts are params whose assignment timeout and queue time to live
// are far beyond the deadlines of these tests: only a requester's deadline
// can end a request here.
func longTimeouts() types.Params {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 500
	p.QueueTtlBlocks = 500
	return p
}

// workerRecord is everything an outcome could change about a worker but its
// in-flight units: its bond and counters in x/shard, its worker profile in
// x/reputation, its earnings, contribution and epoch record in x/rewards.
// Amounts are strings, so equal amounts compare equal.
type workerRecord struct {
	bond                       string
	completed, failed, expired uint64
	score                      uint32
	paused                     bool
	profile                    string
	owed, points               string
	epochRecord                bool
}

func (c *dchain) workerRecord(addr sdk.AccAddress) workerRecord {
	c.t.Helper()
	ctx := c.Committed()
	w := c.shardWorker(addr)
	p, found, err := c.App.ReputationKeeper.GetWorkerProfile(ctx, addr)
	require.NoError(c.t, err)
	profile := "none"
	if found {
		profile = p.String()
	}
	contribution, err := c.App.RewardsKeeper.GetContribution(ctx, addr)
	require.NoError(c.t, err)
	epochRecord, err := c.App.RewardsKeeper.WorkerEpochs.Has(ctx, addr)
	require.NoError(c.t, err)
	return workerRecord{
		bond: w.Bond.String(), completed: w.Completed, failed: w.Failed, expired: w.Expired,
		score: w.ScorePpm, paused: w.Paused, profile: profile,
		owed: c.owed(addr).String(), points: contribution.TotalPoints.String(), epochRecord: epochRecord,
	}
}

// reputationStore is x/reputation's whole store.
func (c *dchain) reputationStore() []apptest.KV {
	return apptest.DumpStore(c.Committed(), c.App.GetKey(reputationtypes.StoreKey))
}

// communityPool is the community pool's urep, truncated (only whole coins
// reach it in these tests).
func (c *dchain) communityPool() sdkmath.Int {
	c.t.Helper()
	fp, err := c.App.DistrKeeper.FeePool.Get(c.Committed())
	require.NoError(c.t, err)
	return fp.CommunityPool.AmountOf(chaincfg.BondDenom).TruncateInt()
}

// blockToPool runs the next block with txs, as block does, and also returns
// what reached the community pool in it other than through x/distribution's
// BeginBlock (exit fees, protocol shares): the pool's growth less what the
// fee collector held before the block (the previous block's tx fees) and
// less this block's mint. BeginBlock hands both to the pool whole: apptest
// blocks carry no votes, so no validator takes a part.
func (c *dchain) blockToPool(txs ...[]byte) ([]*abci.ExecTxResult, sdkmath.Int) {
	c.t.Helper()
	pool := c.communityPool()
	fees := c.balance(authtypes.NewModuleAddress(authtypes.FeeCollectorName))
	res := c.block(txs...)
	minted := sdkmath.ZeroInt()
	for _, e := range c.BlockEvents {
		if e.Type != minttypes.EventTypeMint {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == sdk.AttributeKeyAmount {
				n, ok := sdkmath.NewIntFromString(a.Value)
				require.True(c.t, ok, "mint amount %q", a.Value)
				minted = minted.Add(n)
			}
		}
	}
	return res, c.communityPool().Sub(pool).Sub(fees).Sub(minted)
}

func (c *dchain) requireNoPenalty() {
	c.t.Helper()
	require.Empty(c.t, apptest.TypedEvents[*types.EventAssignmentExpired](c.t, c.BlockEvents), "no worker missed a deadline of its own")
	require.Empty(c.t, apptest.TypedEvents[*rewardstypes.EventBondSlashed](c.t, c.BlockEvents), "nobody is slashed")
}

// A queued request whose requester's deadline comes first expires at that
// deadline (its queue expiry), counted against nobody. It was never
// assigned, so it pays the queue exit fee to the community pool and the rest
// is refunded.
func TestRequesterDeadlineWhileQueued(t *testing.T) {
	c := newDChain(t, 1, longTimeouts())
	a := c.acc(0)
	start := c.balance(a.Address)
	h := c.next()
	res := c.block(c.tx(a, withDeadline(submitMsg(a, low, types.UrgencyNormal, 2), 3))) // nobody serves the low-priority shard
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusQueued, sub.Status)
	require.Equal(t, urepOf(2_000), sub.Fee) // 2 units × 1_000 (normal)
	r := c.request(sub.RequestId)
	require.Equal(t, h+3, r.RequesterDeadlineHeight)
	require.Equal(t, h+3, r.QueueExpiryHeight, "the queue expiry is lowered to the requester's deadline")
	reputation := c.reputationStore()

	c.blocks(2) // h+1, h+2
	require.Equal(t, types.StatusQueued, c.request(sub.RequestId).Status)
	_, toPool := c.blockToPool() // h+3
	// Exit fee ⌊2_000 × 20_000 / 1e6⌋ = 40; refund 2_000 − 40 = 1_960.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: sub.RequestId, WhileQueued: true, RequesterDeadline: true,
		Refund: urepOf(1_960), ExitFee: urepOf(40)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	r = c.request(sub.RequestId)
	require.Equal(t, types.StatusExpired, r.Status)
	require.Equal(t, h+3, r.FinishHeight)
	require.Equal(t, start.Sub(txFee.Amount).SubRaw(40).String(), c.balance(a.Address).String(), "all but the exit fee is refunded")
	require.Equal(t, "40", toPool.String(), "the exit fee goes to the community pool")
	require.True(t, c.balance(escrowAddr()).IsZero())
	require.Equal(t, reputation, c.reputationStore(), "counted against nobody")
}

// An assigned request whose requester's deadline comes before the
// assignment timeout: the assignment's deadline is the requester's, and at
// that height the request ends EXPIRED with a full refund; the worker is not
// penalised (bond, counters, reputation, earnings and epoch record as they
// were) and its capacity is freed. A report after that is refused.
func TestRequesterDeadlineWhileAssigned(t *testing.T) {
	c := newDChain(t, 2, longTimeouts())
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 5})
	start := c.balance(a.Address)
	h := c.next()
	res := c.block(c.tx(a, withDeadline(submitMsg(a, high, types.UrgencyNormal, 2), 4)))
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, sub.Status)
	r := c.request(sub.RequestId)
	require.Equal(t, h+4, r.RequesterDeadlineHeight)
	require.Equal(t, h+4, r.DeadlineHeight, "the assignment ends by the requester's deadline, not 500 blocks later")
	require.Equal(t, uint64(2), c.shardWorker(w.Address).InFlightUnits)
	worker := c.workerRecord(w.Address)
	reputation := c.reputationStore()

	c.blocks(3) // h+1..h+3
	require.Equal(t, types.StatusAssigned, c.request(sub.RequestId).Status)
	_, toPool := c.blockToPool() // h+4
	c.requireNoPenalty()
	// Assigned, so no exit fee: the whole 2_000 (2 units × 1_000) is refunded.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: sub.RequestId, Worker: w.Address.String(), Attempts: 1, RequesterDeadline: true,
		Refund: urepOf(2_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	r = c.request(sub.RequestId)
	require.Equal(t, types.StatusExpired, r.Status)
	require.Equal(t, h+4, r.FinishHeight)
	require.Equal(t, start.Sub(txFee.Amount).String(), c.balance(a.Address).String(), "the whole fee is refunded")
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)
	require.True(t, c.balance(escrowAddr()).IsZero())
	require.Zero(t, c.shardWorker(w.Address).InFlightUnits, "the worker's capacity is freed")
	require.Equal(t, worker, c.workerRecord(w.Address), "the worker is not penalised")
	require.Equal(t, reputation, c.reputationStore(), "counted against nobody")

	c.failsWithoutEffect(w, types.ErrRequestNotAssigned, completeMsg(w, sub.RequestId))
}

// A report after the requester's deadline is refused with ErrDeadlinePassed
// even while the request is still ASSIGNED because max_expirations_per_block
// held its expiry back; the drain never assigns a queued request past its
// requester's deadline either.
func TestRequesterDeadlineRefusesLateReportsAndDrains(t *testing.T) {
	p := longTimeouts()
	p.MaxExpirationsPerBlock = 1
	c := newDChain(t, 4, p)
	w, lw, a := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w, high, 10})
	h := c.next()
	res := c.block(c.tx(a,
		withDeadline(submitMsg(a, high, types.UrgencyNormal, 1), 2), // 1 and 2: assigned to w
		withDeadline(submitMsg(a, high, types.UrgencyNormal, 1), 2),
		withDeadline(submitMsg(a, low, types.UrgencyNormal, 1), 3), // 3, 4 and 5: queued, nobody serves low priority
		withDeadline(submitMsg(a, low, types.UrgencyNormal, 1), 3),
		withDeadline(submitMsg(a, low, types.UrgencyNormal, 1), 3),
	))
	require.Len(t, res, 1)
	c.block() // h+1
	c.block() // h+2: the requester's deadline of 1 and 2; the cap expires 1 only
	require.Equal(t, types.StatusExpired, c.request(1).Status)
	require.Equal(t, types.StatusAssigned, c.request(2).Status)
	require.Equal(t, h+2, c.request(2).DeadlineHeight)

	// h+3: too late to report on 2 (its expiry comes in this block's
	// EndBlock), and the deadline of 3, 4 and 5, of which the cap expires 3.
	c.failsWithoutEffect(w, types.ErrDeadlinePassed, completeMsg(w, 2))
	require.Equal(t, types.StatusExpired, c.request(2).Status)
	require.Equal(t, types.StatusQueued, c.request(3).Status, "the cap went to request 2")

	// h+4: a worker joins the low-priority shard; step 1 expires 3, and the
	// drain passes over 4 and 5: no result could be accepted from them.
	c.register(workerSpec{lw, low, 10})
	require.Equal(t, types.StatusExpired, c.request(3).Status)
	for _, id := range []uint64{4, 5} {
		require.Equal(t, types.StatusQueued, c.request(id).Status, "request %d is not assigned past its deadline", id)
	}
	require.Empty(t, apptest.TypedEvents[*types.EventRequestAssigned](t, c.BlockEvents))
	c.blocks(2)
	for _, id := range []uint64{4, 5} {
		require.Equal(t, types.StatusExpired, c.request(id).Status)
	}
	require.Zero(t, c.shardWorker(lw.Address).InFlightUnits)
	require.True(t, c.balance(escrowAddr()).IsZero())
}

// A completion before (here: at) the requester's deadline is paid as usual.
func TestCompletionBeforeRequesterDeadlinePays(t *testing.T) {
	c := newDChain(t, 2, longTimeouts())
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 5})
	rp, err := c.App.RewardsKeeper.GetParams(c.Committed())
	require.NoError(t, err)
	start := c.balance(a.Address)
	h := c.next()
	res := c.block(c.tx(a, withDeadline(submitMsg(a, high, types.UrgencyNormal, 1), 3)))
	sub := c.submitResponse(res[0])
	c.blocks(2)
	require.Equal(t, h+3, c.next(), "the deadline height itself")
	c.block(c.tx(w, completeMsg(w, sub.RequestId)))
	require.Empty(t, apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusCompleted, r.Status)
	protocol := sub.Fee.Amount.MulRaw(int64(rp.ProtocolFeeSharePpm)).QuoRaw(1_000_000)
	require.Equal(t, sub.Fee.Amount.Sub(protocol).String(), c.owed(w.Address).String(), "paid the fee less the protocol share")
	require.Equal(t, start.Sub(txFee.Amount).Sub(sub.Fee.Amount).String(), c.balance(a.Address).String(), "the requester pays the fee")
	require.Equal(t, uint64(1), c.profile(a.Address).Completed)
	require.Equal(t, uint64(1), c.shardWorker(w.Address).Completed)
}

// deadline_blocks above max_deadline_blocks is refused with
// ErrInvalidDeadline and changes nothing.
func TestDeadlineAboveMaxFailsWithoutEffect(t *testing.T) {
	p := longTimeouts()
	c := newDChain(t, 2, p)
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 5})
	c.failsWithoutEffect(a, types.ErrInvalidDeadline, withDeadline(submitMsg(a, high, types.UrgencyNormal, 1), p.MaxDeadlineBlocks+1))
	res := c.block(c.tx(a, withDeadline(submitMsg(a, high, types.UrgencyNormal, 1), p.MaxDeadlineBlocks)))
	require.Equal(t, types.StatusAssigned, c.submitResponse(res[0]).Status, "max_deadline_blocks itself is accepted")
}

// A request re-queued after a failure report keeps its queue expiry at the
// requester's deadline, and its next assignment ends by that deadline too.
func TestRequeuedRequestKeepsRequesterDeadline(t *testing.T) {
	c := newDChain(t, 3, longTimeouts()) // failure_confirmations 2: one report re-queues
	w1, w2, a := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w1, high, 5}, workerSpec{w2, high, 10}) // best fit: w1 first
	h := c.next()
	res := c.block(c.tx(a, withDeadline(submitMsg(a, high, types.UrgencyNormal, 1), 6)))
	sub := c.submitResponse(res[0])
	require.Equal(t, w1.Address.String(), sub.Worker)
	c.block(c.tx(w1, failMsg(w1.Address, sub.RequestId, "oom")))
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusAssigned, r.Status, "re-queued and drained to w2 in the same block")
	require.Equal(t, w2.Address.String(), r.Worker)
	require.Equal(t, h+6, r.QueueExpiryHeight)
	require.Equal(t, h+6, r.DeadlineHeight, "the second assignment ends by the requester's deadline too")
	for c.next() <= h+6 {
		c.block()
	}
	require.Equal(t, types.StatusExpired, c.request(sub.RequestId).Status)
	require.Zero(t, c.shardWorker(w2.Address).Expired)
	require.Zero(t, c.shardWorker(w2.Address).InFlightUnits)
}

// A replicated request whose requester's deadline comes with replicas still
// running and no majority: EXPIRED, the whole fee refunded (nobody paid, not
// even the replica that reported), no replica penalised, every replica's
// capacity freed.
func TestRequesterDeadlineReplicatedWithoutMajority(t *testing.T) {
	c := newDChain(t, 4, longTimeouts())
	w1, w2, w3, a := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10}, workerSpec{w3, high, 10})
	start := c.balance(a.Address)
	h := c.next()
	res := c.block(c.tx(a, withDeadline(replicatedMsg(a, 2, 3), 3)))
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, sub.Status)
	for _, run := range c.request(sub.RequestId).ReplicaRuns {
		require.Equal(t, h+3, run.DeadlineHeight)
	}
	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "a"))) // one of three
	before := map[string]workerRecord{}
	for _, w := range []apptest.Account{w1, w2, w3} {
		before[w.Address.String()] = c.workerRecord(w.Address)
	}
	c.block()                    // h+2
	_, toPool := c.blockToPool() // h+3
	c.requireNoPenalty()
	// The fee: 2 units × 1_000 for each of 3 replicas + 2 tie-break replicas
	// = 10_000, all of it refunded (replicas ran: no exit fee).
	require.Equal(t, []*types.EventRequestExpired{{RequestId: sub.RequestId, Attempts: 1, RequesterDeadline: true,
		Refund: urepOf(10_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusExpired, r.Status)
	require.Len(t, r.ReplicaRuns, 3)
	for _, run := range r.ReplicaRuns {
		want := types.ReplicaExpired // withdrawn
		if run.Worker == w1.Address.String() {
			want = types.ReplicaReported
		}
		require.Equal(t, want, run.Status, run.Worker)
	}
	require.Equal(t, start.Sub(txFee.Amount).String(), c.balance(a.Address).String(), "the whole fee is refunded")
	require.True(t, c.balance(escrowAddr()).IsZero())
	for _, w := range []apptest.Account{w1, w2, w3} {
		require.Zero(t, c.shardWorker(w.Address).InFlightUnits)
		require.Equal(t, before[w.Address.String()], c.workerRecord(w.Address), "%s is not penalised", w.Address)
	}
}

// A replicated request waiting in the queue for a tie-break replica when the
// requester's deadline comes: EXPIRED with the whole fee refunded (queued,
// but its replicas ran: no exit fee); the dissenting replica is not slashed
// (nothing was decided).
func TestRequesterDeadlineWhileTieBreakPending(t *testing.T) {
	c := newDChain(t, 3, longTimeouts())
	w1, w2, a := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10}) // no third worker for the tie-break
	start := c.balance(a.Address)
	res := c.block(c.tx(a, withDeadline(replicatedMsg(a, 1, 2), 2)))
	sub := c.submitResponse(res[0])
	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "a")), c.tx(w2, reportHash(w2, sub.RequestId, "b")))
	require.Equal(t, types.StatusQueued, c.request(sub.RequestId).Status, "waiting for a tie-break replica")
	before1, before2 := c.workerRecord(w1.Address), c.workerRecord(w2.Address)
	_, toPool := c.blockToPool()
	// The fee: 1 unit × 1_000 for each of 2 replicas + 2 tie-break replicas
	// = 4_000, all of it refunded.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: sub.RequestId, Attempts: 1, WhileQueued: true, RequesterDeadline: true,
		Refund: urepOf(4_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	require.Equal(t, types.StatusExpired, c.request(sub.RequestId).Status)
	require.Equal(t, start.Sub(txFee.Amount).String(), c.balance(a.Address).String(), "the whole fee is refunded")
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)
	require.Equal(t, before1, c.workerRecord(w1.Address))
	require.Equal(t, before2, c.workerRecord(w2.Address))
}

// A replicated request whose reported replicas already agree by a majority
// when the requester's deadline comes: the result was in before the
// deadline, so the request completes on it (the agreeing replicas are paid
// their shares); the replica still running is withdrawn without a penalty.
func TestRequesterDeadlineReplicatedWithMajorityCompletes(t *testing.T) {
	c := newDChain(t, 4, longTimeouts())
	w1, w2, silent, a := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10}, workerSpec{silent, high, 10})
	start := c.balance(a.Address)
	res := c.block(c.tx(a, withDeadline(replicatedMsg(a, 1, 3), 2)))
	sub := c.submitResponse(res[0])
	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "ok")), c.tx(w2, reportHash(w2, sub.RequestId, "ok")))
	require.Equal(t, types.StatusAssigned, c.request(sub.RequestId).Status, "the silent replica still runs")
	silentBefore := c.workerRecord(silent.Address)
	c.block()
	c.requireNoPenalty()
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusCompleted, r.Status)
	require.Equal(t, hashOf("ok"), r.ResultHash)
	share := r.Fee.Amount.QuoRaw(int64(r.Replicas + r.TiebreakBudget))
	require.Equal(t, start.Sub(txFee.Amount).Sub(share.MulRaw(2)).String(), c.balance(a.Address).String(), "two shares paid, the rest refunded")
	require.True(t, c.owed(w1.Address).IsPositive() && c.owed(w2.Address).IsPositive())
	require.Equal(t, silentBefore, c.workerRecord(silent.Address), "the withdrawn replica is not penalised")
	require.Zero(t, c.shardWorker(silent.Address).InFlightUnits)
	for _, run := range r.ReplicaRuns {
		if run.Worker == silent.Address.String() {
			require.Equal(t, types.ReplicaExpired, run.Status, "withdrawn")
		}
	}
	require.True(t, c.balance(escrowAddr()).IsZero())
}

// cancelMsg is requester's cancellation of request id.
func cancelMsg(requester apptest.Account, id uint64) *types.MsgCancelRequest {
	return &types.MsgCancelRequest{Requester: requester.Address.String(), RequestId: id}
}

func (c *dchain) cancelResponse(res *abci.ExecTxResult) types.MsgCancelRequestResponse {
	c.t.Helper()
	var out types.MsgCancelRequestResponse
	c.MsgResponse(c.t, res, &out)
	return out
}

// cancelShare is ⌊fee·cancel_worker_share_ppm/1e6⌋.
func cancelShare(p types.Params, fee sdkmath.Int) sdkmath.Int {
	return fee.MulRaw(int64(p.CancelWorkerSharePpm)).QuoRaw(1_000_000)
}

// Cancelling an assigned request pays its worker exactly the cancellation
// share and refunds the rest (refund + share = fee); the worker's capacity is
// freed, nothing else changes about it, and its later report is refused.
func TestCancelAssignedPaysTheCancellationShare(t *testing.T) {
	p := longTimeouts()
	c := newDChain(t, 3, p)
	w, a, other := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w, high, 5})
	start := c.balance(a.Address)
	res := c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 3)))
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, sub.Status)
	worker := c.workerRecord(w.Address)
	reputation := c.reputationStore()

	c.failsWithoutEffect(other, types.ErrNotRequester, cancelMsg(other, sub.RequestId))

	res, toPool := c.blockToPool(c.tx(a, cancelMsg(a, sub.RequestId)))
	share := cancelShare(p, sub.Fee.Amount)
	// 3 units × 1_000 = 3_000; share ⌊3_000 × 100_000 / 1e6⌋ = 300, refund 2_700.
	require.Equal(t, urepOf(3_000), sub.Fee)
	require.Equal(t, "300", share.String())
	out := c.cancelResponse(res[0])
	require.Equal(t, share.String(), out.PaidToWorkers.Amount.String())
	require.Equal(t, sub.Fee.Amount.Sub(share).String(), out.Refund.Amount.String())
	require.Equal(t, sub.Fee.Amount.String(), out.Refund.Amount.Add(out.PaidToWorkers.Amount).String(), "coins conserved")
	require.True(t, out.ExitFee.IsZero(), "assigned: no queue exit fee, got %s", out.ExitFee)
	require.Equal(t, []*types.EventRequestCancelled{{RequestId: sub.RequestId, Requester: a.Address.String(),
		WasAssigned: true, Refund: urepOf(2_700), PaidToWorkers: urepOf(300), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestCancelled](t, res[0].Events))
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)

	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusCancelled, r.Status)
	require.Equal(t, start.Sub(txFee.Amount.MulRaw(2)).Sub(share).String(), c.balance(a.Address).String(), "the requester pays the share only")
	require.True(t, c.balance(escrowAddr()).IsZero())
	require.Zero(t, c.shardWorker(w.Address).InFlightUnits, "the worker's capacity is freed")
	want := worker
	want.owed = share.String() // it was owed nothing before
	require.Equal(t, want, c.workerRecord(w.Address), "the worker gains the share, and nothing else changes")
	require.Equal(t, reputation, c.reputationStore(), "counted against nobody")

	c.failsWithoutEffect(w, types.ErrRequestNotAssigned, completeMsg(w, sub.RequestId))
	c.failsWithoutEffect(w, types.ErrRequestNotAssigned, failMsg(w.Address, sub.RequestId, "late"))
	c.failsWithoutEffect(a, types.ErrNotCancellable, cancelMsg(a, sub.RequestId))
}

// A request cancelled while queued and never assigned pays the queue exit
// fee (queue_exit_fee_ppm of its fee) to the community pool and gets the rest
// back, nobody paid; one queued again after an assignment (its only worker
// reported a failure) gets its whole fee back; a finished one cannot be
// cancelled.
func TestCancelQueuedPaysTheExitFeeUnlessOnceAssigned(t *testing.T) {
	c := newDChain(t, 2, longTimeouts()) // failure_confirmations 2: one failure report re-queues
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 5})
	res := c.block(
		c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1)),  // nobody serves low priority: queued
		c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)), // assigned to w, completed below
		c.tx(a, submitMsg(a, high, types.UrgencyNormal, 2)), // assigned to w, failed and re-queued below
	)
	queued, assigned, requeued := c.submitResponse(res[0]), c.submitResponse(res[1]), c.submitResponse(res[2])
	require.Equal(t, types.StatusQueued, queued.Status)
	require.Equal(t, types.StatusAssigned, assigned.Status)
	require.Equal(t, types.StatusAssigned, requeued.Status)
	c.block(c.tx(w, failMsg(w.Address, requeued.RequestId, "oom")))
	r := c.request(requeued.RequestId)
	require.Equal(t, types.StatusQueued, r.Status, "re-queued; w is excluded from it and there is no other worker")
	require.Equal(t, uint32(1), r.Attempts)

	// Never assigned: 1 unit × 1_000 = 1_000; exit fee ⌊1_000 × 20_000 / 1e6⌋
	// = 20 to the community pool, refund 1_000 − 20 = 980.
	require.Equal(t, urepOf(1_000), queued.Fee)
	before := c.balance(a.Address)
	res, toPool := c.blockToPool(c.tx(a, cancelMsg(a, queued.RequestId)))
	out := c.cancelResponse(res[0])
	require.Equal(t, urepOf(980), out.Refund)
	require.Equal(t, urepOf(20), out.ExitFee)
	require.True(t, out.PaidToWorkers.IsZero())
	require.Equal(t, []*types.EventRequestCancelled{{RequestId: queued.RequestId, Requester: a.Address.String(),
		Refund: urepOf(980), PaidToWorkers: urepOf(0), ExitFee: urepOf(20)}},
		apptest.TypedEvents[*types.EventRequestCancelled](t, res[0].Events))
	require.Equal(t, types.StatusCancelled, c.request(queued.RequestId).Status)
	require.Equal(t, before.Sub(txFee.Amount).AddRaw(980).String(), c.balance(a.Address).String(), "the fee less the exit fee is refunded")
	require.Equal(t, "20", toPool.String(), "the exit fee goes to the community pool")

	// Queued again after an assignment: 2 units × 1_000 = 2_000, all refunded.
	require.Equal(t, urepOf(2_000), requeued.Fee)
	before = c.balance(a.Address)
	res, toPool = c.blockToPool(c.tx(a, cancelMsg(a, requeued.RequestId)))
	out = c.cancelResponse(res[0])
	require.Equal(t, urepOf(2_000), out.Refund)
	require.True(t, out.ExitFee.IsZero(), "no exit fee once assigned, got %s", out.ExitFee)
	require.True(t, out.PaidToWorkers.IsZero(), "nobody holds it")
	require.Equal(t, []*types.EventRequestCancelled{{RequestId: requeued.RequestId, Requester: a.Address.String(),
		Refund: urepOf(2_000), PaidToWorkers: urepOf(0), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestCancelled](t, res[0].Events))
	require.Equal(t, before.Sub(txFee.Amount).AddRaw(2_000).String(), c.balance(a.Address).String(), "the whole fee is refunded")
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)

	c.block(c.tx(w, completeMsg(w, assigned.RequestId)))
	require.True(t, c.balance(escrowAddr()).IsZero())
	c.failsWithoutEffect(a, types.ErrNotCancellable, cancelMsg(a, assigned.RequestId))
	c.failsWithoutEffect(a, types.ErrNotCancellable, cancelMsg(a, queued.RequestId))
	c.failsWithoutEffect(a, types.ErrNotCancellable, cancelMsg(a, requeued.RequestId))
}

// Cancelling an assigned replicated request pays each running replica's
// worker the cancellation share of one replica share; the rest is refunded.
// Once a replica has reported, it can no longer be cancelled.
func TestCancelAssignedReplicated(t *testing.T) {
	p := longTimeouts()
	c := newDChain(t, 4, p)
	w1, w2, w3, a := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10}, workerSpec{w3, high, 10})
	start := c.balance(a.Address)
	res := c.block(c.tx(a, replicatedMsg(a, 2, 2)), c.tx(a, replicatedMsg(a, 1, 2)))
	first, second := c.submitResponse(res[0]), c.submitResponse(res[1])
	require.Equal(t, types.StatusAssigned, first.Status)

	// The second: a replica reports, so it can no longer be cancelled.
	holder, err := sdk.AccAddressFromBech32(second.ReplicaWorkers[0])
	require.NoError(t, err)
	reporter := w1
	for _, w := range []apptest.Account{w2, w3} {
		if w.Address.Equals(holder) {
			reporter = w
		}
	}
	c.block(c.tx(reporter, reportHash(reporter, second.RequestId, "x")))
	c.failsWithoutEffect(a, types.ErrNotCancellable, cancelMsg(a, second.RequestId))

	owedBefore := map[string]sdkmath.Int{}
	for _, w := range []apptest.Account{w1, w2, w3} {
		owedBefore[w.Address.String()] = c.owed(w.Address)
	}
	res = c.block(c.tx(a, cancelMsg(a, first.RequestId)))
	r := c.request(first.RequestId)
	require.Equal(t, types.StatusCancelled, r.Status)
	replicaShare := r.Fee.Amount.QuoRaw(int64(r.Replicas + r.TiebreakBudget))
	share := cancelShare(p, replicaShare)
	out := c.cancelResponse(res[0])
	require.Equal(t, share.MulRaw(2).String(), out.PaidToWorkers.Amount.String())
	require.Equal(t, r.Fee.Amount.String(), out.Refund.Amount.Add(out.PaidToWorkers.Amount).String(), "coins conserved")
	for _, run := range r.ReplicaRuns {
		addr, err := sdk.AccAddressFromBech32(run.Worker)
		require.NoError(t, err)
		require.Equal(t, types.ReplicaExpired, run.Status, "withdrawn")
		require.Equal(t, owedBefore[run.Worker].Add(share).String(), c.owed(addr).String(), "%s is paid the cancellation share", run.Worker)
	}
	for _, w := range []apptest.Account{w1, w2, w3} {
		require.Zero(t, c.shardWorker(w.Address).Expired)
	}
	// The requester paid the second request's escrow (still open) and the
	// two cancellation shares of the first.
	spent := start.Sub(c.balance(a.Address)).Sub(txFee.Amount.MulRaw(4)) // two submissions, a refused cancel, a cancel
	require.Equal(t, second.Fee.Amount.Add(share.MulRaw(2)).String(), spent.String())
}

// A cancel and a completion of the same request in one block: the first tx
// wins; the second fails with a typed error and changes nothing.
func TestCancelRacingCompletion(t *testing.T) {
	p := longTimeouts()
	for _, cancelFirst := range []bool{true, false} {
		c := newDChain(t, 2, p)
		w, a := c.acc(0), c.acc(1)
		c.register(workerSpec{w, high, 5})
		start := c.balance(a.Address)
		res := c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)))
		sub := c.submitResponse(res[0])
		paid := sub.Fee.Amount // the requester's cost: the fee, or the cancellation share
		cancel, complete := c.tx(a, cancelMsg(a, sub.RequestId)), c.tx(w, completeMsg(w, sub.RequestId))
		if cancelFirst {
			res = c.NextBlock(t, cancel, complete)
			require.Zero(t, res[0].Code, res[0].Log)
			require.Equal(t, types.ErrRequestNotAssigned.ABCICode(), res[1].Code, res[1].Log)
			require.Equal(t, types.StatusCancelled, c.request(sub.RequestId).Status)
			require.Equal(t, cancelShare(p, sub.Fee.Amount).String(), c.owed(w.Address).String(), "the share only, no completion pay")
			require.Zero(t, c.shardWorker(w.Address).Completed)
			paid = cancelShare(p, sub.Fee.Amount)
		} else {
			res = c.NextBlock(t, complete, cancel)
			require.Zero(t, res[0].Code, res[0].Log)
			require.Equal(t, types.ErrNotCancellable.ABCICode(), res[1].Code, res[1].Log)
			require.Equal(t, types.StatusCompleted, c.request(sub.RequestId).Status)
			require.Equal(t, uint64(1), c.shardWorker(w.Address).Completed)
		}
		for _, e := range res[1].Events {
			require.False(t, strings.HasPrefix(e.Type, "repshard."), "the losing tx emitted %s", e.Type)
		}
		require.Equal(t, start.Sub(txFee.Amount.MulRaw(2)).Sub(paid).String(), c.balance(a.Address).String())
		require.NoError(t, c.App.CheckInvariants(c.Committed()))
	}
}

// An assignment past its deadline but not yet expired (the expiry cap held
// it back) cannot be cancelled: EndBlock takes it back and penalises its
// worker first.
func TestCancelOverdueAssignmentIsRefused(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 2
	p.MaxExpirationsPerBlock = 1
	p.MaxAttempts = 1
	p.FailureConfirmations = 1
	c := newDChain(t, 2, p)
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 10})
	c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1), submitMsg(a, high, types.UrgencyNormal, 1)))
	c.blocks(2) // the deadline height: the cap expires request 1 only
	require.Equal(t, types.StatusExpired, c.request(1).Status)
	require.Equal(t, types.StatusAssigned, c.request(2).Status)
	c.failsWithoutEffect(a, types.ErrDeadlinePassed, cancelMsg(a, 2))
	require.Equal(t, types.StatusExpired, c.request(2).Status)
	require.Equal(t, uint64(2), c.shardWorker(w.Address).Expired, "the worker is penalised for both")
}
