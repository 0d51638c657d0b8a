package types_test

import (
	"testing"

	"github.com/repshard/repshard/testutil/paramstest"
	"github.com/repshard/repshard/x/shard/types"
)

// Every parameter counted in blocks is at most paramcheck.MaxBlocks, so height +
// period (and 2·period) can never overflow into a negative height or a zero
// divisor; the bound itself is accepted.
func TestParamsValidateBoundsBlockCounts(t *testing.T) {
	paramstest.RequireBlockCountsBounded(t, types.DefaultParams, types.Params.Validate, []paramstest.BlockField[types.Params]{
		{Name: "unbonding_period_blocks", Set: func(p *types.Params, v uint64) { p.UnbondingPeriodBlocks = v }},
		{Name: "sustain_blocks", Set: func(p *types.Params, v uint64) { p.SustainBlocks = v }},
		{Name: "topology_cooldown_blocks", Set: func(p *types.Params, v uint64) { p.TopologyCooldownBlocks = v }},
	})
}
