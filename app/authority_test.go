package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// A MsgUpdateParams from anyone but governance is refused as unauthorized —
// also when its params are invalid — in a real signed tx, and the params
// stay as they were.
func TestUpdateParamsFromNonAuthorityIsUnauthorizedEvenWithInvalidParams(t *testing.T) {
	c := apptest.New(t, 1, nil)
	signer := c.Accounts[0]
	from := signer.Address.String()
	for _, tc := range []struct {
		msg  sdk.Msg
		want *errorsmod.Error
	}{
		{&reputationtypes.MsgUpdateParams{Authority: from}, reputationtypes.ErrUnauthorized},
		{&shardtypes.MsgUpdateParams{Authority: from}, shardtypes.ErrUnauthorized},
		{&deferraltypes.MsgUpdateParams{Authority: from}, deferraltypes.ErrUnauthorized},
		{&rewardstypes.MsgUpdateParams{Authority: from}, rewardstypes.ErrUnauthorized},
		{&reputationtypes.MsgUpdateParams{Authority: from, Params: reputationtypes.DefaultParams()}, reputationtypes.ErrUnauthorized},
	} {
		res := c.NextBlock(t, c.SignTx(t, signer, tc.msg))[0]
		require.Equal(t, tc.want.Codespace(), res.Codespace, "%T: %s", tc.msg, res.Log)
		require.Equal(t, tc.want.ABCICode(), res.Code, "%T: %s", tc.msg, res.Log)
	}
	requireDefaultParams(t, c)
}
