package types_test

import (
	"testing"

	"github.com/repshard/repshard/testutil/paramstest"
	"github.com/repshard/repshard/x/deferral/types"
)

// Every parameter counted in blocks is at most paramcheck.MaxBlocks, so height +
// period (and 2·period) can never overflow into a negative height or a zero
// divisor; the bound itself is accepted.
func TestParamsValidateBoundsBlockCounts(t *testing.T) {
	paramstest.RequireBlockCountsBounded(t, types.DefaultParams, types.Params.Validate, []paramstest.BlockField[types.Params]{
		{Name: "max_wait_blocks", Set: func(p *types.Params, v uint64) { p.MaxWaitBlocks = v }},
		{Name: "queue_ttl_blocks", Set: func(p *types.Params, v uint64) { p.QueueTtlBlocks = v }},
		{Name: "assignment_timeout_blocks", Set: func(p *types.Params, v uint64) { p.AssignmentTimeoutBlocks = v }},
		{Name: "retention_blocks", Set: func(p *types.Params, v uint64) { p.RetentionBlocks = v }},
	})
}
