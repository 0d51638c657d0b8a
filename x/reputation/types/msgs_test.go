package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/reputation/types"
)

// Governance calls ValidateBasic at submission: invalid params must be refused there.
func TestMsgUpdateParamsValidateBasic(t *testing.T) {
	require.NoError(t, (&types.MsgUpdateParams{Params: types.DefaultParams()}).ValidateBasic())
	err := (&types.MsgUpdateParams{Params: types.Params{}}).ValidateBasic()
	require.ErrorIs(t, err, types.ErrInvalidParams)
}
