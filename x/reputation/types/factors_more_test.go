package types_test

import (
	"crypto/sha256"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/repshard/repshard/x/reputation/types"
)

func TestFrequencyAtTheAllowanceEdge(t *testing.T) {
	p := types.DefaultParams() // free 20 requests per window, 40_000 ppm per request above
	free := p.FreeRequestRate * 1_000_000
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, free, 0), "exactly at the allowance: no penalty")
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, 0, 0), "no requests")
	// one millionth of a request above: 1·40_000/1e6 floors to 0
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, free+1, 0))
	// one request above, completion 0: full 40_000 penalty
	require.Equal(t, uint32(960_000), types.FrequencyPpm(p, free+1_000_000, 0))
	// … offset by completion 0.6: 40_000·0.4 = 16_000
	require.Equal(t, uint32(984_000), types.FrequencyPpm(p, free+1_000_000, 600_000))
	// 25 requests above: 1_000_000 penalty floors the factor at 0
	require.Equal(t, uint32(0), types.FrequencyPpm(p, free+25_000_000, 0))
	require.Equal(t, uint32(40_000), types.FrequencyPpm(p, free+24_000_000, 0), "24 above: 960_000 penalty")
	require.Equal(t, uint32(0), types.FrequencyPpm(p, ^uint64(0), 0), "no overflow")
	// full completion cancels any penalty
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, free+40_000_000, 1_000_000))
}

func TestLeadingZeroBits(t *testing.T) {
	var d [32]byte
	require.Equal(t, uint32(256), types.LeadingZeroBits(d), "all zero: the maximum")
	d[0] = 0x80
	require.Equal(t, uint32(0), types.LeadingZeroBits(d))
	d[0] = 0x01
	require.Equal(t, uint32(7), types.LeadingZeroBits(d))
	d[0], d[1] = 0, 0x10
	require.Equal(t, uint32(11), types.LeadingZeroBits(d))
	d[1], d[31] = 0, 1
	require.Equal(t, uint32(255), types.LeadingZeroBits(d))

	// The digest is sha256 over requester ‖ payload hash ‖ u64be(submission)
	// ‖ nonce, in that order.
	a := types.PowDigest([]byte("ab"), []byte("c"), 7, []byte("d"))
	b := types.PowDigest([]byte("a"), []byte("bc"), 7, []byte("d"))
	require.Equal(t, a, b, "plain concatenation")
	require.Equal(t, sha256.Sum256([]byte("abc\x00\x00\x00\x00\x00\x00\x00\x07d")), a, "the submission as 8 big-endian bytes before the nonce")
	require.NotEqual(t, a, types.PowDigest([]byte("ab"), []byte("c"), 7, []byte("e")))
	require.NotEqual(t, a, types.PowDigest([]byte("ab"), []byte("c"), 8, []byte("d")), "another submission, another digest")
}

func TestPowCreditPpm(t *testing.T) {
	p := types.DefaultParams() // minimum 8 bits, full credit 16 bits above it
	cases := []struct {
		bits uint32
		want uint32
	}{
		{0, 0}, {7, 0},
		{8, 0},          // at the minimum: accepted, no credit
		{9, 62_500},     // 1/16
		{16, 500_000},   // 8/16
		{23, 937_500},   // 15/16
		{24, 1_000_000}, // full
		{40, 1_000_000}, // capped
		{256, 1_000_000},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, types.PowCreditPpm(p, tc.bits), "%d bits", tc.bits)
	}
	// Maximum difficulty: min + full = 256, only an all-zero digest reaches full credit.
	p.PowMinDifficultyBits, p.PowFullCreditBits = 200, 56
	require.NoError(t, p.Validate())
	require.Equal(t, uint32(1_000_000), types.PowCreditPpm(p, 256))
	require.Equal(t, uint32(982_142), types.PowCreditPpm(p, 255), "55/56")
	require.Equal(t, uint32(0), types.PowCreditPpm(p, 200))
	p.PowMinDifficultyBits, p.PowFullCreditBits = 256, 1
	require.Error(t, p.Validate(), "min + full above 256 bits is refused")
}

func TestPowEma(t *testing.T) {
	p := types.DefaultParams() // α = 0.2
	require.Equal(t, uint32(200_000), types.PowEma(p, 0, 1_000_000))
	require.Equal(t, uint32(360_000), types.PowEma(p, 200_000, 1_000_000), "0.8·0.2 + 0.2")
	require.Equal(t, uint32(288_000), types.PowEma(p, 360_000, 0), "a submission without proof pulls it down")
	require.Equal(t, uint32(1_000_000), types.PowEma(p, 1_000_000, 1_000_000))
	p.PowCreditEmaWeightPpm = 1_000_000
	require.Equal(t, uint32(62_500), types.PowEma(p, 900_000, 62_500), "α = 1: the last proof")
}

