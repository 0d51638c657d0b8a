package keeper_test

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/types"
)

// replicatedMsg asks for replicas workers of the high-priority class.
func replicatedMsg(from apptest.Account, units uint64, replicas uint32) *types.MsgSubmitRequest {
	m := submitMsg(from, high, types.UrgencyNormal, units)
	m.Replicas = replicas
	return m
}

// hashOf is a result hash named by a word.
func hashOf(word string) []byte {
	h := sha256.Sum256([]byte(word))
	return h[:]
}

func reportHash(worker apptest.Account, id uint64, word string) *types.MsgCompleteRequest {
	return &types.MsgCompleteRequest{Worker: worker.Address.String(), RequestId: id, ResultHash: hashOf(word)}
}

// replicaWorkers returns the workers of a request's replicas, in order.
func (c *dchain) replicaWorkers(id uint64) []string {
	var out []string
	for _, run := range c.request(id).ReplicaRuns {
		out = append(out, run.Worker)
	}
	return out
}

// Replicas that agree complete the request: each is paid one share, and the
// shares escrowed for tie-breakers go back to the requester.
func TestReplicasThatAgreeCompleteAndAreEachPaid(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 4, p)
	w1, w2, w3, requester := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10}, workerSpec{w3, high, 10})

	before := c.balance(requester.Address)
	res := c.block(c.tx(requester, replicatedMsg(requester, 2, 3)))
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, sub.Status)
	require.Len(t, sub.ReplicaWorkers, 3)
	share := sdkmath.NewInt(2_000) // 2 normal units at the floor price 1_000
	require.True(t, sub.Fee.Amount.Equal(share.MulRaw(int64(3+p.MaxTiebreakReplicas))), "one share per possible replica: %s", sub.Fee)
	for _, w := range []apptest.Account{w1, w2, w3} {
		require.Equal(t, uint64(2), c.shardWorker(w.Address).InFlightUnits, "every replica holds the units")
	}
	owedBefore := map[string]sdkmath.Int{}
	for _, w := range []apptest.Account{w1, w2, w3} {
		owedBefore[w.Address.String()] = c.owed(w.Address)
	}

	// Two reports: the request waits for the third replica.
	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "42")), c.tx(w2, reportHash(w2, sub.RequestId, "42")))
	require.Equal(t, types.StatusAssigned, c.request(sub.RequestId).Status, "decided only when no replica runs")
	// An assigned replicated request (no single worker: its replica runs hold
	// it) exports into a genesis that validates.
	exported, err := c.App.DeferralKeeper.ExportGenesis(c.Committed())
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	c.block(c.tx(w3, reportHash(w3, sub.RequestId, "42")))

	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusCompleted, r.Status)
	require.Equal(t, hashOf("42"), r.ResultHash)
	for _, run := range r.ReplicaRuns {
		require.Equal(t, types.ReplicaReported, run.Status)
	}
	for _, w := range []apptest.Account{w1, w2, w3} {
		require.Zero(t, c.shardWorker(w.Address).InFlightUnits)
		require.True(t, c.owed(w.Address).GT(owedBefore[w.Address.String()]), "%s is paid", w.Address)
	}
	spent := before.Sub(c.balance(requester.Address)).Sub(txFee.Amount)
	require.True(t, spent.Equal(share.MulRaw(3)), "the requester pays three shares, got %s", spent)
	require.Equal(t, uint64(1), c.profile(requester.Address).Completed)
}

// Two replicas that report different hashes do not complete the request: a
// tie-break replica goes to a worker that has not run it, and when it agrees
// with one of them the request completes with that hash; the dissenter is
// not paid and loses part of its bond.
func TestTieBreakReplicaDecidesAndTheDissenterIsSlashed(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 4, p)
	w1, w2, w3, requester := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	// w3 has the most room: best fit gives the first two replicas to w1 and w2.
	c.register(workerSpec{w1, high, 5}, workerSpec{w2, high, 6}, workerSpec{w3, high, 10})

	before := c.balance(requester.Address)
	res := c.block(c.tx(requester, replicatedMsg(requester, 1, 2)))
	sub := c.submitResponse(res[0])
	require.ElementsMatch(t, []string{w1.Address.String(), w2.Address.String()}, sub.ReplicaWorkers)
	share := sdkmath.NewInt(1_000) // 1 normal unit at the floor price
	bondBefore := c.shardWorker(w2.Address).Bond.Amount
	owed1, owed2, owed3 := c.owed(w1.Address), c.owed(w2.Address), c.owed(w3.Address)

	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "right")), c.tx(w2, reportHash(w2, sub.RequestId, "wrong")))
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusAssigned, r.Status, "no majority: a tie-break replica was assigned in the same block")
	require.Equal(t, uint32(1), r.TiebreakUsed)
	require.Equal(t, []string{w1.Address.String(), w2.Address.String(), w3.Address.String()}, c.replicaWorkers(sub.RequestId))
	require.Empty(t, r.ResultHash)

	c.block(c.tx(w3, reportHash(w3, sub.RequestId, "right")))
	r = c.request(sub.RequestId)
	require.Equal(t, types.StatusCompleted, r.Status)
	require.Equal(t, hashOf("right"), r.ResultHash)
	require.True(t, c.owed(w1.Address).GT(owed1), "agreeing replica paid")
	require.True(t, c.owed(w3.Address).GT(owed3), "agreeing tie-breaker paid")
	require.True(t, c.owed(w2.Address).Equal(owed2), "the dissenter is not paid")
	bondAfter := c.shardWorker(w2.Address).Bond.Amount
	wantSlash := bondBefore.MulRaw(int64(p.DissentSlashPpm)).QuoRaw(1_000_000)
	require.True(t, bondBefore.Sub(bondAfter).Equal(wantSlash), "dissent slash %s, want %s", bondBefore.Sub(bondAfter), wantSlash)
	spent := before.Sub(c.balance(requester.Address)).Sub(txFee.Amount)
	require.True(t, spent.Equal(share.MulRaw(2)), "two agreeing shares paid, the rest refunded: spent %s", spent)
	require.Equal(t, uint64(1), c.workerProfile(w1.Address).QuorumAgreements)
	require.Equal(t, uint64(1), c.workerProfile(w3.Address).QuorumAgreements)
	require.Equal(t, uint64(1), c.workerProfile(w2.Address).QuorumDisagreements)
	require.Less(t, c.workerProfile(w2.Address).Score, c.workerProfile(w1.Address).Score)
}

