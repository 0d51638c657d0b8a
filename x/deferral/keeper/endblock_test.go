package keeper_test

import (
	"bytes"
	"slices"
	"strconv"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardkeeper "github.com/repshard/repshard/x/shard/keeper"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// blockEventIndex returns the position of the first block event of type
// name whose attributes include request_id, or -1.
func blockEventIndex(c *dchain, name string, id uint64) int {
	for i, e := range c.BlockEvents {
		if e.Type != name {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "request_id" && a.Value == `"`+strconv.FormatUint(id, 10)+`"` {
				return i
			}
		}
	}
	return -1
}

func assignedIDs(t *testing.T, c *dchain) []uint64 {
	t.Helper()
	out := []uint64{}
	for _, e := range apptest.TypedEvents[*types.EventRequestAssigned](t, c.BlockEvents) {
		out = append(out, e.RequestId)
	}
	return out
}

func expiredIDs(t *testing.T, c *dchain) []uint64 {
	t.Helper()
	out := []uint64{}
	for _, e := range apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents) {
		out = append(out, e.RequestId)
	}
	return out
}

func prunedIDs(t *testing.T, c *dchain) []uint64 {
	t.Helper()
	out := []uint64{}
	for _, e := range apptest.TypedEvents[*types.EventRequestPruned](t, c.BlockEvents) {
		out = append(out, e.RequestId)
	}
	return out
}

