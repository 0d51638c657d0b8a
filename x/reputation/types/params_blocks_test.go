package types_test

import (
	"testing"

	"github.com/repshard/repshard/testutil/paramstest"
	"github.com/repshard/repshard/x/reputation/types"
)

// Every parameter counted in blocks is at most paramcheck.MaxBlocks, so height +
// period (and 2·period) can never overflow into a negative height or a zero
// divisor; the bound itself is accepted.
func TestParamsValidateBoundsBlockCounts(t *testing.T) {
	paramstest.RequireBlockCountsBounded(t, types.DefaultParams, types.Params.Validate, []paramstest.BlockField[types.Params]{
		{Name: "rate_half_life_blocks", Set: func(p *types.Params, v uint64) { p.RateHalfLifeBlocks = v }},
		{Name: "rate_window_blocks", Set: func(p *types.Params, v uint64) { p.RateWindowBlocks = v }},
		{Name: "inactivity_decay_blocks", Set: func(p *types.Params, v uint64) { p.InactivityDecayBlocks = v }},
		{Name: "worker_pause_blocks", Set: func(p *types.Params, v uint64) { p.WorkerPauseBlocks = v }},
	})
}
