package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/deferral/types"
)

// Priority and DueHeight against values computed by hand.
func TestPriorityAndDueHeight(t *testing.T) {
	// Defaults: weights reputation 1, urgency 4; urgency values low 0,
	// normal 200_000, high 950_000, critical 1_000_000; max wait 50.
	d := types.DefaultParams()
	cases := []struct {
		name    string
		params  types.Params
		rep     uint32
		urgency types.Urgency
		want    uint32
	}{
		{"critical", d, 500_000, types.UrgencyCritical, 900_000},                          // (5e5+4e6)/5
		{"high", d, 500_000, types.UrgencyHigh, 860_000},                                  // (5e5+3.8e6)/5
		{"normal", d, 500_000, types.UrgencyNormal, 260_000},                              // (5e5+8e5)/5
		{"low", d, 500_000, types.UrgencyLow, 100_000},                                    // 5e5/5
		{"lowest", d, 0, types.UrgencyLow, 0},                                             // 0
		{"highest", d, 1_000_000, types.UrgencyCritical, 1_000_000},                       // 5e6/5
		{"reputation only", weights(1, 0), 123_457, types.UrgencyCritical, 123_457},       // rep
		{"urgency only", weights(0, 3), 999_999, types.UrgencyHigh, 950_000},              // urgency value
		{"both equal", weights(2, 2), 900_000, types.UrgencyNormal, 550_000},              // (9e5+2e5)/2
		{"unspecified urgency counts as normal", d, 0, types.UrgencyUnspecified, 160_000}, // 4·200_000/5
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, types.Priority(tc.params, tc.rep, tc.urgency), tc.name)
	}
	due := []struct {
		priority uint32
		want     int64
	}{
		{1_000_000, 100}, // highest: due at once
		{800_000, 110},   // 50·200_000/1e6 = 10
		{533_333, 123},   // ⌊50·466_667/1e6⌋ = ⌊23.33⌋
		{433_333, 128},   // ⌊28.33⌋
		{1, 149},         // ⌊49.99995⌋
		{0, 150},         // lowest: max_wait blocks later
	}
	for _, tc := range due {
		require.Equal(t, tc.want, types.DueHeight(d, 100, tc.priority), "priority %d", tc.priority)
	}

	// No starvation: every priority is due within max_wait blocks, and a
	// higher priority is never due later than a lower one.
	for _, maxWait := range []uint64{1, 50, 1_000, 1 << 40} {
		p := d
		p.MaxWaitBlocks = maxWait
		prev := types.DueHeight(p, 7, 0)
		require.Equal(t, 7+int64(maxWait), prev)
		for pr := uint32(0); pr <= 1_000_000; pr += 9_973 {
			got := types.DueHeight(p, 7, pr)
			require.GreaterOrEqual(t, got, int64(7))
			require.LessOrEqual(t, got, 7+int64(maxWait))
			require.LessOrEqual(t, got, prev)
			prev = got
		}
		require.Equal(t, int64(7), types.DueHeight(p, 7, 1_000_000))
	}
}

// UrgencyValue reads the governed value of each urgency; an unspecified or
// unknown urgency counts as normal.
func TestUrgencyValues(t *testing.T) {
	p := types.DefaultParams()
	p.UrgencyValueLowPpm, p.UrgencyValueNormalPpm, p.UrgencyValueHighPpm, p.UrgencyValueCriticalPpm = 11, 22, 33, 44
	for u, want := range map[types.Urgency]uint32{
		types.UrgencyLow: 11, types.UrgencyNormal: 22, types.UrgencyHigh: 33, types.UrgencyCritical: 44,
		types.UrgencyUnspecified: 22, types.Urgency(99): 22,
	} {
		require.Equal(t, want, types.UrgencyValue(p, u), "urgency %s", u)
	}
}

func weights(rep, urgency uint32) types.Params {
	p := types.DefaultParams()
	p.PriorityWeightReputation, p.PriorityWeightUrgency = rep, urgency
	return p
}