// Step 1: an assignment past its deadline is taken from the worker (who is
// slashed) and re-queued, and drained again in the same EndBlock (step 2
// runs after step 1) — to another worker: the one that let it expire is
// excluded from it for good; once it has had max_attempts, it expires and the
// fee goes back to the requester, who counts an expired outcome.
func TestEndBlockExpireRequeueThenExpireAndRefund(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 2
	p.MaxAttempts = 2
	c := newDChain(t, 3, p)
	w, w2, a := c.acc(0), c.acc(2), c.acc(1) // neither worker ever reports
	if bytes.Compare(w.Address, w2.Address) > 0 {
		w, w2 = w2, w // w is the first best fit (same capacity, lower address)
	}
	c.register(workerSpec{w, high, 5}, workerSpec{w2, high, 5})
	rp, err := c.App.RewardsKeeper.GetParams(c.Committed())
	require.NoError(t, err)
	bond := c.shardWorker(w.Address).Bond.Amount
	start := c.balance(a.Address)

	h := c.next()
	res := c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 2)))
	id := c.submitResponse(res[0]).RequestId
	require.Equal(t, h+2, c.request(id).DeadlineHeight)

	c.block() // h+1: not yet overdue
	require.Equal(t, types.StatusAssigned, c.request(id).Status)
	require.Empty(t, apptest.TypedEvents[*types.EventAssignmentExpired](t, c.BlockEvents))

	require.Equal(t, w.Address.String(), c.request(id).Worker)
	c.block() // h+2: overdue → re-queued → drained again, to the other worker
	require.Equal(t, []*types.EventAssignmentExpired{{RequestId: id, Worker: w.Address.String(), DeadlineHeight: h + 2}},
		apptest.TypedEvents[*types.EventAssignmentExpired](t, c.BlockEvents))
	r := c.request(id)
	require.Equal(t, []*types.EventRequestDeferred{{RequestId: id, ShardId: highShard, Reason: types.DeferNone,
		PriorityPpm: r.PriorityPpm, DueHeight: h + 2, Requeued: true}},
		apptest.TypedEvents[*types.EventRequestDeferred](t, c.BlockEvents))
	require.Equal(t, []*types.EventRequestAssigned{{RequestId: id, ShardId: highShard, Worker: w2.Address.String(),
		DeadlineHeight: h + 4, Attempt: 2, ComputeUnits: 2, WaitedBlocks: 2}},
		apptest.TypedEvents[*types.EventRequestAssigned](t, c.BlockEvents))
	require.Empty(t, apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	expiredAt := blockEventIndex(c, "repshard.deferral.v1.EventAssignmentExpired", id)
	requeuedAt := blockEventIndex(c, "repshard.deferral.v1.EventRequestDeferred", id)
	assignedAt := blockEventIndex(c, "repshard.deferral.v1.EventRequestAssigned", id)
	require.True(t, expiredAt < requeuedAt && requeuedAt < assignedAt, "expire, re-queue, then drain: %d %d %d", expiredAt, requeuedAt, assignedAt)

	require.Equal(t, types.StatusAssigned, r.Status)
	require.Equal(t, uint32(2), r.Attempts)
	require.Equal(t, h+2, r.AssignedHeight)
	require.Equal(t, h+4, r.DeadlineHeight)
	require.True(t, r.Deferred)
	require.Equal(t, []string{w.Address.String()}, r.ExcludedWorkers, "the worker that let it expire is excluded")
	wk := c.shardWorker(w.Address)
	slash1 := bond.MulRaw(int64(rp.ExpirySlashPpm)).QuoRaw(1_000_000)
	require.Equal(t, bond.Sub(slash1).String(), wk.Bond.Amount.String(), "worker slashed expiry_slash_ppm of its bond")
	require.Equal(t, uint64(1), wk.Expired)
	require.Zero(t, wk.InFlightUnits, "the expired worker does not get the request back, though it has room and is the best fit")
	require.Equal(t, uint64(2), c.shardWorker(w2.Address).InFlightUnits)
	require.Len(t, apptest.TypedEvents[*rewardstypes.EventBondSlashed](t, c.BlockEvents), 1)
	require.Zero(t, c.profile(a.Address).Expired, "a re-queue is no outcome for the requester")
	require.Equal(t, sdkmath.NewInt(2_000).String(), c.balance(escrowAddr()).String(), "the fee stays in escrow")

	c.block() // h+3
	require.Equal(t, types.StatusAssigned, c.request(id).Status)
	_, toPool := c.blockToPool() // h+4: overdue again, out of attempts → expired and refunded
	require.Equal(t, []*types.EventAssignmentExpired{{RequestId: id, Worker: w2.Address.String(), DeadlineHeight: h + 4}},
		apptest.TypedEvents[*types.EventAssignmentExpired](t, c.BlockEvents))
	// The whole fee back (2 units × 1_000 = 2_000), no exit fee: it was assigned.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: id, Worker: w2.Address.String(), Attempts: 2,
		Refund: urepOf(2_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)
	require.Empty(t, apptest.TypedEvents[*types.EventRequestDeferred](t, c.BlockEvents))
	require.Empty(t, apptest.TypedEvents[*types.EventRequestAssigned](t, c.BlockEvents))

	r = c.request(id)
	require.Equal(t, types.StatusExpired, r.Status)
	require.Equal(t, h+4, r.FinishHeight)
	require.Equal(t, start.Sub(txFee.Amount).String(), c.balance(a.Address).String(), "fee refunded")
	require.True(t, c.balance(escrowAddr()).IsZero())
	wk = c.shardWorker(w2.Address)
	slash2 := bond.MulRaw(int64(rp.ExpirySlashPpm)).QuoRaw(1_000_000)
	require.Equal(t, bond.Sub(slash2).String(), wk.Bond.Amount.String())
	require.Equal(t, uint64(1), wk.Expired)
	require.Zero(t, wk.InFlightUnits)
	pool, err := c.App.RewardsKeeper.GetPool(c.Committed())
	require.NoError(t, err)
	require.Equal(t, slash1.Add(slash2).String(), pool.String())
	require.Equal(t, uint64(1), c.profile(a.Address).Expired)
}

// An overdue assignment whose request is past its queue time to live is not
// re-queued, whatever attempts are left: it expires and is refunded.
func TestEndBlockOverdueAssignmentPastTTLExpires(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 3
	p.MaxAttempts = 3
	p.MaxWaitBlocks = 2
	p.QueueTtlBlocks = 2
	c := newDChain(t, 2, p)
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 5})
	start := c.balance(a.Address)
	h := c.next()
	res := c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)))
	id := c.submitResponse(res[0]).RequestId
	require.Equal(t, h+2, c.request(id).QueueExpiryHeight)
	c.blocks(2)
	_, toPool := c.blockToPool() // h+3: the assignment deadline
	// The whole fee back (1 unit × 1_000 = 1_000), no exit fee: it was assigned.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: id, Worker: w.Address.String(), Attempts: 1,
		Refund: urepOf(1_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	require.True(t, toPool.IsZero(), "nothing to the community pool: %s", toPool)
	require.Empty(t, apptest.TypedEvents[*types.EventRequestDeferred](t, c.BlockEvents))
	require.Equal(t, types.StatusExpired, c.request(id).Status)
	require.Equal(t, start.Sub(txFee.Amount).String(), c.balance(a.Address).String())
}

