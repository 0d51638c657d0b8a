//go:build system_test

package systemtests

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// x/mint mints every block: inflation and annual provisions move from block
// to block (toward the bonded-ratio goal), and the urep supply grows by
// exactly the amounts the blocks' mint events report. The queries at a
// height agree with that block's mint event.
func TestMintInflationProvisionsAndSupply(t *testing.T) {
	c := sharedChain(t)
	params := c.q("mint", "params").Get("params")
	require.Equal(t, denom, params.Get("mint_denom").String(), params.Raw)

	h1 := c.height()
	h2 := h1 + 3
	c.awaitHeight(h2)

	at := func(h int64, args ...string) gjson.Result {
		return c.q(append(args, "--height="+strconv.FormatInt(h, 10))...)
	}
	supply := func(h int64) int64 {
		return at(h, "bank", "total-supply-of", denom).Get("amount.amount").Int()
	}
	inflation1, inflation2 := at(h1, "mint", "inflation").Get("inflation").String(), at(h2, "mint", "inflation").Get("inflation").String()
	require.NotEqual(t, inflation1, inflation2, "inflation moves every block")
	provisions1, provisions2 := at(h1, "mint", "annual-provisions").Get("annual_provisions").String(),
		at(h2, "mint", "annual-provisions").Get("annual_provisions").String()
	require.NotEqual(t, provisions1, provisions2, "annual provisions move every block")

	// the supply grows by what the blocks minted
	var minted int64
	for h := h1 + 1; h <= h2; h++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := c.rpc.BlockResults(ctx, &h)
		cancel()
		require.NoError(t, err)
		var evs []gjson.Result
		for _, e := range res.FinalizeBlockEvents {
			evs = append(evs, gjson.Parse(mustJSON(t, e)))
		}
		amount := eventIn(evs, "mint", "amount")
		require.True(t, amount.Exists(), "block %d has no mint event", h)
		minted += amount.Int()
		if h == h2 {
			require.Equal(t, inflation2, eventIn(evs, "mint", "inflation").String(),
				"the inflation query at a height is that block's mint")
		}
	}
	require.Positive(t, minted)
	require.Equal(t, supply(h1)+minted, supply(h2))
}
