package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

const (
	high    = shardtypes.ClassHighPriority
	low     = shardtypes.ClassLowPriority
	data    = shardtypes.ClassDataIntensive
	compute = shardtypes.ClassComputeIntensive
)

// Priority and DueHeight against values computed by hand.
func TestPriorityAndDueHeight(t *testing.T) {
	d := types.DefaultParams() // weights rep 4, urgency 4, class 2; max wait 50
	cases := []struct {
		name    string
		params  types.Params
		rep     uint32
		class   shardtypes.ShardClass
		urgency types.Urgency
		want    uint32
	}{
		{"high/critical", d, 500_000, high, types.UrgencyCritical, 800_000},                    // (2e6+4e6+2e6)/10
		{"high/normal", d, 500_000, high, types.UrgencyNormal, 533_333},                        // (2e6+1_333_332+2e6)/10
		{"low/low", d, 500_000, low, types.UrgencyLow, 200_000},                                // 2e6/10
		{"data/high", d, 500_000, data, types.UrgencyHigh, 566_666},                            // (2e6+2_666_664+1e6)/10
		{"compute/normal", d, 500_000, compute, types.UrgencyNormal, 433_333},                  // (2e6+1_333_332+1e6)/10
		{"lowest", d, 0, low, types.UrgencyLow, 0},                                             // 0
		{"highest", d, 1_000_000, high, types.UrgencyCritical, 1_000_000},                      // 1e7/10
		{"reputation only", weights(1, 0, 0), 123_457, low, types.UrgencyLow, 123_457},         // rep
		{"urgency only", weights(0, 3, 0), 999_999, low, types.UrgencyHigh, 666_666},           // urgency value
		{"class only", weights(0, 0, 7), 999_999, data, types.UrgencyCritical, 500_000},        // class value
		{"rep and class", weights(1, 0, 2), 900_000, compute, types.UrgencyLow, 633_333},       // (9e5+1e6)/3
		{"unspecified urgency counts as normal", d, 0, low, types.UrgencyUnspecified, 133_333}, // 4·333_333/10
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, types.Priority(tc.params, tc.rep, tc.class, tc.urgency), tc.name)
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

// UrgencyValue and ClassValue read the governed value of each urgency and
// class; an unspecified urgency counts as normal, an unspecified or unknown
// class is worth nothing.
func TestUrgencyAndClassValues(t *testing.T) {
	p := types.DefaultParams()
	p.UrgencyValueLowPpm, p.UrgencyValueNormalPpm, p.UrgencyValueHighPpm, p.UrgencyValueCriticalPpm = 11, 22, 33, 44
	p.ClassWeightHighPriorityPpm, p.ClassWeightLowPriorityPpm = 101, 102
	p.ClassWeightDataIntensivePpm, p.ClassWeightComputeIntensivePpm = 103, 104
	for u, want := range map[types.Urgency]uint32{
		types.UrgencyLow: 11, types.UrgencyNormal: 22, types.UrgencyHigh: 33, types.UrgencyCritical: 44,
		types.UrgencyUnspecified: 22, types.Urgency(99): 22,
	} {
		require.Equal(t, want, types.UrgencyValue(p, u), "urgency %s", u)
	}
	for c, want := range map[shardtypes.ShardClass]uint32{
		high: 101, low: 102, data: 103, compute: 104,
		shardtypes.ClassUnspecified: 0, shardtypes.ShardClass(99): 0,
	} {
		require.Equal(t, want, types.ClassValue(p, c), "class %s", c)
	}
}

func weights(rep, urgency, class uint32) types.Params {
	p := types.DefaultParams()
	p.PriorityWeightReputation, p.PriorityWeightUrgency, p.PriorityWeightClass = rep, urgency, class
	return p
}
