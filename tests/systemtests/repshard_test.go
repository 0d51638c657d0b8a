//go:build system_test

package systemtests

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Typed events of the repshard modules.
const (
	evSubmitted   = "repshard.deferral.v1.EventRequestSubmitted"
	evAssigned    = "repshard.deferral.v1.EventRequestAssigned"
	evCompleted   = "repshard.deferral.v1.EventRequestCompleted"
	evWorkerPaid  = "repshard.rewards.v1.EventWorkerPaid"
	evClaimed     = "repshard.rewards.v1.EventRewardsClaimed"
	workerStorage = "--storage-bytes=1073741824"
)

// registerWorker registers key as a worker of class with the minimum bond and
// returns the bond.
func (c *chain) registerWorker(key, class string, capacity int) int64 {
	c.t.Helper()
	bond := c.rest("/repshard/shard/v1/params").Get("params.min_worker_bond.amount").Int()
	require.Positive(c.t, bond)
	c.tx("shard", "register-worker", class, strconv.Itoa(capacity), fmt.Sprintf("%d%s", bond, denom),
		workerStorage, "--from="+key, repshardGas)
	return bond
}

// sha256Hex is the hex sha256 of s, the result hash a worker reports.
func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// A worker registers (its bond leaves its account and its record is ACTIVE in
// a shard of its class); a requester is quoted a fee, submits a request that
// is assigned to the worker at once with exactly the quoted fee escrowed;
// the worker completes it with the result hash; the fee is split between the
// worker's earnings and the protocol share, the requester's reputation and
// the worker's record count the completion, and the worker claims its
// earnings into its account. A second completion and a submission below the
// price fail with their typed errors and move nothing but the tx fee.
func TestRepshardWorkerRequestLifecycle(t *testing.T) {
	c := sharedChain(t)
	const funds = 200_000_000
	addrs := c.newAccounts(funds, "lifecycle-worker", "lifecycle-requester")
	worker, requester := addrs[0], addrs[1]

	bond := c.registerWorker("lifecycle-worker", "low-priority", 100)
	w := c.q("shard", "worker", worker).Get("worker")
	require.Equal(t, "WORKER_STATUS_ACTIVE", w.Get("status").String(), w.Raw)
	require.Equal(t, bond, w.Get("bond.amount").Int())
	require.JSONEq(t, `["SHARD_CLASS_LOW_PRIORITY"]`, w.Get("classes").Raw)
	require.EqualValues(t, 100, w.Get("capacity_units").Int())
	require.EqualValues(t, funds-bond-fee, c.balance(worker), "the bond is escrowed")
	shard := c.q("shard", "shard", w.Get("shard_id").String())
	require.Equal(t, "SHARD_CLASS_LOW_PRIORITY", shard.Get("shard.class").String(), shard.Raw)

	// the quote, over the CLI and REST
	quote := c.q("deferral", "quote", "low-priority", "2", "--requester="+requester).Get("quote")
	quoted := quote.Get("fee.amount").Int()
	require.Positive(t, quoted, quote.Raw)
	require.Equal(t, quote.Get("shard_id").String(), w.Get("shard_id").String(), "the request routes to the worker's shard")
	restQuote := c.rest("/repshard/deferral/v1/quote/SHARD_CLASS_LOW_PRIORITY/2?requester=" + requester)
	require.Equal(t, quoted, restQuote.Get("quote.fee.amount").Int(), restQuote.Raw)

	const payload = "system test: lifecycle"
	res := c.tx("deferral", "submit-request", "low-priority", "2", fmt.Sprintf("%d%s", 2*quoted, denom),
		"--payload="+payload, "--from=lifecycle-requester", repshardGas)
	id := event(res, evSubmitted, "request_id").String()
	escrowed := event(res, evSubmitted, "fee").Get("amount").Int()
	require.NotEmpty(t, id)
	require.Equal(t, worker, event(res, evAssigned, "worker").String(), "assigned at once to the only worker of the class")
	// the quote of the state the tx ran on is the fee it escrowed
	quotedThen := c.q("deferral", "quote", "low-priority", "2", "--requester="+requester,
		"--height="+strconv.FormatInt(res.Get("height").Int()-1, 10)).Get("quote.fee.amount").Int()
	require.Equal(t, quotedThen, escrowed)
	require.EqualValues(t, funds-escrowed-fee, c.balance(requester))

	req := c.q("deferral", "request", id).Get("request")
	require.Equal(t, "REQUEST_STATUS_ASSIGNED", req.Get("status").String(), req.Raw)
	require.Equal(t, worker, req.Get("worker").String())
	require.False(t, req.Get("deferred").Bool())
	require.Equal(t, []string{id}, ids(c.q("deferral", "requests-by-worker", worker).Get("requests")))
	require.EqualValues(t, 2, c.rest("/repshard/shard/v1/workers/"+worker).Get("worker.in_flight_units").Int())

	// completion: the fee splits into the worker's earnings and the protocol share
	workerBal := c.balance(worker)
	res = c.tx("deferral", "complete-request", id, sha256Hex(payload), "--from=lifecycle-worker", repshardGas)
	require.Equal(t, id, event(res, evCompleted, "request_id").String())
	earned := event(res, evWorkerPaid, "worker_share").Get("amount").Int()
	protocol := event(res, evWorkerPaid, "protocol_share").Get("amount").Int()
	require.Positive(t, earned)
	require.Equal(t, escrowed, earned+protocol, "the escrowed fee is paid out in full")
	req = c.q("deferral", "request", id).Get("request")
	require.Equal(t, "REQUEST_STATUS_COMPLETED", req.Get("status").String(), req.Raw)
	hash, err := hex.DecodeString(sha256Hex(payload))
	require.NoError(t, err)
	require.Equal(t, base64.StdEncoding.EncodeToString(hash), req.Get("result_hash").String())
	require.Equal(t, workerBal-fee, c.balance(worker), "earnings wait for a claim")
	require.Equal(t, earned, c.q("rewards", "pending-rewards", worker).Get("fees.amount").Int())
	w = c.rest("/repshard/shard/v1/workers/" + worker).Get("worker")
	require.EqualValues(t, 1, w.Get("completed").Int(), w.Raw)
	require.EqualValues(t, 0, w.Get("in_flight_units").Int())

	// reputation: the requester's completion, the worker's record
	prof := c.q("reputation", "profile", requester).Get("profile")
	require.EqualValues(t, 1, prof.Get("submitted").Int(), prof.Raw)
	require.EqualValues(t, 1, prof.Get("completed").Int(), prof.Raw)
	restProf := c.rest("/repshard/reputation/v1/profiles/" + requester)
	require.Equal(t, prof.Get("score").Int(), restProf.Get("profile.score").Int(), restProf.Raw)
	wprof := c.q("reputation", "worker-profile", worker)
	require.True(t, wprof.Get("found").Bool(), wprof.Raw)
	require.EqualValues(t, 1, wprof.Get("profile.completions").Int(), wprof.Raw)

	// the claim pays the earnings (and any epoch rewards) into the account
	res = c.tx("rewards", "claim-rewards", "--from=lifecycle-worker", repshardGas)
	claimed := event(res, evClaimed, "amount").Get("amount").Int()
	require.GreaterOrEqual(t, claimed, earned)
	require.Equal(t, workerBal-2*fee+claimed, c.balance(worker))
	require.EqualValues(t, 0, c.q("rewards", "pending-rewards", worker).Get("fees.amount").Int())

	// a second completion is refused with a typed error, moving nothing but the tx fee
	workerBal = c.balance(worker)
	c.txFails("request is not assigned", "deferral", "complete-request", id, sha256Hex(payload),
		"--from=lifecycle-worker", repshardGas)
	require.Equal(t, workerBal-fee, c.balance(worker))
	// a max fee below the price is refused with the fee in the error; nothing is escrowed
	reqBal := c.balance(requester)
	c.txFails("max fee below the price", "deferral", "submit-request", "low-priority", "2", "1"+denom,
		"--payload=too cheap", "--from=lifecycle-requester", repshardGas)
	require.Equal(t, reqBal-fee, c.balance(requester))
	require.Equal(t, []string{id}, ids(c.q("deferral", "requests-by-requester", requester).Get("requests")))
}

