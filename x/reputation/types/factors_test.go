package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/reputation/types"
)

func TestCompletionPpm(t *testing.T) {
	p := types.DefaultParams() // Beta(2,2) prior
	cases := []struct {
		name                       string
		completed, failed, expired uint64
		want                       uint32
	}{
		{"no history: the prior mean", 0, 0, 0, 500_000},
		{"one failure", 0, 1, 0, 400_000},   // 2/5
		{"only failures", 0, 3, 0, 285_714}, // 2/7 = 0.2857142…
		{"expiries count like failures", 0, 1, 2, 285_714},
		{"one completion", 1, 0, 0, 600_000},                        // 3/5
		{"mixed", 5, 1, 1, 636_363},                                 // 7/11 = 0.636363…
		{"many completions approach one", 1_000_000, 0, 0, 999_998}, // 1000002/1000004
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, types.CompletionPpm(p, tc.completed, tc.failed, tc.expired), tc.name)
	}
	require.LessOrEqual(t, types.CompletionPpm(p, ^uint64(0), ^uint64(0), ^uint64(0)), uint32(1_000_000), "huge counters saturate, no overflow")
	p.CompletionPriorSuccesses, p.CompletionPriorFailures = 1, 3
	require.Equal(t, uint32(250_000), types.CompletionPpm(p, 0, 0, 0), "prior a/(a+b) = 1/4")
}

func TestDecayRate(t *testing.T) {
	cases := []struct {
		name                   string
		ema, elapsed, halfLife uint64
		want                   uint64
	}{
		{"no time", 1_000_000, 0, 100, 1_000_000},
		{"one half-life halves", 1_000_000, 100, 100, 500_000},
		{"half a half-life: linear chord 1 − 50/200", 1_000_000, 50, 100, 750_000},
		{"1.5 half-lives: ½ · (1 − 50/200)", 1_000_000, 150, 100, 375_000},
		{"2.5 half-lives", 1_375_000, 250, 100, 257_812}, // 343_750 · 150/200 = 257_812.5
		{"one block of a long half-life", 1_000_000, 1, 100, 995_000},
		{"half-life of one block", 1_000_000, 1, 1, 500_000},
		{"64 half-lives and more: gone", ^uint64(0), 6_400, 100, 0},
		{"63 half-lives: one left", 1 << 63, 6_300, 100, 1},
		{"zero stays zero", 0, 1_000, 100, 0},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, types.DecayRate(tc.ema, tc.elapsed, tc.halfLife), tc.name)
	}
}

func TestRequestRateAndFrequency(t *testing.T) {
	p := types.DefaultParams() // h = 100, window = 100, free = 20, 40_000 ppm per request
	// One submission: ema 1e6 → 1e6·100/200 = 0.5 requests per window.
	require.Equal(t, uint64(500_000), types.RequestRate(p, 1_000_000))
	// Steady state of one request per block: ema ≈ 2h·1e6 → 100 requests per window.
	require.Equal(t, uint64(100_000_000), types.RequestRate(p, 200_000_000))

	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, 0, 500_000), "no requests, no penalty")
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, 20_000_000, 0), "exactly at the allowance: no penalty")
	// 1 request above: 40_000 ppm, offset by completion 0.5 → 20_000.
	require.Equal(t, uint32(980_000), types.FrequencyPpm(p, 21_000_000, 500_000))
	// 0.000001 request above: ⌊1·40_000/1e6⌋ = 0.
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, 20_000_001, 0))
	// 10 above, no completion credit: 400_000.
	require.Equal(t, uint32(600_000), types.FrequencyPpm(p, 30_000_000, 0))
	// Perfect completion cancels any penalty.
	require.Equal(t, uint32(1_000_000), types.FrequencyPpm(p, 1_000_000_000, 1_000_000))
	// Way above: floored at zero.
	require.Equal(t, uint32(0), types.FrequencyPpm(p, 1_000_000_000, 0))
	require.Equal(t, uint32(0), types.FrequencyPpm(p, ^uint64(0), 0))
	// A higher rate never raises the factor.
	prev := uint32(1_000_000)
	for r := uint64(0); r < 100_000_000; r += 777_777 {
		f := types.FrequencyPpm(p, r, 300_000)
		require.LessOrEqual(t, f, prev)
		prev = f
	}
}

func TestScorePpm(t *testing.T) {
	p := types.DefaultParams() // weights 8, 2, 2, 4
	// (8·500_000 + 2·1e6 + 2·500_000 + 4·500_000)/16
	require.Equal(t, uint32(562_500), types.ScorePpm(p, 500_000, 1_000_000, 500_000, 500_000))
	// (8·285_714 + 2·1e6 + 2·500_000 + 4·500_000)/16 = 7_285_712/16
	require.Equal(t, uint32(455_357), types.ScorePpm(p, 285_714, 1_000_000, 500_000, 500_000))
	require.Equal(t, uint32(1_000_000), types.ScorePpm(p, 1_000_000, 1_000_000, 1_000_000, 1_000_000))
	require.Equal(t, uint32(0), types.ScorePpm(p, 0, 0, 0, 0))
	p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 1, 0, 0, 0
	require.Equal(t, uint32(285_714), types.ScorePpm(p, 285_714, 1_000_000, 500_000, 500_000))
}
