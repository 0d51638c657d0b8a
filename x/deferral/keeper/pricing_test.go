package keeper_test

import (
	"crypto/sha256"
	"math"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// withShardParams edits x/shard's genesis params.
func withShardParams(t *testing.T, edit func(p *shardtypes.Params)) func(app.GenesisState) {
	return func(g app.GenesisState) {
		apptest.EditGenesis(t, g, shardtypes.ModuleName, &shardtypes.GenesisState{}, func(gs *shardtypes.GenesisState) {
			edit(&gs.Params)
		})
	}
}

// quote asks Query/Quote on the last committed state (what the next block's
// transactions see).
func (c *dchain) quote(req *types.QueryQuoteRequest) (types.FeeQuote, error) {
	res, err := keeper.NewQueryServerImpl(c.App.DeferralKeeper).Quote(c.Committed(), req)
	if err != nil {
		return types.FeeQuote{}, err
	}
	return res.Quote, nil
}

// byReference is a submission of data held elsewhere, declaring dataBytes.
func byReference(from apptest.Account, urgency types.Urgency, units, dataBytes uint64) *types.MsgSubmitRequest {
	sum := sha256.Sum256([]byte(from.Address.String()))
	return &types.MsgSubmitRequest{
		Requester: from.Address.String(), Class: high, Urgency: urgency, ComputeUnits: units,
		PayloadHash: sum[:], PayloadUri: "https://example.org/data", DataBytes: dataBytes, MaxFee: generousMaxFee,
	}
}

// The fee a submission escrows is the quote of the same state, for every
// urgency, with data and with replicas; the response carries the same quote.
func TestSubmissionPaysTheQuoteOfTheSameBlock(t *testing.T) {
	c := newDChain(t, 5, types.DefaultParams())
	w1, w2, w3 := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w1, high, 100}, workerSpec{w2, high, 100}, workerSpec{w3, high, 100})
	rq := c.acc(3)
	for _, m := range []*types.MsgSubmitRequest{
		byReference(rq, types.UrgencyLow, 3, 0),
		byReference(rq, types.UrgencyNormal, 1, 2_500_001),
		byReference(rq, types.UrgencyHigh, 7, 999),
		byReference(rq, types.UrgencyCritical, 2, 0),
		func() *types.MsgSubmitRequest {
			m := byReference(rq, types.UrgencyHigh, 2, 1_000_000)
			m.Replicas = 2
			return m
		}(),
	} {
		q, err := c.quote(&types.QueryQuoteRequest{
			Class: m.Class, ComputeUnits: m.ComputeUnits, Urgency: m.Urgency, DataBytes: m.DataBytes,
			Replicas: m.Replicas, Requester: m.Requester,
		})
		require.NoError(t, err)
		before := c.balance(rq.Address)
		got := c.submitResponse(c.block(c.tx(rq, m))[0])
		require.Equal(t, q.String(), got.FeeQuote.String(), "the response's quote is the quote of the same state")
		require.Equal(t, q.Fee, got.Fee)
		require.Equal(t, q.Fee, c.request(got.RequestId).Fee, "the request escrows the quoted fee")
		require.Equal(t, before.Sub(q.Fee.Amount).Sub(txFee.Amount).String(), c.balance(rq.Address).String(),
			"the requester paid the quoted fee and the tx fee, not the max fee")
	}
}

// Urgency is a bid: the same request costs more the more urgent it is, by
// the default multipliers 0.8×, 1×, 1.5×, 2.5× of 1_000 urep per unit.
func TestUrgencyAndDataArePriced(t *testing.T) {
	c := newDChain(t, 2, types.DefaultParams())
	rq := c.acc(1)
	want := map[types.Urgency]int64{types.UrgencyLow: 8_000, types.UrgencyNormal: 10_000, types.UrgencyHigh: 15_000, types.UrgencyCritical: 25_000}
	for u, fee := range want {
		q, err := c.quote(&types.QueryQuoteRequest{Class: high, ComputeUnits: 10, Urgency: u, Requester: rq.Address.String()})
		require.NoError(t, err)
		require.Equal(t, urepOf(fee), q.Fee, "10 units at %s", u)
	}
	// 2.5 MB declared at 1_000 urep per MB, rounded up: 2_501 urep on top of 1 unit.
	q, err := c.quote(&types.QueryQuoteRequest{Class: high, ComputeUnits: 1, Urgency: types.UrgencyNormal, DataBytes: 2_500_001})
	require.NoError(t, err)
	require.Equal(t, urepOf(2_501), q.DataFee)
	require.Equal(t, urepOf(3_501), q.Fee)
	// Three replicas (+2 tie-break shares) pay five shares of compute and data.
	q, err = c.quote(&types.QueryQuoteRequest{Class: high, ComputeUnits: 1, Urgency: types.UrgencyNormal, DataBytes: 1_000_000, Replicas: 3})
	require.NoError(t, err)
	require.Equal(t, uint32(5), q.Shares)
	require.Equal(t, urepOf(10_000), q.Fee)
}

