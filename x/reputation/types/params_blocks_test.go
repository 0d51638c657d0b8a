package types_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/reputation/types"
)

// Every parameter counted in blocks is at most ppm.MaxBlocks, so height +
// period (and 2·period) can never overflow into a negative height or a zero
// divisor; the bound itself is accepted.
func TestParamsValidateBoundsBlockCounts(t *testing.T) {
	fields := []struct {
		name string
		set  func(p *types.Params, v uint64)
	}{
		{"rate_half_life_blocks", func(p *types.Params, v uint64) { p.RateHalfLifeBlocks = v }},
		{"rate_window_blocks", func(p *types.Params, v uint64) { p.RateWindowBlocks = v }},
		{"inactivity_decay_blocks", func(p *types.Params, v uint64) { p.InactivityDecayBlocks = v }},
	}
	for _, f := range fields {
		for _, v := range []uint64{ppm.MaxBlocks + 1, math.MaxInt64, math.MaxUint64} {
			p := types.DefaultParams()
			f.set(&p, v)
			require.ErrorContains(t, p.Validate(), f.name, "%s = %d", f.name, v)
		}
	}
	p := types.DefaultParams()
	for _, f := range fields {
		f.set(&p, ppm.MaxBlocks)
	}
	require.NoError(t, p.Validate(), "every block count = MaxBlocks")
}