// Step 1 also expires queued requests past their time to live: since waiting
// is not the requester's doing, the whole fee is refunded — no queue exit
// fee, though it was never assigned — and x/reputation is not touched at all.
func TestEndBlockQueueTTLExpiryRefundsWithoutReputationOutcome(t *testing.T) {
	p := types.DefaultParams()
	p.MaxWaitBlocks = 3
	p.QueueTtlBlocks = 3
	c := newDChain(t, 1, p)
	a := c.acc(0)
	start := c.balance(a.Address)
	h := c.next()
	res := c.block(c.tx(a, submitMsg(a, low, types.UrgencyNormal, 2))) // no worker serves the low-priority shard
	id := c.submitResponse(res[0]).RequestId
	require.Equal(t, h+3, c.request(id).QueueExpiryHeight)

	c.blocks(2) // h+1, h+2
	require.Equal(t, types.StatusQueued, c.request(id).Status)
	require.Empty(t, apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	profile := c.profile(a.Address)
	reputationStore := apptest.DumpStore(c.Committed(), c.App.GetKey(reputationtypes.StoreKey))

	_, toPool := c.blockToPool() // h+3
	// 2 units × 1_000 = 2_000, all refunded.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: id, WhileQueued: true,
		Refund: urepOf(2_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	r := c.request(id)
	require.Equal(t, types.StatusExpired, r.Status)
	require.Equal(t, h+3, r.FinishHeight)
	require.Zero(t, r.Attempts)
	require.Equal(t, start.Sub(txFee.Amount).String(), c.balance(a.Address).String(), "fee refunded")
	require.True(t, toPool.IsZero(), "no exit fee on a queue expiry: %s to the community pool", toPool)
	require.True(t, c.balance(escrowAddr()).IsZero())

	after := c.profile(a.Address)
	require.Equal(t, [4]uint64{profile.Submitted, profile.Completed, profile.Failed, profile.Expired},
		[4]uint64{after.Submitted, after.Completed, after.Failed, after.Expired})
	require.Equal(t, profile.Score, after.Score)
	require.Equal(t, reputationStore, apptest.DumpStore(c.Committed(), c.App.GetKey(reputationtypes.StoreKey)),
		"a queue expiry must not write x/reputation")
	require.Zero(t, profile.Expired+profile.Failed+profile.Completed)

	ctx := c.Committed()
	k := c.App.DeferralKeeper
	has := func(set collections.KeySet[collections.Pair[uint64, uint64]], a, b uint64) bool {
		ok, err := set.Has(ctx, collections.Join(a, b))
		require.NoError(t, err)
		return ok
	}
	require.False(t, has(k.QueueExpiries, uint64(h+3), id))
	require.True(t, has(k.Finished, uint64(h+3), id))
	inQueue, err := k.Queue.Has(ctx, collections.Join3(lowShard, uint64(r.DueHeight), id))
	require.NoError(t, err)
	require.False(t, inQueue)
	s, err := c.App.ShardKeeper.GetShard(ctx, lowShard)
	require.NoError(t, err)
	require.Zero(t, s.QueuedUnits)
	require.Zero(t, s.QueuedCount)
}

// Step 2 assigns each queued request, in due order, to the worker whose free
// capacity is the smallest that fits it (best fit), ties by address.
func TestEndBlockDrainBestFitAndTieBreak(t *testing.T) {
	c := newDChain(t, 6, types.DefaultParams())
	r1, r2, r3 := c.acc(0), c.acc(1), c.acc(2)
	big, lo, hi := c.acc(3), c.acc(4), c.acc(5)
	if bytes.Compare(lo.Address, hi.Address) > 0 {
		lo, hi = hi, lo
	}
	// No worker yet: all three are queued, due at the same height (fresh
	// requesters, same urgency and class), so in id order.
	res := c.block(
		c.tx(r1, submitMsg(r1, high, types.UrgencyNormal, 3)),
		c.tx(r2, submitMsg(r2, high, types.UrgencyNormal, 2)),
		c.tx(r3, submitMsg(r3, high, types.UrgencyNormal, 1)),
	)
	for _, r := range res {
		require.Equal(t, types.StatusQueued, c.submitResponse(r).Status)
	}
	// Registered in an order that is neither by address nor by capacity.
	c.register(workerSpec{hi, high, 3}, workerSpec{big, high, 5}, workerSpec{lo, high, 3})

	// free {big 5, lo 3, hi 3}: request 1 (3 units) → 3, tie → lo;
	// free {big 5, hi 3}: request 2 (2 units) → hi; free {big 5, hi 1}: request 3 (1 unit) → hi.
	require.Equal(t, []uint64{1, 2, 3}, assignedIDs(t, c))
	require.Equal(t, lo.Address.String(), c.request(1).Worker)
	require.Equal(t, hi.Address.String(), c.request(2).Worker)
	require.Equal(t, hi.Address.String(), c.request(3).Worker)
	require.Zero(t, c.shardWorker(big.Address).InFlightUnits)
}

// Step 2 serves the earliest due first, ties by id, whatever the order of
// submission.
func TestEndBlockDrainServesEarliestDueFirst(t *testing.T) {
	p := types.DefaultParams()
	p.PriorityWeightReputation = 0
	c := newDChain(t, 2, p)
	w, a := c.acc(0), c.acc(1)
	// Without the reputation weight the priority is the urgency value,
	// (0·rep + 4·urgency)/4, due h + ⌊50·(1e6 − priority)/1e6⌋: low 0 → h+50,
	// normal 200_000 → h+40, critical 1_000_000 → h, high 950_000 → h+⌊2.5⌋ = h+2.
	urgencies := []types.Urgency{types.UrgencyLow, types.UrgencyCritical, types.UrgencyNormal, types.UrgencyHigh, types.UrgencyCritical}
	var msgs []sdk.Msg
	for _, u := range urgencies {
		msgs = append(msgs, submitMsg(a, high, u, 1))
	}
	h := c.next()
	c.block(c.tx(a, msgs...))
	wantDue := map[uint64]int64{1: h + 50, 2: h, 3: h + 40, 4: h + 2, 5: h}
	for id, due := range wantDue {
		require.Equal(t, due, c.request(id).DueHeight, "request %d", id)
	}
	c.register(workerSpec{w, high, 1})
	var order []uint64
	for len(order) < len(urgencies) {
		got := assignedIDs(t, c)
		require.Len(t, got, 1)
		order = append(order, got[0])
		c.block(c.tx(w, completeMsg(w, got[0])))
	}
	require.Equal(t, []uint64{2, 5, 4, 3, 1}, order)
}

// Step 2 looks at most drain_lookahead entries past a head that fits no
// worker: with 2, a request behind two that fit no worker is served, one
// behind three is not.
func TestEndBlockDrainLookaheadBound(t *testing.T) {
	p := types.DefaultParams()
	p.PriorityWeightReputation = 0 // equal priorities: each queue is in id order
	p.DrainLookahead = 2
	c := newDChain(t, 4, p)
	a, b, w1, w4 := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.block(
		c.tx(a, submitMsg(a, high, types.UrgencyNormal, 5), submitMsg(a, high, types.UrgencyNormal, 5),
			submitMsg(a, high, types.UrgencyNormal, 5), submitMsg(a, high, types.UrgencyNormal, 1)),
		c.tx(b, submitMsg(b, compute, types.UrgencyNormal, 5), submitMsg(b, compute, types.UrgencyNormal, 5),
			submitMsg(b, compute, types.UrgencyNormal, 1)),
	)
	const highSmall, computeSmall = 4, 7
	require.Equal(t, uint64(1), c.request(highSmall).ComputeUnits)
	require.Equal(t, uint64(1), c.request(computeSmall).ComputeUnits)
	c.register(workerSpec{w1, high, 2}, workerSpec{w4, compute, 2})
	require.Equal(t, []uint64{computeSmall}, assignedIDs(t, c))
	c.blocks(3)
	require.Empty(t, assignedIDs(t, c))
	require.Equal(t, types.StatusQueued, c.request(highSmall).Status, "three misses ahead: beyond the look-ahead")
	require.Equal(t, types.StatusAssigned, c.request(computeSmall).Status)
}

// Step 2 assigns at most max_assignments_per_block requests per block, in
// due order, across all shards.
func TestEndBlockMaxAssignmentsPerBlock(t *testing.T) {
	p := types.DefaultParams()
	p.PriorityWeightReputation = 0
	p.MaxAssignmentsPerBlock = 2
	c := newDChain(t, 3, p)
	a, w1, w4 := c.acc(0), c.acc(1), c.acc(2)
	var msgs []sdk.Msg
	for i := 0; i < 5; i++ {
		msgs = append(msgs, submitMsg(a, high, types.UrgencyNormal, 1))
	}
	msgs = append(msgs, submitMsg(a, compute, types.UrgencyNormal, 1), submitMsg(a, compute, types.UrgencyNormal, 1))
	c.block(c.tx(a, msgs...))
	c.register(workerSpec{w1, high, 10}, workerSpec{w4, compute, 10})
	var all []uint64
	for i := 0; ; i++ {
		got := assignedIDs(t, c)
		if len(got) == 0 {
			break
		}
		require.LessOrEqual(t, len(got), 2, "block %d", i)
		if len(all)+len(got) < 7 {
			require.Len(t, got, 2, "the cap is used while requests wait")
		}
		all = append(all, got...)
		c.block()
	}
	require.ElementsMatch(t, []uint64{1, 2, 3, 4, 5, 6, 7}, all)
	var highOrder []uint64
	for _, id := range all {
		if id <= 5 {
			highOrder = append(highOrder, id)
		}
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, highOrder, "within a shard, in due order")
}

// Step 1 handles at most max_expirations_per_block items per block: overdue
// assignments first, then queued requests past their time to live, in
// (height, id) order; the rest wait for the next block.
func TestEndBlockMaxExpirationsPerBlock(t *testing.T) {
	p := types.DefaultParams()
	p.MaxExpirationsPerBlock = 2
	p.AssignmentTimeoutBlocks = 3
	p.MaxWaitBlocks = 3
	p.QueueTtlBlocks = 3
	p.MaxAttempts = 1
	p.FailureConfirmations = 1
	c := newDChain(t, 5, p)
	w := c.acc(0)
	c.register(workerSpec{w, high, 10})
	h := c.next()
	var txs [][]byte
	for i := 1; i <= 3; i++ { // requests 1..3 queued in the low-priority shard (no worker)
		txs = append(txs, c.tx(c.acc(i), submitMsg(c.acc(i), low, types.UrgencyNormal, 1)))
	}
	txs = append(txs, c.tx(c.acc(4), submitMsg(c.acc(4), high, types.UrgencyNormal, 1))) // 4 assigned to w
	c.block(txs...)
	require.Equal(t, types.StatusAssigned, c.request(4).Status)
	for id := uint64(1); id <= 4; id++ {
		r := c.request(id)
		require.True(t, r.QueueExpiryHeight == h+3 && (r.Status == types.StatusQueued || r.DeadlineHeight == h+3))
	}
	c.blocks(2)
	require.Empty(t, expiredIDs(t, c))
	c.block() // h+3: the assignment, then the first queued request
	require.Equal(t, []uint64{4, 1}, expiredIDs(t, c))
	require.Equal(t, types.StatusQueued, c.request(2).Status)
	require.Equal(t, types.StatusQueued, c.request(3).Status)
	c.block() // h+4
	require.Equal(t, []uint64{2, 3}, expiredIDs(t, c))
	c.block()
	require.Empty(t, expiredIDs(t, c))
}

// Step 4 prunes at most max_prunes_per_block records per block, oldest first.
func TestEndBlockMaxPrunesPerBlock(t *testing.T) {
	p := types.DefaultParams()
	p.RetentionBlocks = 2
	p.MaxPrunesPerBlock = 1
	c := newDChain(t, 1, p)
	a := c.acc(0)
	var msgs []sdk.Msg
	for i := 0; i < 3; i++ {
		msgs = append(msgs, submitMsg(a, low, types.UrgencyNormal, 1))
	}
	c.block(c.tx(a, msgs...))
	f := c.next()
	c.block(c.tx(a, &types.MsgCancelRequest{Requester: a.Address.String(), RequestId: 3},
		&types.MsgCancelRequest{Requester: a.Address.String(), RequestId: 1},
		&types.MsgCancelRequest{Requester: a.Address.String(), RequestId: 2}))
	require.Empty(t, prunedIDs(t, c))
	c.block() // f+1
	require.Empty(t, prunedIDs(t, c))
	for i, id := range []uint64{1, 2, 3} {
		require.Equal(t, f+2+int64(i), c.next())
		c.block()
		require.Equal(t, []uint64{id}, prunedIDs(t, c))
	}
	c.block()
	require.Empty(t, prunedIDs(t, c))
}

// servedShard runs one block and returns the shard of its only assignment.
func servedShard(t *testing.T, c *dchain) uint64 {
	t.Helper()
	got := apptest.TypedEvents[*types.EventRequestAssigned](t, c.BlockEvents)
	require.Len(t, got, 1)
	return got[0].ShardId
}

// Step 2 goes round the shards: with one assignment per block, every shard
// with work is served at least once in any len(shards) consecutive blocks,
// and shards that all have work are served in turn.
func TestEndBlockDrainRoundRobin(t *testing.T) {
	for _, busy := range [][]uint64{{highShard, lowShard, dataShard, computeShard}, {highShard, dataShard}, {lowShard}} {
		p := types.DefaultParams()
		p.MaxAssignmentsPerBlock = 1
		c := newDChain(t, 5, p)
		a := c.acc(0)
		var txs [][]byte
		var workers []workerSpec
		for i, shardID := range []uint64{highShard, lowShard, dataShard, computeShard} {
			shardClass := classOfShard(shardID)
			if slices.Contains(busy, shardID) {
				var msgs []sdk.Msg
				for j := 0; j < 4; j++ {
					msgs = append(msgs, submitMsg(a, shardClass, types.UrgencyNormal, 1))
				}
				txs = append(txs, c.tx(a, msgs...))
			}
			workers = append(workers, workerSpec{c.acc(i + 1), shardClass, 10})
		}
		c.block(txs...)
		c.register(workers...)
		var served []uint64
		for len(served) < 8 && len(served) < 4*len(busy) {
			served = append(served, servedShard(t, c))
			c.block()
		}
		for i := 0; i+4 <= len(served); i++ {
			window := served[i : i+4]
			for _, s := range busy {
				require.Contains(t, window, s, "busy shards %v served %v: shard %d waits more than 4 blocks", busy, served, s)
			}
		}
		if len(busy) == 4 {
			for i := 1; i < len(served); i++ {
				require.Equal(t, served[i-1]%4+1, served[i], "served %v: not in turn", served)
			}
		}
		if len(busy) == 2 {
			count := map[uint64]int{}
			for _, s := range served {
				count[s]++
			}
			require.Equal(t, count[busy[0]], count[busy[1]], "served %v", served)
		}
	}
}

func classOfShard(id uint64) shardtypes.ShardClass {
	return map[uint64]shardtypes.ShardClass{highShard: high, lowShard: low, dataShard: data, computeShard: compute}[id]
}

// Step 4 deletes a record finished retention_blocks ago and every index
// entry of it; its events remain the history. Open records stay.
func TestEndBlockPruneAfterRetention(t *testing.T) {
	p := types.DefaultParams()
	p.FailureConfirmations = 1 // one failure report is final here: the test is about a FAILED request
	p.RetentionBlocks = 3
	c := newDChain(t, 2, p)
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 10})
	c.block(c.tx(a,
		submitMsg(a, high, types.UrgencyNormal, 1), // 1: completed
		submitMsg(a, low, types.UrgencyNormal, 1),  // 2: cancelled
		submitMsg(a, high, types.UrgencyNormal, 1), // 3: stays assigned
		submitMsg(a, high, types.UrgencyNormal, 1), // 4: failed
	))
	f := c.next()
	c.block(
		c.tx(w, completeMsg(w, 1), &types.MsgFailRequest{Worker: w.Address.String(), RequestId: 4, Reason: "x"}),
		c.tx(a, &types.MsgCancelRequest{Requester: a.Address.String(), RequestId: 2}),
	)
	finished := map[uint64]types.RequestStatus{1: types.StatusCompleted, 2: types.StatusCancelled, 4: types.StatusFailed}
	for id, s := range finished {
		r := c.request(id)
		require.Equal(t, s, r.Status)
		require.Equal(t, f, r.FinishHeight)
	}
	openFees := c.App.RewardsKeeper.EscrowBalance(c.Committed())
	balances := c.Balances(c.Committed(), c.watched()...)

	c.blocks(2) // f+1, f+2
	require.Empty(t, prunedIDs(t, c))
	for id := range finished {
		c.request(id)
	}
	c.block() // f+3
	require.Equal(t, []*types.EventRequestPruned{
		{RequestId: 1, Status: types.StatusCompleted},
		{RequestId: 2, Status: types.StatusCancelled},
		{RequestId: 4, Status: types.StatusFailed},
	}, apptest.TypedEvents[*types.EventRequestPruned](t, c.BlockEvents))

	ctx := c.Committed()
	k := c.App.DeferralKeeper
	q := keeper.NewQueryServerImpl(k)
	for id := range finished {
		has, err := k.Requests.Has(ctx, id)
		require.NoError(t, err)
		require.False(t, has, "record %d", id)
		_, err = q.Request(ctx, &types.QueryRequestRequest{RequestId: id})
		require.Error(t, err)
	}
	// No index entry points to a pruned record; the open one keeps all of its.
	for name, refs := range indexedIDs(t, ctx, k) {
		for _, id := range refs {
			_, gone := finished[id]
			require.False(t, gone, "index %s still holds request %d", name, id)
		}
	}
	require.Equal(t, map[string][]uint64{
		"by_requester": {3}, "by_worker": {3}, "by_shard": {3}, "deadlines": {3},
	}, indexedIDs(t, ctx, k))
	byWorker, err := q.RequestsByWorker(ctx, &types.QueryRequestsByWorkerRequest{Worker: w.Address.String()})
	require.NoError(t, err)
	require.Equal(t, []uint64{3}, ids(byWorker.Requests))

	// Pruning moves no coin and leaves the open accounting alone; ids are
	// never reused.
	require.Equal(t, balances, c.Balances(ctx, c.watched()...))
	require.Equal(t, openFees.String(), c.App.RewardsKeeper.EscrowBalance(ctx).String())
	res := c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)))
	require.Equal(t, uint64(5), c.submitResponse(res[0]).RequestId)
}

