package paramsproposal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/repshard/repshard/internal/paramsproposal"
	"github.com/repshard/repshard/x/reputation"
	"github.com/repshard/repshard/x/reputation/types"
)

func TestMergeChangesOnlyTheNamedFields(t *testing.T) {
	cdc := moduletestutil.MakeTestEncodingConfig(reputation.AppModule{}).Codec
	cur := types.DefaultParams()
	cur.InactivityDecayBlocks = 0 // a zero field must survive too

	got, changes, err := paramsproposal.Merge[types.Params](cdc, cur, []byte(`{"weight_completion": 9, "rate_half_life_blocks": "250"}`))
	require.NoError(t, err)
	want := cur
	want.WeightCompletion, want.RateHalfLifeBlocks = 9, 250
	require.Equal(t, want, got)
	require.Equal(t, []string{`rate_half_life_blocks: "100" -> "250"`, "weight_completion: 8 -> 9"}, changes)

	// Restating a current value is no change.
	_, changes, err = paramsproposal.Merge[types.Params](cdc, cur, []byte(`{"weight_peer": 4}`))
	require.NoError(t, err)
	require.Empty(t, changes)
}

func TestMergeRejectsUnknownFieldsAndNonObjects(t *testing.T) {
	cdc := moduletestutil.MakeTestEncodingConfig(reputation.AppModule{}).Codec
	for name, patch := range map[string]string{
		"unknown field": `{"weight_completoin": 9}`,
		"wrong type":    `{"weight_completion": "lots"}`,
		"not an object": `[1, 2]`,
		"not JSON":      `weight_completion=9`,
	} {
		_, _, err := paramsproposal.Merge[types.Params](cdc, types.DefaultParams(), []byte(patch))
		require.Error(t, err, name)
	}
}
