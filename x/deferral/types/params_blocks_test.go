package types_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/deferral/types"
)

// Every parameter counted in blocks is at most ppm.MaxBlocks, so height +
// period (and 2·period) can never overflow into a negative height or a zero
// divisor; the bound itself is accepted.
func TestParamsValidateBoundsBlockCounts(t *testing.T) {
	fields := []struct {
		name string
		set  func(p *types.Params, v uint64)
	}{
		{"max_wait_blocks", func(p *types.Params, v uint64) { p.MaxWaitBlocks = v }},
		{"queue_ttl_blocks", func(p *types.Params, v uint64) { p.QueueTtlBlocks = v }},
		{"assignment_timeout_blocks", func(p *types.Params, v uint64) { p.AssignmentTimeoutBlocks = v }},
		{"retention_blocks", func(p *types.Params, v uint64) { p.RetentionBlocks = v }},
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
