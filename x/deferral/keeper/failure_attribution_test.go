package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
)

// failMsg is a failure report of worker on request id.
func failMsg(worker interface{ String() string }, id uint64, reason string) *types.MsgFailRequest {
	return &types.MsgFailRequest{Worker: worker.String(), RequestId: id, Reason: reason}
}

// failResponse decodes the response of a MsgFailRequest tx.
func (c *dchain) failResponse(i int, res []byte) types.MsgFailRequestResponse {
	c.t.Helper()
	var out types.MsgFailRequestResponse
	require.NoError(c.t, out.Unmarshal(res), "response %d", i)
	return out
}

// A worker that fails every request of a requester cannot sink that
// requester when another, honest worker serves the class: each false report
// sends the request back to the queue, the honest worker completes it, the
// requester's profile counts completions and no failure, and the lying worker
// is owed nothing for its reports.
func TestFalseFailureReportsDoNotSinkTheRequester(t *testing.T) {
	p := types.DefaultParams() // failure_confirmations 2
	c := newDChain(t, 3, p)
	liar, honest, requester := c.acc(0), c.acc(1), c.acc(2)
	// Best fit gives each request to the liar first: its free capacity (5) is
	// the smallest that fits.
	c.register(workerSpec{liar, high, 5}, workerSpec{honest, high, 10})

	const n = 3
	var msgs []types.MsgSubmitRequest
	for i := 0; i < n; i++ {
		msgs = append(msgs, *submitMsg(requester, high, types.UrgencyNormal, 1))
	}
	res := c.block(c.tx(requester, &msgs[0], &msgs[1], &msgs[2]))
	responses := txMsgResponses(t, res[0])
	var ids []uint64
	for _, r := range responses {
		var out types.MsgSubmitRequestResponse
		require.NoError(t, out.Unmarshal(r))
		require.Equal(t, liar.Address.String(), out.Worker, "best fit assigns to the smaller worker")
		ids = append(ids, out.RequestId)
	}
	liarOwedBefore := c.owed(liar.Address)

	var reports []byte
	{
		var fails []*types.MsgFailRequest
		for _, id := range ids {
			fails = append(fails, failMsg(liar.Address, id, "input rejected"))
		}
		reports = c.tx(liar, fails[0], fails[1], fails[2])
	}
	res = c.block(reports)
	for i, r := range txMsgResponses(t, res[0]) {
		out := c.failResponse(i, r)
		require.Equal(t, types.StatusQueued, out.Status, "one report is not final")
		require.Equal(t, uint32(1), out.FailureReports)
	}
	// The same block's drain gave every request to the honest worker.
	for _, id := range ids {
		r := c.request(id)
		require.Equal(t, types.StatusAssigned, r.Status)
		require.Equal(t, honest.Address.String(), r.Worker)
		require.Equal(t, []string{liar.Address.String()}, r.ExcludedWorkers)
		require.Len(t, r.FailureReports, 1)
	}
	require.Zero(t, c.shardWorker(liar.Address).InFlightUnits, "the reports took the requests off the liar")

	res = c.block(c.tx(honest, completeMsg(honest, ids[0]), completeMsg(honest, ids[1]), completeMsg(honest, ids[2])))
	for _, id := range ids {
		require.Equal(t, types.StatusCompleted, c.request(id).Status)
	}
	prof := c.profile(requester.Address)
	require.Equal(t, uint64(n), prof.Completed)
	require.Zero(t, prof.Failed, "contradicted reports never count against the requester")
	require.True(t, c.owed(liar.Address).Equal(liarOwedBefore), "the liar is owed nothing for its reports: %s", c.owed(liar.Address))
	require.True(t, c.owed(honest.Address).IsPositive())
	require.Equal(t, uint64(3), c.shardWorker(liar.Address).Failed, "x/shard counts the liar's reports")

	// Worker reputation: each report was contradicted by the honest
	// worker's completion; the liar now ranks below the honest worker.
	liarProf, honestProf := c.workerProfile(liar.Address), c.workerProfile(honest.Address)
	require.Equal(t, uint64(n), liarProf.FailuresContradicted)
	require.Equal(t, uint64(n), honestProf.Completions)
	require.Less(t, liarProf.Score, honestProf.Score, "the liar's worker score falls below the honest worker's")
}

