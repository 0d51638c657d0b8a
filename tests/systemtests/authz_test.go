//go:build system_test

package systemtests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A granter lets a grantee send up to a spend limit on its behalf: the
// grantee's exec moves the granter's coins (the grantee pays the tx fee) and
// lowers the limit; an exec above what is left fails and moves nothing. A
// generic grant lets the grantee submit a repshard request for the granter,
// who is its requester and pays its fee (refunded, less the queue exit fee,
// when the granter cancels it). After the revoke, the grantee's exec fails.
func TestAuthzGrantExecRevoke(t *testing.T) {
	c := sharedChain(t)
	addrs := c.newAccounts(20_000_000, "authz-granter", "authz-grantee")
	granter, grantee := addrs[0], addrs[1]
	recipient := c.cli.AddKey("authz-recipient")

	c.tx("authz", "grant", grantee, "send", "--spend-limit=3000000"+denom, "--from=authz-granter")
	grants := c.q("authz", "grants", granter, grantee).Get("grants")
	require.Len(t, grants.Array(), 1, grants.Raw)
	require.EqualValues(t, 3_000_000, grants.Get("0.authorization.value.spend_limit.0.amount").Int(), grants.Raw)

	// the msg the grantee executes: a send from the granter, never signed by it
	send := func(amount int64) string {
		out, _ := c.cli.RunOnly("tx", "bank", "send", granter, recipient, fmt.Sprintf("%d%s", amount, denom),
			"--from=authz-granter", "--generate-only")
		msg := lastJSON(out)
		require.True(t, msg.Get("body.messages").Exists(), out)
		return writeFile(t, "send.json", msg.Raw)
	}
	granterBal, granteeBal := c.balance(granter), c.balance(grantee)
	c.tx("authz", "exec", send(2_000_000), "--from=authz-grantee")
	require.EqualValues(t, 2_000_000, c.balance(recipient))
	require.Equal(t, granterBal-2_000_000, c.balance(granter), "the granter's coins moved, no fee taken from it")
	require.Equal(t, granteeBal-fee, c.balance(grantee), "the grantee paid the fee")
	grants = c.q("authz", "grants", granter, grantee).Get("grants")
	require.EqualValues(t, 1_000_000, grants.Get("0.authorization.value.spend_limit.0.amount").Int(), grants.Raw)

	c.txFails("requested amount is more than spend limit", "authz", "exec", send(2_000_000), "--from=authz-grantee")
	require.EqualValues(t, 2_000_000, c.balance(recipient))
	require.Equal(t, granterBal-2_000_000, c.balance(granter))

	// a generic grant of a repshard message: the grantee submits for the granter
	c.tx("authz", "grant", grantee, "generic", "--msg-type=/repshard.deferral.v1.MsgSubmitRequest", "--from=authz-granter")
	granterBal = c.balance(granter)
	out, _ := c.cli.RunOnly("tx", "deferral", "submit-request", "high-priority", "1", "1000000"+denom,
		"--payload=submitted through authz", "--from=authz-granter", "--generate-only")
	submit := lastJSON(out)
	require.True(t, submit.Get("body.messages").Exists(), out)
	res := c.tx("authz", "exec", writeFile(t, "submit.json", submit.Raw), "--from=authz-grantee", repshardGas)
	id := event(res, evSubmitted, "request_id").String()
	require.Equal(t, granter, event(res, evSubmitted, "requester").String())
	escrowed := event(res, evSubmitted, "fee").Get("amount").Int()
	require.Positive(t, escrowed)
	require.Equal(t, granterBal-escrowed, c.balance(granter))
	req := c.q("deferral", "request", id).Get("request")
	require.Equal(t, granter, req.Get("requester").String(), req.Raw)
	// no worker serves the high-priority class here: the request waits
	// queued, and its requester cancels it: the fee comes back less the
	// queue exit fee
	require.Equal(t, "REQUEST_STATUS_QUEUED", req.Get("status").String(), req.Raw)
	res = c.tx("deferral", "cancel-request", id, "--from=authz-granter", repshardGas)
	refund := event(res, "repshard.deferral.v1.EventRequestCancelled", "refund").Get("amount").Int()
	exitFee := event(res, "repshard.deferral.v1.EventRequestCancelled", "exit_fee").Get("amount").Int()
	require.Positive(t, refund)
	require.Equal(t, escrowed, refund+exitFee, "the escrow is paid out in full")
	require.Equal(t, granterBal-escrowed+refund-fee, c.balance(granter))
	require.Equal(t, "REQUEST_STATUS_CANCELLED", c.q("deferral", "request", id).Get("request.status").String())

	c.tx("authz", "revoke", grantee, "/cosmos.bank.v1beta1.MsgSend", "--from=authz-granter")
	grants = c.q("authz", "grants", granter, grantee).Get("grants")
	require.Len(t, grants.Array(), 1, "only the generic grant is left: %s", grants.Raw)
	c.txFails("authorization not found", "authz", "exec", send(500_000), "--from=authz-grantee")
	require.EqualValues(t, 2_000_000, c.balance(recipient))
}
