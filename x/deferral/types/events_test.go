package types_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/deferral/types"
)

// EventRequestAssigned.ABCIEvent builds what sdk.TypedEventToEvent makes of
// the event (what EmitTypedEvent emits), for ordinary and extreme values and
// for strings that encoding/json escapes. Every field is set in the first
// case, so a field added to the message and not to ABCIEvent fails here.
func TestEventRequestAssignedABCIEvent(t *testing.T) {
	cases := []types.EventRequestAssigned{
		{RequestId: 7, ShardId: 2, Worker: "rep1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu", DeadlineHeight: 120, Attempt: 1, ComputeUnits: 3, WaitedBlocks: 4},
		{},
		{RequestId: math.MaxUint64, ShardId: math.MaxUint64, DeadlineHeight: math.MaxInt64, Attempt: math.MaxUint32, ComputeUnits: math.MaxUint64, WaitedBlocks: math.MaxInt64},
		{DeadlineHeight: math.MinInt64, WaitedBlocks: -1},
		{Worker: `a"b\c<d>&e` + "\u2028\n\t\x01é"},
		{Worker: "invalid \xff utf-8"},
		{Worker: "ABCxyz019"},
		{Worker: "with space"},
	}
	for i, e := range cases {
		want, err := sdk.TypedEventToEvent(&e)
		require.NoError(t, err)
		require.Equal(t, want, e.ABCIEvent(), "case %d", i)
	}
	full, err := sdk.TypedEventToEvent(&cases[0])
	require.NoError(t, err)
	for _, a := range full.Attributes {
		require.NotContains(t, []string{`"0"`, `0`, `""`}, a.Value, "case 0 sets every field (%s)", a.Key)
	}
}