// workerProfile returns a worker's profile in x/reputation (as of the last
// committed block).
func (c *dchain) workerProfile(addr interface{ String() string }) reputationtypes.WorkerProfile {
	c.t.Helper()
	acc, err := sdk.AccAddressFromBech32(addr.String())
	require.NoError(c.t, err)
	p, found, err := c.App.ReputationKeeper.GetWorkerProfile(c.Committed(), acc)
	require.NoError(c.t, err)
	require.True(c.t, found, "no worker profile for %s", addr)
	return p
}

// A failure is final only when failure_confirmations distinct workers
// reported it: then the request ends FAILED, the requester's profile counts
// one failure, failure_refund_ppm of the fee goes back to the requester and
// the rest is split between the reporting workers.
func TestConfirmedFailureEndsFailedAndPaysEveryReporter(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 3, p)
	first, second, requester := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{first, high, 5}, workerSpec{second, high, 10})

	res := c.block(c.tx(requester, submitMsg(requester, high, types.UrgencyNormal, 3)))
	sub := c.submitResponse(res[0])
	require.Equal(t, first.Address.String(), sub.Worker)
	fee := sub.Fee.Amount
	balanceBefore := c.balance(requester.Address)
	owedFirst, owedSecond := c.owed(first.Address), c.owed(second.Address)

	res = c.block(c.tx(first, failMsg(first.Address, sub.RequestId, "corrupt input")))
	require.Equal(t, types.StatusQueued, c.failResponse(0, txMsgResponses(t, res[0])[0]).Status)
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusAssigned, r.Status, "re-assigned in the same block")
	require.Equal(t, second.Address.String(), r.Worker)
	require.Zero(t, c.profile(requester.Address).Failed, "not yet confirmed")

	res = c.block(c.tx(second, failMsg(second.Address, sub.RequestId, "corrupt input too")))
	out := c.failResponse(0, txMsgResponses(t, res[0])[0])
	require.Equal(t, types.StatusFailed, out.Status)
	require.Equal(t, uint32(2), out.FailureReports)

	r = c.request(sub.RequestId)
	require.Equal(t, types.StatusFailed, r.Status)
	require.Equal(t, "corrupt input too", r.FailureReason)
	require.Len(t, r.FailureReports, 2)
	require.Equal(t, uint64(1), c.profile(requester.Address).Failed)

	refund := fee.MulRaw(int64(p.FailureRefundPpm)).QuoRaw(1_000_000)
	require.True(t, c.balance(requester.Address).Equal(balanceBefore.Add(refund)), "refund of %s", refund)
	gotFirst, gotSecond := c.owed(first.Address).Sub(owedFirst), c.owed(second.Address).Sub(owedSecond)
	require.True(t, gotFirst.Add(gotSecond).Equal(fee.Sub(refund)), "the workers share the rest: %s + %s", gotFirst, gotSecond)
	require.True(t, gotFirst.IsPositive() && gotSecond.IsPositive(), "both reporters are paid")
	require.True(t, gotFirst.Sub(gotSecond).Abs().LTE(sdkmath.OneInt()), "in equal parts: %s vs %s", gotFirst, gotSecond)
	require.Equal(t, uint64(1), c.workerProfile(first.Address).FailuresConfirmed)
	require.Equal(t, uint64(1), c.workerProfile(second.Address).FailuresConfirmed)
}

