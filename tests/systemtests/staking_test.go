//go:build system_test

package systemtests

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A delegator delegates to validator 0, which gains the tokens and, in
// CometBFT, the voting power; redelegates part to validator 1 (an entry that
// blocks a second, transitive redelegation from validator 1); and unbonds
// part of that, which starts an unbonding entry and leaves the coins locked
// until the unbonding time. Unbonding more than is delegated fails and
// changes no delegation.
func TestStakingDelegateRedelegateUnbond(t *testing.T) {
	c := sharedChain(t)
	del := c.newAccounts(100_000_000, "staking-delegator")[0]
	val0, val1, val2 := c.valoper(0), c.valoper(1), c.valoper(2)

	tokens := func(val string) int64 {
		return c.rest("/cosmos/staking/v1beta1/validators/" + val).Get("validator.tokens").Int()
	}
	delegated := func(val string) int64 {
		res := c.rest("/cosmos/staking/v1beta1/validators/" + val + "/delegations/" + del)
		return res.Get("delegation_response.balance.amount").Int()
	}
	tokens0, tokens1 := tokens(val0), tokens(val1)
	power0 := c.votingPower(0)

	c.tx("staking", "delegate", val0, "10000000"+denom, "--from=staking-delegator")
	require.EqualValues(t, 10_000_000, delegated(val0))
	require.Equal(t, tokens0+10_000_000, tokens(val0))
	require.EqualValues(t, 100_000_000-10_000_000-fee, c.balance(del))
	// one unit of power per 10^6 urep; CometBFT applies it a block later
	c.eventually(txWait, "validator 0's voting power to grow by 10", func() bool {
		return c.votingPower(0) == power0+10
	})

	c.tx("staking", "redelegate", val0, val1, "4000000"+denom, "--from=staking-delegator", "--gas=400000")
	require.EqualValues(t, 6_000_000, delegated(val0))
	require.EqualValues(t, 4_000_000, delegated(val1))
	require.Equal(t, tokens0+6_000_000, tokens(val0))
	require.Equal(t, tokens1+4_000_000, tokens(val1))
	red := c.q("staking", "redelegation", del, val0, val1)
	require.EqualValues(t, 4_000_000, red.Get("redelegation_responses.0.entries.0.balance").Int(), red.Raw)

	// a redelegation from the validator just redelegated to must wait for
	// the first to mature
	c.txFails("redelegation to this validator already in progress", "staking", "redelegate", val1, val2,
		"1000000"+denom, "--from=staking-delegator", "--gas=400000")
	require.EqualValues(t, 4_000_000, delegated(val1))

	balance := c.balance(del)
	res := c.tx("staking", "unbond", val1, "1000000"+denom, "--from=staking-delegator", "--gas=400000")
	require.EqualValues(t, 3_000_000, delegated(val1))
	ubd := c.q("staking", "unbonding-delegation", del, val1)
	require.EqualValues(t, 1_000_000, ubd.Get("unbond.entries.0.balance").Int(), ubd.Raw)
	require.NotEmpty(t, ubd.Get("unbond.entries.0.completion_time").String())
	// the unbond pays out the delegation's rewards so far, not the coins
	var rewards int64
	for _, r := range events(res, "withdraw_rewards", "amount") {
		rewards += coinAmount(t, r.String())
	}
	require.Equal(t, balance-fee+rewards, c.balance(del), "unbonded coins stay locked until the unbonding time")

	c.txFails("invalid shares amount", "staking", "unbond", val1, "3000001"+denom, "--from=staking-delegator", "--gas=400000")
	require.EqualValues(t, 3_000_000, delegated(val1))
	require.EqualValues(t, 6_000_000, delegated(val0))

	dels := c.q("staking", "delegations", del)
	require.Len(t, dels.Get("delegation_responses").Array(), 2, dels.Raw)
}