// ids lists the "id" of each request of a query's list.
func ids(list gjson.Result) []string {
	var out []string
	for _, r := range list.Array() {
		out = append(out, r.Get("id").String())
	}
	return out
}

// A batch of five requests in one tx (submit-requests, one JSON object per
// line) records five requests, each assigned to the class's worker and
// escrowing its own fee, for one tx fee; a batch with one bad entry fails
// whole, naming the entry, and records nothing. The worker completes the
// five in one tx of five messages, signed offline in amino-JSON (the repshard
// msgs' amino names) and broadcast.
func TestRepshardBatchSubmission(t *testing.T) {
	c := sharedChain(t)
	const funds = 200_000_000
	addrs := c.newAccounts(funds, "batch-worker", "batch-requester")
	worker, requester := addrs[0], addrs[1]
	bond := c.registerWorker("batch-worker", "compute-intensive", 100)

	var lines []string
	for i := range 5 {
		lines = append(lines, fmt.Sprintf(`{"class":"compute-intensive","compute_units":%d,"max_fee":"1000000urep","payload":"batch job %d"}`, i+1, i))
	}
	res := c.tx("deferral", "submit-requests", writeFile(t, "jobs.jsonl", strings.Join(lines, "\n")+"\n"),
		"--from=batch-requester", "--gas=3000000")
	submitted := events(res, evSubmitted, "request_id")
	require.Len(t, submitted, 5)
	var escrowed int64
	for _, f := range events(res, evSubmitted, "fee") {
		escrowed += f.Get("amount").Int()
	}
	assigned := events(res, evAssigned, "worker")
	require.Len(t, assigned, 5, "a free worker takes every entry at once")
	for _, a := range assigned {
		require.Equal(t, worker, a.String())
	}
	require.EqualValues(t, funds-escrowed-fee, c.balance(requester), "five fees escrowed, one tx fee")
	var batchIDs []string
	for _, s := range submitted {
		batchIDs = append(batchIDs, s.String())
	}
	require.Equal(t, batchIDs, ids(c.q("deferral", "requests-by-requester", requester).Get("requests")))
	require.EqualValues(t, 1+2+3+4+5, c.rest("/repshard/shard/v1/workers/"+worker).Get("worker.in_flight_units").Int())

	// one bad entry (entry 1: a max fee below its price) fails the whole
	// batch on chain; a malformed line is refused before signing
	bad := []string{lines[0], `{"class":"compute-intensive","compute_units":2,"max_fee":"1urep","payload":"too cheap"}`, lines[2]}
	reqBal := c.balance(requester)
	c.txFails("request 1 of the batch (counting from 0): max fee 1urep", "deferral", "submit-requests", writeFile(t, "bad.jsonl", strings.Join(bad, "\n")+"\n"),
		"--from=batch-requester", "--gas=3000000")
	require.Equal(t, reqBal-fee, c.balance(requester))
	c.txRefused("line 2: class, compute_units (positive) and max_fee are required", "deferral", "submit-requests",
		writeFile(t, "malformed.jsonl", lines[0]+"\n"+`{"class":"compute-intensive","compute_units":0,"max_fee":"1urep"}`+"\n"),
		"--from=batch-requester", "--gas=3000000")
	require.Equal(t, reqBal-fee, c.balance(requester))
	require.Len(t, c.rest("/repshard/deferral/v1/requesters/"+requester+"/requests").Get("requests").Array(), 5)

	// the worker completes the five in one tx, signed offline in amino-JSON
	unsigned, _ := c.cli.RunOnly("tx", "deferral", "complete-request", batchIDs[0], sha256Hex("batch job 0"),
		"--from=batch-worker", "--generate-only", "--gas=2000000", "--fees="+feeCoins)
	tx := lastJSON(unsigned).Raw
	require.NotEmpty(t, tx, unsigned)
	for i, id := range batchIDs[1:] {
		hash, err := hex.DecodeString(sha256Hex(fmt.Sprintf("batch job %d", i+1)))
		require.NoError(t, err)
		msg := fmt.Sprintf(`{"@type":"/repshard.deferral.v1.MsgCompleteRequest","worker":%q,"request_id":%q,"result_hash":%q}`,
			worker, id, base64.StdEncoding.EncodeToString(hash))
		var err2 error
		tx, err2 = sjson.SetRaw(tx, "body.messages.-1", msg)
		require.NoError(t, err2)
	}
	signed := c.signTx(writeFile(t, "complete.json", tx), "batch-worker", "--sign-mode=amino-json")
	res = c.waitTx(c.broadcastSigned(signed))
	require.Zero(t, res.Get("code").Int(), res.Get("raw_log").String())
	completed := events(res, evCompleted, "request_id")
	require.Len(t, completed, 5)
	for _, id := range batchIDs {
		require.Equal(t, "REQUEST_STATUS_COMPLETED", c.rest("/repshard/deferral/v1/requests/"+id).Get("request.status").String())
	}
	w := c.rest("/repshard/shard/v1/workers/" + worker).Get("worker")
	require.EqualValues(t, 0, w.Get("in_flight_units").Int(), w.Raw)
	require.EqualValues(t, 5, w.Get("completed").Int(), w.Raw)
	require.EqualValues(t, funds-bond-2*fee, c.balance(worker))
}
