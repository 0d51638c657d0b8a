package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/reputation/types"
)

// max_item_failures is 1..1,000, 5 by default.
func TestParamsMaxItemFailures(t *testing.T) {
	p := types.DefaultParams()
	require.Equal(t, uint32(quarantine.DefaultMaxItemFailures), p.MaxItemFailures)
	for _, bad := range []uint32{0, quarantine.MaxItemFailuresLimit + 1} {
		p.MaxItemFailures = bad
		require.ErrorContains(t, p.Validate(), "max_item_failures", "%d", bad)
	}
	for _, ok := range []uint32{1, quarantine.MaxItemFailuresLimit} {
		p.MaxItemFailures = ok
		require.NoError(t, p.Validate(), "%d", ok)
	}
}
