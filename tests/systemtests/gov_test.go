//go:build system_test

package systemtests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Text proposals, the legacy content x/gov still serves: one sent with
// `submit-legacy-proposal --type Text` and half the minimum deposit waits in
// its deposit period until a second account deposits the rest, then is voted
// yes by every validator and passes (its content runs through the legacy
// router); one sent with `submit-proposal` as a MsgExecLegacyContent and the
// full deposit is voted no and is rejected. Both deposits come back. A vote
// on a proposal that does not exist fails.
func TestGovTextProposalsDepositVoteTally(t *testing.T) {
	c := sharedChain(t)
	const funds = 100_000_000
	addrs := c.newAccounts(funds, "gov-proposer", "gov-depositor", "gov-proposer2")
	proposer, depositor, proposer2 := addrs[0], addrs[1], addrs[2]
	minDeposit := c.q("gov", "params").Get("params.min_deposit.0.amount").Int()
	require.Positive(t, minDeposit)
	half := minDeposit / 2

	status := func(id string) string {
		return c.q("gov", "proposal", id).Get("proposal.status").String()
	}

	// the v1 proposal carrying the text proposal as legacy content, full deposit
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
}`, c.govAddress(), minDeposit, denom)
	rejected := proposalID(t, c.tx("gov", "submit-proposal", writeFile(t, "proposal.json", prop),
		"--from=gov-proposer2", "--gas=400000"))
	require.Equal(t, "PROPOSAL_STATUS_VOTING_PERIOD", status(rejected))
	c.voteByAllValidators(rejected, "no")

	// the legacy text proposal, half the deposit
	passed := proposalID(t, c.tx("gov", "submit-legacy-proposal", "--type=Text", "--title=Signal A",
		"--description=a text proposal changes no state", fmt.Sprintf("--deposit=%d%s", half, denom),
		"--from=gov-proposer", "--gas=400000"))
	require.Equal(t, "PROPOSAL_STATUS_DEPOSIT_PERIOD", status(passed))
	c.tx("gov", "deposit", passed, fmt.Sprintf("%d%s", minDeposit-half, denom), "--from=gov-depositor", "--gas=400000")
	require.Equal(t, "PROPOSAL_STATUS_VOTING_PERIOD", status(passed))
	deposits := c.q("gov", "deposits", passed).Get("deposits").Array()
	require.Len(t, deposits, 2)
	require.EqualValues(t, funds-half-fee, c.balance(proposer))
	require.EqualValues(t, funds-(minDeposit-half)-fee, c.balance(depositor))
	c.voteYesByAllValidators(passed)

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
}
