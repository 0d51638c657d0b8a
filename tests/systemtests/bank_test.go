//go:build system_test

package systemtests

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/systemtests"
)

// An account added to the generated genesis with `genesis add-genesis-account`
// (on every node, as an operator would) exists and holds its coins once the
// chain runs, and the supply counts them; then send and multi-send move
// exactly the amounts asked, the sender paying the fee once per tx; a send
// above the balance fails in its block and moves nothing; malformed input is
// refused before it is signed.
func TestBankGenesisAccountSendAndMultiSend(t *testing.T) {
	c := sharedChain(t)
	holder := genesisHolder

	require.EqualValues(t, genesisHolderUrep, c.balance(holder))
	require.EqualValues(t, 77, c.balanceOf(holder, "extra"))
	require.EqualValues(t, 77, c.q("bank", "total-supply-of", "extra").Get("amount.amount").Int(),
		"the supply counts the coins of the added account")

	bob, carol := c.cli.AddKey("bank-bob"), c.cli.AddKey("bank-carol")

	// send
	c.tx("bank", "send", genesisHolderKey, bob, "1000000"+denom)
	holderBal := int64(genesisHolderUrep - 1_000_000 - fee)
	require.Equal(t, holderBal, c.balance(holder))
	require.EqualValues(t, 1_000_000, c.balance(bob))

	// multi-send: each recipient gets the amount, for one fee
	c.tx("bank", "multi-send", genesisHolderKey, bob, carol, "250000"+denom)
	holderBal -= 2*250_000 + fee
	require.Equal(t, holderBal, c.balance(holder))
	require.EqualValues(t, 1_250_000, c.balance(bob))
	require.EqualValues(t, 250_000, c.balance(carol))

	// a second denom moves alongside
	c.tx("bank", "send", genesisHolderKey, carol, "7extra")
	holderBal -= fee
	require.EqualValues(t, 7, c.balanceOf(carol, "extra"))
	require.EqualValues(t, 70, c.balanceOf(holder, "extra"))
	require.Equal(t, holderBal, c.balance(holder))

	// more than the balance: the send fails in its block; only the fee is taken
	c.txFails("insufficient funds", "bank", "send", "bank-carol", bob, "250001"+denom)
	require.EqualValues(t, 250_000-fee, c.balance(carol))
	require.EqualValues(t, 1_250_000, c.balance(bob))

	// malformed input never reaches the chain
	c.txRefused("decoding bech32 failed", "bank", "send", genesisHolderKey, "rep1notanaddress", "1"+denom)
	c.txRefused("invalid decimal coin expression", "bank", "send", genesisHolderKey, bob, "ten"+denom)
	require.Equal(t, holderBal, c.balance(holder))

	// the CLI query and node0's REST API (on the offset port) agree
	require.EqualValues(t, 1_250_000, c.q("bank", "balance", bob, denom).Get("balance.amount").Int())
	systemtests.GetRequestWithHeaders(t, fmt.Sprintf("%s/cosmos/bank/v1beta1/balances/%s", restURL(), "rep1notanaddress"),
		nil, http.StatusBadRequest)
}