// When the tie-break budget cannot produce a majority, the request ends
// NO_QUORUM: nobody is paid, the requester gets the whole fee back and its
// reputation does not count the request.
func TestNoQuorumRefundsEverything(t *testing.T) {
	p := types.DefaultParams()
	p.MaxTiebreakReplicas = 0
	c := newDChain(t, 3, p)
	w1, w2, requester := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w1, high, 5}, workerSpec{w2, high, 6})
	before := c.balance(requester.Address)
	res := c.block(c.tx(requester, replicatedMsg(requester, 1, 2)))
	sub := c.submitResponse(res[0])
	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "a")), c.tx(w2, reportHash(w2, sub.RequestId, "b")))

	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusNoQuorum, r.Status)
	require.True(t, c.balance(requester.Address).Equal(before.Sub(txFee.Amount)), "full refund")
	prof := c.profile(requester.Address)
	require.Zero(t, prof.Completed+prof.Failed+prof.Expired, "counts against nobody")
	require.True(t, c.owed(w1.Address).IsZero() && c.owed(w2.Address).IsZero(), "nobody is paid without a quorum")
}

// Replicas never run on the requester's own account: with only one other
// worker of the class, a 2-replica request waits in the queue.
func TestReplicasNeverRunOnTheRequester(t *testing.T) {
	c := newDChain(t, 3, types.DefaultParams())
	self, other, third := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{self, high, 10}, workerSpec{other, high, 10})
	res := c.block(c.tx(self, replicatedMsg(self, 1, 2)))
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusQueued, sub.Status)
	require.Equal(t, types.DeferNoCapacity, sub.DeferReason)
	c.blocks(3)
	require.Equal(t, types.StatusQueued, c.request(sub.RequestId).Status)
	require.Empty(t, c.replicaWorkers(sub.RequestId), "all or none: one worker is not enough")

	c.register(workerSpec{third, high, 10})
	require.ElementsMatch(t, []string{other.Address.String(), third.Address.String()}, c.replicaWorkers(sub.RequestId))
	require.Equal(t, types.StatusAssigned, c.request(sub.RequestId).Status)
}

// Replicated requests refuse bad input with typed errors and change nothing.
func TestReplicaBadInput(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 4, p)
	w1, w2, requester, stranger := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10})

	c.failsWithoutEffect(requester, types.ErrInvalidReplicas, replicatedMsg(requester, 1, p.MaxReplicas+1))
	tooLow := replicatedMsg(requester, 1, 2)
	tooLow.MaxFee = urepOf(2_000) // two shares, not 2 + tie-break
	c.failsWithoutEffect(requester, types.ErrMaxFeeTooLow, tooLow)

	res := c.block(c.tx(requester, replicatedMsg(requester, 1, 2)))
	id := c.submitResponse(res[0]).RequestId
	c.failsWithoutEffect(stranger, types.ErrNotAssignedWorker, reportHash(stranger, id, "x"))
	c.failsWithoutEffect(stranger, types.ErrNotAssignedWorker, failMsg(stranger.Address, id, "x"))
	c.block(c.tx(w1, reportHash(w1, id, "x")))
	c.failsWithoutEffect(w1, types.ErrNotAssignedWorker, reportHash(w1, id, "again"))
}

// Replicas that let their deadline pass are penalised like any expired
// assignment and do not count; the replicas still needed go to other workers.
func TestExpiredReplicasAreReplaced(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 3
	c := newDChain(t, 5, p)
	w1, w2, w3, silent, requester := c.acc(0), c.acc(1), c.acc(2), c.acc(3), c.acc(4)
	c.register(workerSpec{silent, high, 4}, workerSpec{w1, high, 5}, workerSpec{w2, high, 6}, workerSpec{w3, high, 10})
	res := c.block(c.tx(requester, replicatedMsg(requester, 1, 3)))
	sub := c.submitResponse(res[0])
	require.ElementsMatch(t, []string{silent.Address.String(), w1.Address.String(), w2.Address.String()}, sub.ReplicaWorkers)

	c.block(c.tx(w1, reportHash(w1, sub.RequestId, "ok")), c.tx(w2, reportHash(w2, sub.RequestId, "ok")))
	require.Equal(t, types.StatusAssigned, c.request(sub.RequestId).Status, "the silent replica still runs")
	for c.request(sub.RequestId).Status == types.StatusAssigned {
		c.block()
	}
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusCompleted, r.Status, "two of three agreeing is a majority once the third expired")
	require.Equal(t, types.ReplicaExpired, r.ReplicaRuns[0].Status)
	require.Equal(t, uint64(1), c.shardWorker(silent.Address).Expired)
	require.Equal(t, uint64(1), c.workerProfile(silent.Address).Expiries, "an expiry counts against the worker's reputation")
}