func TestStakeCreditAndValidation(t *testing.T) {
	p := types.DefaultParams() // reference 1_000_000_000
	require.Equal(t, uint32(0), types.StakeCreditPpm(p, sdkmath.ZeroInt()))
	require.Equal(t, uint32(0), types.StakeCreditPpm(p, sdkmath.Int{}), "nil: none")
	require.Equal(t, uint32(1_000), types.StakeCreditPpm(p, sdkmath.NewInt(1_000_000)))
	require.Equal(t, uint32(250_000), types.StakeCreditPpm(p, sdkmath.NewInt(250_000_000)))
	require.Equal(t, uint32(1_000_000), types.StakeCreditPpm(p, sdkmath.NewInt(1_000_000_000)))
	require.Equal(t, uint32(1_000_000), types.StakeCreditPpm(p, sdkmath.NewInt(5).MulRaw(1_000_000_000_000_000)), "capped")
	require.Equal(t, uint32(400_000), types.ValidationPpm(400_000, 250_000), "the larger counts")
	require.Equal(t, uint32(250_000), types.ValidationPpm(0, 250_000))
	require.Equal(t, uint32(0), types.ValidationPpm(0, 0))
}

func TestPeerFactor(t *testing.T) {
	p := types.DefaultParams() // neutral 500_000, prior weight 2_000_000, bond reference 100 REP
	require.Equal(t, []uint32{0, 250_000, 500_000, 750_000, 1_000_000},
		[]uint32{types.RatingPpm(1), types.RatingPpm(2), types.RatingPpm(3), types.RatingPpm(4), types.RatingPpm(5)})

	// Review weight: bond 10 REP of 100 → 0.1, times standing 0.5 → 50_000.
	require.Equal(t, uint32(50_000), types.ReviewWeightPpm(p, sdkmath.NewInt(10_000_000), 500_000))
	require.Equal(t, uint32(1_000_000), types.ReviewWeightPpm(p, sdkmath.NewInt(1_000_000_000), 1_000_000), "capped bond, full standing")
	require.Equal(t, uint32(0), types.ReviewWeightPpm(p, sdkmath.NewInt(1_000_000_000), 0), "a rater with no standing counts nothing")

	zero := sdkmath.ZeroInt()
	require.Equal(t, uint32(500_000), types.PeerPpm(p, zero, zero), "no reviews: neutral")
	require.Equal(t, uint32(500_000), types.PeerPpm(p, sdkmath.Int{}, sdkmath.Int{}))
	// one full-weight 5: (1e6·1e6 + 5e5·2e6) / (1e6 + 2e6) = 666_666
	w := sdkmath.NewInt(1_000_000)
	require.Equal(t, uint32(666_666), types.PeerPpm(p, w.MulRaw(1_000_000), w))
	// one full-weight 1: 1e12 / 3e6 = 333_333
	require.Equal(t, uint32(333_333), types.PeerPpm(p, zero, w))
	// ten weight-50_000 ones: 1e12 / (5e5 + 2e6) = 400_000
	require.Equal(t, uint32(400_000), types.PeerPpm(p, zero, sdkmath.NewInt(500_000)))
}

func TestInactivityDecay(t *testing.T) {
	p := types.DefaultParams()
	require.Equal(t, uint32(900_000), types.DecayedScore(p, 900_000, 1_000_000), "decay off by default")
	p.InactivityDecayBlocks = 100
	require.Equal(t, uint32(900_000), types.DecayedScore(p, 900_000, 100), "within the grace period")
	require.Equal(t, uint32(700_000), types.DecayedScore(p, 900_000, 150), "half way to the default 500_000")
	require.Equal(t, uint32(500_000), types.DecayedScore(p, 900_000, 200))
	require.Equal(t, uint32(500_000), types.DecayedScore(p, 900_000, 1<<62))
	require.Equal(t, uint32(300_000), types.DecayedScore(p, 100_000, 150), "a low score rises toward the default")
}

// Properties over random params and histories (pgregory.net/rapid).