// indexedIDs lists, for every non-empty index of x/deferral, the request ids
// its entries point to.
func indexedIDs(t *testing.T, ctx sdk.Context, k keeper.Keeper) map[string][]uint64 {
	t.Helper()
	out := map[string][]uint64{}
	add := func(name string, id uint64) { out[name] = append(out[name], id) }
	require.NoError(t, k.ByRequester.Walk(ctx, nil, func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
		add("by_requester", key.K2())
		return false, nil
	}))
	require.NoError(t, k.ByWorker.Walk(ctx, nil, func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
		add("by_worker", key.K2())
		return false, nil
	}))
	for name, set := range map[string]collections.KeySet[collections.Pair[uint64, uint64]]{
		"by_shard": k.ByShard, "deadlines": k.Deadlines, "queue_expiries": k.QueueExpiries, "finished": k.Finished,
	} {
		require.NoError(t, set.Walk(ctx, nil, func(key collections.Pair[uint64, uint64]) (bool, error) {
			add(name, key.K2())
			return false, nil
		}))
	}
	require.NoError(t, k.Queue.Walk(ctx, nil, func(key collections.Triple[uint64, uint64, uint64]) (bool, error) {
		add("queue", key.K3())
		return false, nil
	}))
	return out
}

// A queue entry that points to no record (a corrupted index) is one bad
// item: the drain must roll it back, report it with EventEndBlockItemFailed
// and go on with the other requests — not fail EndBlock, which would halt
// the chain.
func TestEndBlockDrainSurvivesABadQueueEntry(t *testing.T) {
	c := newDChain(t, 2, types.DefaultParams())
	a, w := c.acc(0), c.acc(1)
	res := c.block(c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1))) // queued: no worker yet
	queued := c.submitResponse(res[0]).RequestId

	ctx := c.Branch(c.next())
	k := c.App.DeferralKeeper
	require.NoError(t, k.Queue.Set(ctx, collections.Join3(lowShard, uint64(0), uint64(999)))) // ahead of the real one
	sp, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	_, err = shardkeeper.NewMsgServerImpl(c.App.ShardKeeper).RegisterWorker(ctx, &shardtypes.MsgRegisterWorker{
		Worker: w.Address.String(), Classes: []shardtypes.ShardClass{low}, CapacityUnits: 5, Bond: sp.MinWorkerBond, StorageBytes: testStorageBytes,
	})
	require.NoError(t, err)

	require.NoError(t, k.EndBlocker(ctx), "one bad queue entry must not fail EndBlock")
	var failed []*types.EventEndBlockItemFailed
	for _, e := range ctx.EventManager().ABCIEvents() {
		if e.Type == "repshard.deferral.v1.EventEndBlockItemFailed" {
			failed = append(failed, apptest.TypedEvents[*types.EventEndBlockItemFailed](t, []abci.Event{e})...)
		}
	}
	require.Len(t, failed, 1)
	require.Equal(t, keeper.StepDrainQueues, failed[0].Step)
	require.Equal(t, "request/999", failed[0].Item)
	r, err := k.Requests.Get(ctx, queued)
	require.NoError(t, err)
	require.Equal(t, types.StatusAssigned, r.Status, "the request behind the bad entry is still served")
}

