//go:build system_test

package systemtests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/sjson"
)

// Governance, three proposals voted in one window. Text proposals, the
// legacy content x/gov still serves: one sent with
// `submit-legacy-proposal --type Text`, one with `submit-proposal` as a
// MsgExecLegacyContent; and a change of one x/deferral parameter
// (max_batch_requests) with the module's `update-params-proposal`. Each
// starts with half the minimum deposit and waits in its deposit period until
// the rest comes (from a second account for the text proposals), in one tx
// with the validators' votes: yes on the legacy text proposal, which passes
// (its content runs through the legacy router), no on the other, which is
// rejected, and yes on the params change, which passes: every node then
// reports the new value with every other parameter unchanged, and the chain
// enforces it (a batch above it fails). Deposits come back; a vote on a
// proposal that does not exist fails.
func TestGovTextProposalsAndDeferralParamsChange(t *testing.T) {
	c := sharedChain(t)
	const funds = 100_000_000
	addrs := c.newAccounts(funds, "gov-proposer", "gov-depositor", "gov-proposer2", "gov-depositor2", "gov-params")
	proposer, depositor, proposer2, depositor2, paramsProposer := addrs[0], addrs[1], addrs[2], addrs[3], addrs[4]
	minDep := c.q("gov", "params").Get("params.min_deposit.0")
	require.Equal(t, denom, minDep.Get("denom").String(), minDep.Raw)
	minDeposit := minDep.Get("amount").Int()
	half, rest := minDeposit/2, minDeposit-minDeposit/2
	before := c.q("deferral", "params").Get("params")
	require.NotEqualValues(t, 6, before.Get("max_batch_requests").Int())

	status := func(id string) string {
		return c.rest("/cosmos/gov/v1/proposals/" + id).Get("proposal.status").String()
	}

	// the three proposals, sent together
	legacyTx := c.broadcast("gov", "submit-legacy-proposal", "--type=Text", "--title=Signal A",
		"--description=a text proposal changes no state", fmt.Sprintf("--deposit=%d%s", half, denom),
		"--from=gov-proposer", "--gas=400000")
	prop := fmt.Sprintf(`{
  "messages": [{
    "@type": "/cosmos.gov.v1.MsgExecLegacyContent",
    "authority": %q,
    "content": {"@type": "/cosmos.gov.v1beta1.TextProposal", "title": "Signal B", "description": "a text proposal in a v1 proposal"}
  }],
  "metadata": "",
  "deposit": "%d%s",
  "title": "Signal B",
  "summary": "a text proposal in a v1 proposal"
}`, c.govAddress(), half, denom)
	v1Tx := c.broadcast("gov", "submit-proposal", writeFile(t, "proposal.json", prop), "--from=gov-proposer2", "--gas=400000")
	paramsTx := c.broadcast("deferral", "update-params-proposal", `{"max_batch_requests": 6}`,
		fmt.Sprintf("--deposit=%d%s", half, denom), "--title=deferral params", "--summary=system test",
		"--from=gov-params", "--gas=600000")
	passed, rejected, params := proposalID(t, c.waitTx(legacyTx)), proposalID(t, c.waitTx(v1Tx)), proposalID(t, c.waitTx(paramsTx))
	for _, id := range []string{passed, rejected, params} {
		require.Equal(t, "PROPOSAL_STATUS_DEPOSIT_PERIOD", status(id))
	}

	// the rest of each deposit and the validators' votes, in one tx (see
	// depositAndVote): the legacy text proposal and the params change get
	// yes, the other text proposal no
	res := c.depositAndVote([]deposit{
		{from: "gov-depositor", proposalID: passed, amount: rest},
		{from: "gov-depositor2", proposalID: rejected, amount: rest},
		{from: "gov-params", proposalID: params, amount: rest},
	}, map[string]string{passed: "yes", rejected: "no", params: "yes"})
	require.Zero(t, res.Get("code").Int(), res.Get("raw_log").String())

	// the state that tx left (read at its height: the voting period may be
	// over by the time a loaded machine gets here)
	at := "--height=" + res.Get("height").String()
	for _, id := range []string{passed, rejected, params} {
		require.Equal(t, "PROPOSAL_STATUS_VOTING_PERIOD", c.q("gov", "proposal", id, at).Get("proposal.status").String())
	}
	require.Len(t, c.q("gov", "deposits", passed, at).Get("deposits").Array(), 2)
	require.Len(t, c.q("gov", "votes", passed, at).Get("votes").Array(), c.sut.NodesCount())
	h := res.Get("height").Int()
	require.EqualValues(t, funds-half-fee, c.balanceAt(proposer, h))
	require.EqualValues(t, funds-rest-fee, c.balanceAt(depositor, h), "the first signer pays the fee")
	require.EqualValues(t, funds-rest, c.balanceAt(depositor2, h))

	c.txFails("inactive proposal", "gov", "vote", "999999", "yes", "--from=gov-depositor")

	require.Equal(t, "PROPOSAL_STATUS_PASSED", c.awaitProposalEnd(passed))
	require.Equal(t, "PROPOSAL_STATUS_REJECTED", c.awaitProposalEnd(rejected))
	require.Equal(t, "PROPOSAL_STATUS_PASSED", c.awaitProposalEnd(params))
	tally := c.q("gov", "proposal", passed).Get("proposal.final_tally_result")
	require.Positive(t, tally.Get("yes_count").Int(), tally.Raw)
	require.EqualValues(t, 0, tally.Get("no_count").Int(), tally.Raw)
	tally = c.q("gov", "proposal", rejected).Get("proposal.final_tally_result")
	require.Positive(t, tally.Get("no_count").Int(), tally.Raw)
	require.EqualValues(t, 0, tally.Get("yes_count").Int(), tally.Raw)

	// the deposits came back (nothing was vetoed)
	require.EqualValues(t, funds-fee, c.balance(proposer))
	require.EqualValues(t, funds-2*fee, c.balance(depositor))
	require.EqualValues(t, funds-fee, c.balance(proposer2))
	require.EqualValues(t, funds, c.balance(depositor2))
	require.EqualValues(t, funds-fee, c.balance(paramsProposer))

	// the params change: on every node, that field only
	want, err := sjson.Set(before.Raw, "max_batch_requests", 6)
	require.NoError(t, err)
	for i := range c.sut.NodesCount() {
		require.JSONEq(t, want, c.qAt(i, "deferral", "params").Get("params").Raw, "node%d", i)
	}
	// and enforced: a batch of seven is refused whole
	var lines []string
	for i := range 7 {
		lines = append(lines, fmt.Sprintf(`{"class":"data-intensive","compute_units":1,"max_fee":"1000000urep","payload":"job %d"}`, i))
	}
	c.txFails("invalid batch", "deferral", "submit-requests", writeFile(t, "jobs.jsonl", strings.Join(lines, "\n")+"\n"),
		"--from=gov-params", "--gas=3000000")
	require.Empty(t, c.rest("/repshard/deferral/v1/requesters/"+paramsProposer+"/requests").Get("requests").Array())
}