// A max fee below the fee is refused with the fee in the error, and
// nothing changes.
func TestMaxFeeBelowTheQuoteIsRefusedWithTheFee(t *testing.T) {
	c := newDChain(t, 2, types.DefaultParams())
	rq := c.acc(1)
	m := byReference(rq, types.UrgencyHigh, 4, 3_000_000)
	q, err := c.quote(&types.QueryQuoteRequest{Class: high, ComputeUnits: 4, Urgency: types.UrgencyHigh, DataBytes: 3_000_000, Requester: rq.Address.String()})
	require.NoError(t, err)
	require.Equal(t, urepOf(9_000), q.Fee, "4 units × 1_000 × 1.5 + 3 MB × 1_000")
	m.MaxFee = q.Fee.SubAmount(sdkmath.OneInt())
	res := c.NextBlock(t, c.tx(rq, m))
	require.Equal(t, types.ErrMaxFeeTooLow.ABCICode(), res[0].Code, res[0].Log)
	require.True(t, strings.Contains(res[0].Log, "the fee is "+q.Fee.String()), "the error names the fee: %s", res[0].Log)
	c.failsWithoutEffect(rq, types.ErrMaxFeeTooLow, m)
	m.MaxFee = q.Fee
	c.block(c.tx(rq, m)) // exactly the fee is enough
}

// Declared data is bounded: 2^64−1 bytes with a one-unit max fee is refused
// with a typed error before any price is computed, and changes nothing; so
// is anything above max_data_bytes, and a quote for it.
func TestHugeDeclaredDataIsRefused(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 2, p)
	rq := c.acc(1)
	m := byReference(rq, types.UrgencyNormal, 1, math.MaxUint64)
	m.MaxFee = urepOf(1_000)
	c.failsWithoutEffect(rq, types.ErrDataTooLarge, m)
	c.failsWithoutEffect(rq, types.ErrDataTooLarge, byReference(rq, types.UrgencyNormal, 1, p.MaxDataBytes+1))
	_, err := c.quote(&types.QueryQuoteRequest{Class: high, ComputeUnits: 1, DataBytes: p.MaxDataBytes + 1})
	require.ErrorContains(t, err, "max_data_bytes")
	c.block(c.tx(rq, byReference(rq, types.UrgencyNormal, 1, p.MaxDataBytes)))
}

// The preferred discount applies exactly at the preferred-routing
// threshold and above it, never below.
func TestPreferredDiscountAppliesAtAndAboveTheThreshold(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold uint32
		preferred bool
	}{
		{"threshold one above the requester", defaultScore + 1, false},
		{"threshold at the requester", defaultScore, true},
		{"threshold below the requester", defaultScore - 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newDChain(t, 2, types.DefaultParams(), withShardParams(t, func(p *shardtypes.Params) {
				p.PreferredReputationThresholdPpm = tc.threshold
			}))
			rq := c.acc(1)
			before := c.balance(rq.Address)
			got := c.submitResponse(c.block(c.tx(rq, byReference(rq, types.UrgencyNormal, 10, 0)))[0])
			require.Equal(t, tc.preferred, got.FeeQuote.Preferred)
			want := urepOf(10_000)
			if tc.preferred {
				want = urepOf(9_000) // 10% off
			}
			require.Equal(t, want, got.Fee)
			require.Equal(t, before.Sub(want.Amount).Sub(txFee.Amount).String(), c.balance(rq.Address).String())
		})
	}
}

// Bad quote inputs are refused like the submission would refuse them.
func TestQuoteRefusesWhatASubmissionRefuses(t *testing.T) {
	p := types.DefaultParams()
	c := newDChain(t, 1, p)
	for name, req := range map[string]*types.QueryQuoteRequest{
		"no class":      {ComputeUnits: 1},
		"zero units":    {Class: high},
		"too many":      {Class: high, ComputeUnits: p.MaxComputeUnits + 1},
		"replicas":      {Class: high, ComputeUnits: 1, Replicas: p.MaxReplicas + 1},
		"bad requester": {Class: high, ComputeUnits: 1, Requester: "rep1nope"},
	} {
		_, err := c.quote(req)
		require.Error(t, err, name)
	}
}
