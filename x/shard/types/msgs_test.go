package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/shard/types"
)

// Governance calls ValidateBasic at submission: invalid params must be refused there.
func TestMsgUpdateParamsValidateBasic(t *testing.T) {
	gov := types.GovAuthority()
	require.NoError(t, (&types.MsgUpdateParams{Authority: gov, Params: types.DefaultParams()}).ValidateBasic())
	err := (&types.MsgUpdateParams{Authority: gov, Params: types.Params{}}).ValidateBasic()
	require.ErrorIs(t, err, types.ErrInvalidParams)
	// Anyone else is refused by the msg server as unauthorized, not here.
	require.NoError(t, (&types.MsgUpdateParams{Authority: "rep1someoneelse", Params: types.Params{}}).ValidateBasic())
}
