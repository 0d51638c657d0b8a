//go:build system_test

package systemtests

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// A tx generated unsigned, signed offline (account number and sequence given
// by hand, no node asked) and broadcast later is applied once: the same
// signed bytes broadcast again are refused. A 2-of-3 multisig account sends
// with the signatures of two of its keys combined by `tx multisign`; one
// signature alone is not enough.
func TestTxOfflineSignAndMultisig(t *testing.T) {
	c := sharedChain(t)
	sender := c.newAccounts(10_000_000, "tx-sender")[0]
	recipient := c.cli.AddKey("tx-recipient")

	out, _ := c.cli.RunOnly("tx", "bank", "send", sender, recipient, "1000000"+denom, "--from=tx-sender",
		"--generate-only", "--fees="+feeCoins)
	unsigned := writeFile(t, "unsigned.json", lastJSON(out).Raw)
	acc := c.q("auth", "account", sender).Get("account.value")
	accNum, seq := acc.Get("account_number").String(), acc.Get("sequence").String()
	require.NotEmpty(t, accNum, acc.Raw)
	if seq == "" {
		seq = "0" // a zero sequence is left out of the JSON
	}

	signed := c.signTx(unsigned, "tx-sender", "--offline", "--account-number="+accNum, "--sequence="+seq)
	c.waitTx(c.broadcastSigned(signed))
	require.EqualValues(t, 1_000_000, c.balance(recipient))
	require.EqualValues(t, 10_000_000-1_000_000-fee, c.balance(sender))

	// replay: the same signed tx again is refused (its sequence is used)
	out, _ = c.cli.WithRunErrorsIgnored().RunOnly("tx", "broadcast", signed)
	res := lastJSON(out)
	require.True(t, res.Get("code").Int() != 0 || !res.Get("txhash").Exists(), "replayed tx accepted: %s", out)
	c.awaitBlocks(1)
	require.EqualValues(t, 1_000_000, c.balance(recipient), "the replayed tx moved nothing")

	// a 2-of-3 multisig account
	for _, k := range []string{"tx-ms1", "tx-ms2", "tx-ms3"} {
		c.cli.AddKey(k)
	}
	ms := lastJSON(c.run("keys", "add", "tx-multisig", "--multisig=tx-ms1,tx-ms2,tx-ms3", "--multisig-threshold=2"))
	msAddr := ms.Get("address").String()
	require.NotEmpty(t, msAddr, ms.Raw)
	c.tx("bank", "send", "node0", msAddr, "5000000"+denom)

	out, _ = c.cli.RunOnly("tx", "bank", "send", msAddr, recipient, "2000000"+denom, "--from=tx-multisig",
		"--generate-only", "--fees="+feeCoins)
	msTx := writeFile(t, "multisig-unsigned.json", lastJSON(out).Raw)
	sig := func(key string) string {
		out, _ := c.cli.RunOnly("tx", "sign", msTx, "--from="+key, "--multisig="+msAddr, "--sign-mode=amino-json")
		s := lastJSON(out)
		require.True(t, s.Get("signatures").Exists(), out)
		return writeFile(t, key+".sig.json", s.Raw)
	}
	sig1, sig3 := sig("tx-ms1"), sig("tx-ms3")

	// one signature is below the threshold: multisign builds the tx, CheckTx
	// refuses it
	out, _ = c.cli.RunOnly("tx", "multisign", msTx, "tx-multisig", sig1)
	one := lastJSON(out)
	require.True(t, one.Get("signatures").Exists(), out)
	out, _ = c.cli.WithRunErrorsIgnored().RunOnly("tx", "broadcast", writeFile(t, "multisig-one.json", one.Raw))
	require.NotZero(t, lastJSON(out).Get("code").Int(), "a multisig tx with one of two signatures was accepted: %s", out)
	require.Contains(t, lastJSON(out).Get("raw_log").String(), "signature")
	require.EqualValues(t, 5_000_000, c.balance(msAddr))

	out, _ = c.cli.RunOnly("tx", "multisign", msTx, "tx-multisig", sig1, sig3)
	multisigned := lastJSON(out)
	require.True(t, multisigned.Get("signatures").Exists(), out)
	c.waitTx(c.broadcastSigned(writeFile(t, "multisigned.json", multisigned.Raw)))
	require.EqualValues(t, 5_000_000-2_000_000-fee, c.balance(msAddr))
	require.EqualValues(t, 3_000_000, c.balance(recipient))
}

// Fees paid by someone else. A fee payer signs the sender's tx as a second
// signer and pays its fee; the sender pays only the amount sent. A fee
// grant pays the grantee's fees up to its spend limit: a fee above what is
// left is refused, and after the revoke the grant pays nothing.
func TestTxFeePayerAndFeeGrant(t *testing.T) {
	c := sharedChain(t)
	addrs := c.newAccounts(1_000_000, "fee-sender", "fee-payer", "fee-granter", "fee-grantee")
	sender, payer, granter, grantee := addrs[0], addrs[1], addrs[2], addrs[3]
	recipient := c.cli.AddKey("fee-recipient")

	out, _ := c.cli.RunOnly("tx", "bank", "send", sender, recipient, "1000"+denom, "--from=fee-sender",
		"--fee-payer="+payer, "--generate-only", "--fees=25"+denom)
	unsigned := writeFile(t, "unsigned.json", lastJSON(out).Raw)
	// amino-JSON: each signer signs the body and fee, so the second signature
	// does not invalidate the first
	bySender := c.signTx(unsigned, "fee-sender", "--sign-mode=amino-json")
	byBoth := c.signTx(bySender, "fee-payer", "--sign-mode=amino-json")
	c.waitTx(c.broadcastSigned(byBoth))
	require.EqualValues(t, 1000, c.balance(recipient))
	require.EqualValues(t, 1_000_000-1000, c.balance(sender), "the sender pays no fee")
	require.EqualValues(t, 1_000_000-25, c.balance(payer), "the fee payer pays the fee")

	c.tx("feegrant", "grant", granter, grantee, "--spend-limit=100"+denom, "--from=fee-granter")
	allowance := func() int64 {
		return c.q("feegrant", "grant", granter, grantee).Get("allowance.allowance.value.spend_limit.0.amount").Int()
	}
	require.EqualValues(t, 100, allowance())
	granterBal := c.balance(granter)
	c.tx("bank", "send", "fee-grantee", recipient, "5000"+denom, "--fee-granter="+granter, "--fees=30"+denom)
	require.EqualValues(t, 1_000_000-5000, c.balance(grantee), "the grant paid the fee")
	require.Equal(t, granterBal-30, c.balance(granter))
	require.EqualValues(t, 70, allowance())

	c.txRefused("fee limit exceeded", "bank", "send", "fee-grantee", recipient, "5000"+denom,
		"--fee-granter="+granter, "--fees=71"+denom)
	require.EqualValues(t, 70, allowance())
	require.EqualValues(t, 1_000_000-5000, c.balance(grantee))

	c.tx("feegrant", "revoke", granter, grantee, "--from=fee-granter")
	c.txRefused("not found", "bank", "send", "fee-grantee", recipient, "5000"+denom,
		"--fee-granter="+granter, "--fees="+strconv.Itoa(fee)+denom)
	require.EqualValues(t, 1_000_000-5000, c.balance(grantee))
	require.Equal(t, granterBal-30-fee, c.balance(granter))
}