// A worker that let an assignment expire never gets that request back, even
// as the only worker of the shard with room: the request waits in the queue
// for another worker (or until its queue time to live ends).
func TestEndBlockExpiredWorkerIsExcludedFromTheRequest(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 2
	p.MaxAttempts = 3
	c := newDChain(t, 3, p)
	w, a, other := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w, high, 5})
	res := c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 2)))
	id := c.submitResponse(res[0]).RequestId
	require.Equal(t, w.Address.String(), c.request(id).Worker)

	c.blocks(2) // overdue: re-queued, w excluded
	c.blocks(3)
	r := c.request(id)
	require.Equal(t, types.StatusQueued, r.Status, "w has room and is the only worker, and still does not get it back")
	require.Equal(t, []string{w.Address.String()}, r.ExcludedWorkers)
	require.Zero(t, c.shardWorker(w.Address).InFlightUnits)

	// Another request still goes to w: the exclusion is per request.
	res = c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)))
	require.Equal(t, w.Address.String(), c.submitResponse(res[0]).Worker)

	c.register(workerSpec{other, high, 5})
	r = c.request(id)
	require.Equal(t, types.StatusAssigned, r.Status)
	require.Equal(t, other.Address.String(), r.Worker)
	require.Equal(t, uint32(2), r.Attempts)
}

