//go:build system_test

package systemtests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Text proposals, the legacy content x/gov still serves: one sent with
// `submit-legacy-proposal --type Text`, one with `submit-proposal` as a
// MsgExecLegacyContent, each with half the minimum deposit, wait in their
// deposit period until second accounts deposit the rest; the validators vote
// yes on the first, which passes (its content runs through the legacy
// router), and no on the second, which is rejected. Both deposits come back.
// A vote on a proposal that does not exist fails.
func TestGovTextProposalsDepositVoteTally(t *testing.T) {
	c := sharedChain(t)
	const funds = 100_000_000
	addrs := c.newAccounts(funds, "gov-proposer", "gov-depositor", "gov-proposer2", "gov-depositor2")
	proposer, depositor, proposer2, depositor2 := addrs[0], addrs[1], addrs[2], addrs[3]
	minDeposit := c.q("gov", "params").Get("params.min_deposit.0.amount").Int()
	require.Positive(t, minDeposit)
	half, rest := minDeposit/2, minDeposit-minDeposit/2

	status := func(id string) string {
		return c.rest("/cosmos/gov/v1/proposals/" + id).Get("proposal.status").String()
	}

	// the legacy text proposal, and a v1 proposal carrying a text proposal as
	// legacy content, sent together
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
	passed, rejected := proposalID(t, c.waitTx(legacyTx)), proposalID(t, c.waitTx(v1Tx))
	require.Equal(t, "PROPOSAL_STATUS_DEPOSIT_PERIOD", status(passed))
	require.Equal(t, "PROPOSAL_STATUS_DEPOSIT_PERIOD", status(rejected))

	votes := c.signValidatorVotes(map[string]string{passed: "yes", rejected: "no"})
	deposits := []string{
		c.broadcast("gov", "deposit", passed, fmt.Sprintf("%d%s", rest, denom), "--from=gov-depositor", "--gas=400000"),
		c.broadcast("gov", "deposit", rejected, fmt.Sprintf("%d%s", rest, denom), "--from=gov-depositor2", "--gas=400000"),
	}
	for _, h := range deposits {
		require.Zero(t, c.waitTx(h).Get("code").Int())
	}
	c.broadcastEncoded(votes)

	require.Equal(t, "PROPOSAL_STATUS_VOTING_PERIOD", status(passed))
	require.Len(t, c.q("gov", "deposits", passed).Get("deposits").Array(), 2)
	require.EqualValues(t, funds-half-fee, c.balance(proposer))
	require.EqualValues(t, funds-rest-fee, c.balance(depositor))
	require.Len(t, c.q("gov", "votes", passed).Get("votes").Array(), c.sut.NodesCount())

	c.txFails("inactive proposal", "gov", "vote", "999999", "yes", "--from=gov-depositor")

	require.Equal(t, "PROPOSAL_STATUS_PASSED", c.awaitProposalEnd(passed))
	require.Equal(t, "PROPOSAL_STATUS_REJECTED", c.awaitProposalEnd(rejected))
	tally := c.q("gov", "proposal", passed).Get("proposal.final_tally_result")
	require.Positive(t, tally.Get("yes_count").Int(), tally.Raw)
	require.EqualValues(t, 0, tally.Get("no_count").Int(), tally.Raw)
	tally = c.q("gov", "proposal", rejected).Get("proposal.final_tally_result")
	require.Positive(t, tally.Get("no_count").Int(), tally.Raw)
	require.EqualValues(t, 0, tally.Get("yes_count").Int(), tally.Raw)

	// the deposits of both came back (neither was vetoed)
	require.EqualValues(t, funds-fee, c.balance(proposer))
	require.EqualValues(t, funds-2*fee, c.balance(depositor))
	require.EqualValues(t, funds-fee, c.balance(proposer2))
	require.EqualValues(t, funds-fee, c.balance(depositor2))
}