// When no other worker of the class exists, a reported request waits in the
// queue; when its queue time to live ends it expires with a full refund and
// counts against nobody.
func TestReportedRequestWithoutAnotherWorkerExpiresWithFullRefund(t *testing.T) {
	p := types.DefaultParams()
	p.MaxWaitBlocks = 5
	p.QueueTtlBlocks = 10
	c := newDChain(t, 2, p)
	only, requester := c.acc(0), c.acc(1)
	c.register(workerSpec{only, high, 10})

	submitted := c.next()
	res := c.block(c.tx(requester, submitMsg(requester, high, types.UrgencyNormal, 2)))
	sub := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, sub.Status)
	paid := c.balance(requester.Address)

	c.block(c.tx(only, failMsg(only.Address, sub.RequestId, "no")))
	for c.next() < submitted+int64(p.QueueTtlBlocks) {
		r := c.request(sub.RequestId)
		require.Equal(t, types.StatusQueued, r.Status, "height %d: it waits for another worker", c.next())
		c.block()
	}
	c.block()
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusExpired, r.Status)
	require.True(t, c.balance(requester.Address).Equal(paid.Add(sub.Fee.Amount)), "full refund")
	prof := c.profile(requester.Address)
	require.Zero(t, prof.Failed)
	require.Zero(t, prof.Expired, "a request nobody could serve counts against nobody")
	require.Zero(t, c.owed(only.Address).Int64(), "an unconfirmed report earns nothing")
}

// A worker cannot report twice on the same request (the first report took
// it off the worker), nor report on a request it does not hold: typed errors,
// nothing changed.
func TestFailureReportBadInput(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 4, p)
	w, other, requester, stranger := c.acc(0), c.acc(1), c.acc(2), c.acc(3)
	c.register(workerSpec{w, high, 5}, workerSpec{other, high, 10})
	res := c.block(c.tx(requester, submitMsg(requester, high, types.UrgencyNormal, 1)))
	id := c.submitResponse(res[0]).RequestId

	c.failsWithoutEffect(stranger, types.ErrNotAssignedWorker, failMsg(stranger.Address, id, "not mine"))
	c.block(c.tx(w, failMsg(w.Address, id, "first")))
	require.Equal(t, other.Address.String(), c.request(id).Worker)
	c.failsWithoutEffect(w, types.ErrNotAssignedWorker, failMsg(w.Address, id, "again"))
	c.failsWithoutEffect(w, types.ErrRequestNotFound, failMsg(w.Address, 999, "no such request"))
}

// A request out of attempts when a report comes in ends EXPIRED: full
// refund, counted against nobody.
func TestFailureReportOnTheLastAttemptExpires(t *testing.T) {
	p := types.DefaultParams()
	p.MaxAttempts = 2
	p.FailureConfirmations = 2
	p.AssignmentTimeoutBlocks = 2
	c := newDChain(t, 4, p)
	silent, reporter, requester := c.acc(0), c.acc(1), c.acc(2)
	// The silent worker gets it first and lets it expire (attempt 1); the
	// reporter gets it next (attempt 2) and reports failure: no attempt left.
	c.register(workerSpec{silent, high, 5}, workerSpec{reporter, high, 10})
	res := c.block(c.tx(requester, submitMsg(requester, high, types.UrgencyNormal, 1)))
	sub := c.submitResponse(res[0])
	require.Equal(t, silent.Address.String(), sub.Worker)
	paid := c.balance(requester.Address)
	for c.request(sub.RequestId).Worker != reporter.Address.String() {
		c.block()
	}
	res = c.block(c.tx(reporter, failMsg(reporter.Address, sub.RequestId, "cannot")))
	require.Equal(t, types.StatusExpired, c.failResponse(0, txMsgResponses(t, res[0])[0]).Status)
	r := c.request(sub.RequestId)
	require.Equal(t, types.StatusExpired, r.Status)
	require.True(t, c.balance(requester.Address).Equal(paid.Add(sub.Fee.Amount)))
	require.Zero(t, c.profile(requester.Address).Failed)
}