func genParams(t *rapid.T) types.Params {
	p := types.DefaultParams()
	p.WeightCompletion = rapid.Uint32Range(0, 100).Draw(t, "wc")
	p.WeightFrequency = rapid.Uint32Range(0, 100).Draw(t, "wf")
	p.WeightValidation = rapid.Uint32Range(0, 100).Draw(t, "wv")
	p.WeightPeer = rapid.Uint32Range(1, 100).Draw(t, "wp")
	p.CompletionPriorSuccesses = rapid.Uint32Range(1, 1000).Draw(t, "a")
	p.CompletionPriorFailures = rapid.Uint32Range(1, 1000).Draw(t, "b")
	p.FreeRequestRate = rapid.Uint64Range(0, 1000).Draw(t, "free")
	p.FrequencyPenaltyPerRequestPpm = rapid.Uint32Range(0, 1_000_000).Draw(t, "pen")
	p.PeerNeutralScorePpm = rapid.Uint32Range(0, 1_000_000).Draw(t, "neutral")
	p.PeerPriorWeightPpm = rapid.Uint64Range(1, types.MaxPeerPriorWeightPpm).Draw(t, "prior")
	p.DefaultScorePpm = rapid.Uint32Range(0, 1_000_000).Draw(t, "default")
	p.InactivityDecayBlocks = rapid.Uint64Range(0, 1000).Draw(t, "decay")
	if err := p.Validate(); err != nil {
		t.Fatalf("generated invalid params: %v", err)
	}
	return p
}

func TestPropertyMoreCompletionsNeverLowerCompletion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		c := rapid.Uint64Range(0, 1<<40).Draw(t, "completed")
		f := rapid.Uint64Range(0, 1<<40).Draw(t, "failed")
		e := rapid.Uint64Range(0, 1<<40).Draw(t, "expired")
		more := rapid.Uint64Range(1, 1<<20).Draw(t, "more")
		if types.CompletionPpm(p, c+more, f, e) < types.CompletionPpm(p, c, f, e) {
			t.Fatalf("completions %d → %d lowered the completion factor", c, c+more)
		}
	})
}

func TestPropertyHigherRateNeverRaisesFrequency(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		rate := rapid.Uint64().Draw(t, "rate")
		higher := rate + rapid.Uint64Range(0, ^uint64(0)-rate).Draw(t, "delta")
		completion := rapid.Uint32Range(0, 1_000_000).Draw(t, "completion")
		if types.FrequencyPpm(p, higher, completion) > types.FrequencyPpm(p, rate, completion) {
			t.Fatalf("rate %d → %d raised the frequency factor", rate, higher)
		}
	})
}

func TestPropertyScoreWithinPpm(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		completion := types.CompletionPpm(p, rapid.Uint64().Draw(t, "c"), rapid.Uint64().Draw(t, "f"), rapid.Uint64().Draw(t, "e"))
		frequency := types.FrequencyPpm(p, rapid.Uint64().Draw(t, "rate"), completion)
		pow := types.PowCreditPpm(p, rapid.Uint32Range(0, 256).Draw(t, "bits"))
		ema := types.PowEma(p, rapid.Uint32Range(0, 1_000_000).Draw(t, "ema"), pow)
		stake := types.StakeCreditPpm(p, sdkmath.NewIntFromUint64(rapid.Uint64().Draw(t, "stake")))
		validation := types.ValidationPpm(ema, stake)
		n := rapid.IntRange(0, 20).Draw(t, "reviews")
		sum, weight := sdkmath.ZeroInt(), sdkmath.ZeroInt()
		for i := 0; i < n; i++ {
			w := types.ReviewWeightPpm(p, sdkmath.NewIntFromUint64(rapid.Uint64().Draw(t, "bond")), rapid.Uint32Range(0, 1_000_000).Draw(t, "standing"))
			r := types.RatingPpm(rapid.Uint32Range(1, 5).Draw(t, "rating"))
			sum = sum.Add(sdkmath.NewIntFromUint64(uint64(w)).MulRaw(int64(r)))
			weight = weight.Add(sdkmath.NewIntFromUint64(uint64(w)))
		}
		peer := types.PeerPpm(p, sum, weight)
		for name, v := range map[string]uint32{"completion": completion, "frequency": frequency, "validation": validation, "peer": peer} {
			if v > 1_000_000 {
				t.Fatalf("%s factor %d above 1e6", name, v)
			}
		}
		score := types.DecayedScore(p, types.ScorePpm(p, completion, frequency, validation, peer), rapid.Uint64().Draw(t, "idle"))
		if score > 1_000_000 {
			t.Fatalf("score %d above 1e6", score)
		}
	})
}