// Requests at the head of a queue that only an excluded worker could take do
// not count against drain_lookahead: the request behind them, which that
// worker may take, is still drained (with drain_lookahead 1, two misses
// would end the scan before reaching it).
func TestEndBlockDrainPassesOverExcludedOnlyRequests(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 2
	p.MaxAttempts = 3
	p.DrainLookahead = 1
	c := newDChain(t, 2, p)
	w, a := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 10})
	res := c.block(
		c.tx(a, submitMsg(a, high, types.UrgencyNormal, 5), submitMsg(a, high, types.UrgencyNormal, 5),
			submitMsg(a, high, types.UrgencyNormal, 1)),
	)
	require.Zero(t, res[0].Code, res[0].Log)
	ids := []uint64{1, 2, 3} // the first requests of a fresh chain, in msg order
	r1, r2, r3 := c.request(ids[0]), c.request(ids[1]), c.request(ids[2])
	require.Equal(t, types.StatusAssigned, r1.Status)
	require.Equal(t, types.StatusAssigned, r2.Status)
	require.Equal(t, types.StatusQueued, r3.Status, "w is full")

	c.blocks(2) // r1 and r2 expire: re-queued at the head with w excluded; w is free
	r1, r2, r3 = c.request(ids[0]), c.request(ids[1]), c.request(ids[2])
	require.Equal(t, types.StatusQueued, r1.Status)
	require.Equal(t, types.StatusQueued, r2.Status)
	require.Less(t, r1.DueHeight, r3.DueHeight, "the re-queued requests are ahead of r3")
	require.Equal(t, types.StatusAssigned, r3.Status, "r3 is drained past the two requests only w could take")
	require.Equal(t, w.Address.String(), r3.Worker)
}
