//go:build system_test

package systemtests

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// coinAmount parses the urep amount of a coins string of an SDK event
// ("123urep" or "4extra,123urep"); 0 when there is none.
func coinAmount(t *testing.T, coins string) int64 {
	t.Helper()
	for _, c := range strings.Split(coins, ",") {
		if amt, ok := strings.CutSuffix(c, denom); ok {
			n, err := strconv.ParseInt(amt, 10, 64)
			require.NoError(t, err, coins)
			return n
		}
	}
	return 0
}

// decAmount is the urep amount of a DecCoins JSON list, rounded down. The
// distribution queries print each coin either as an object or as a string
// ("18.159017991000000000urep").
func decAmount(coins gjson.Result) int64 {
	for _, c := range coins.Array() {
		var amount string
		if c.IsObject() {
			if c.Get("denom").String() != denom {
				continue
			}
			amount = c.Get("amount").String()
		} else {
			var ok bool
			if amount, ok = strings.CutSuffix(c.String(), denom); !ok {
				continue
			}
		}
		whole, _, _ := strings.Cut(amount, ".")
		n, _ := strconv.ParseInt(whole, 10, 64)
		return n
	}
	return 0
}

// A delegation earns rewards block by block (fees and inflation); the
// delegator sends them to a withdraw address of its choice, which receives
// exactly the amount the withdrawal reports while the delegator pays only
// the tx fee, and its outstanding rewards start again from zero. The
// validator withdraws its commission, and the community pool grows by its
// tax.
func TestDistributionWithdrawRewardsAndCommission(t *testing.T) {
	c := sharedChain(t)
	del := c.newAccounts(100_000_000, "distr-delegator")[0]
	withdrawTo := c.cli.AddKey("distr-withdraw-to")
	val0 := c.valoper(0)

	c.tx("staking", "delegate", val0, "50000000"+denom, "--from=distr-delegator")
	c.awaitBlocks(2)
	accrued := decAmount(c.q("distribution", "rewards-by-validator", del, val0).Get("rewards"))
	require.Positive(t, accrued, "a delegation earns rewards every block")

	c.tx("distribution", "set-withdraw-addr", withdrawTo, "--from=distr-delegator")
	require.Equal(t, withdrawTo, c.rest("/cosmos/distribution/v1beta1/delegators/"+del+"/withdraw_address").
		Get("withdraw_address").String())

	delBal := c.balance(del)
	res := c.tx("distribution", "withdraw-rewards", val0, "--from=distr-delegator")
	withdrawn := coinAmount(t, event(res, "withdraw_rewards", "amount").String())
	require.GreaterOrEqual(t, withdrawn, accrued, "rewards only grow until withdrawn")
	require.Equal(t, withdrawn, c.balance(withdrawTo), "the withdraw address receives the rewards")
	require.Equal(t, delBal-fee, c.balance(del), "the delegator pays the fee only")
	atWithdrawal := c.q("distribution", "rewards-by-validator", del, val0,
		"--height="+strconv.FormatInt(res.Get("height").Int(), 10)).Get("rewards")
	require.Zero(t, decAmount(atWithdrawal), "nothing outstanding right after the withdrawal: %s", atWithdrawal.Raw)

	// the validator's commission
	cq := c.q("distribution", "commission", val0)
	commission := decAmount(cq.Get("commission.commission"))
	require.Positive(t, commission, cq.Raw)
	node0 := c.addr("node0")
	node0Bal := c.balance(node0)
	res = c.tx("distribution", "withdraw-validator-commission", val0, "--from=node0")
	withdrawnCommission := coinAmount(t, event(res, "withdraw_commission", "amount").String())
	require.GreaterOrEqual(t, withdrawnCommission, commission)
	require.Equal(t, node0Bal+withdrawnCommission-fee, c.balance(node0))

	// the community pool takes its tax every block
	pool := c.q("distribution", "community-pool")
	before := decAmount(pool.Get("pool"))
	require.Positive(t, before, pool.Raw)
	c.awaitBlocks(2)
	require.Greater(t, decAmount(c.q("distribution", "community-pool").Get("pool")), before)
}
