package app_test

import (
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"

	"github.com/repshard/repshard/testutil/apptest"
)

// A text proposal is legacy content: it reaches x/gov either wrapped in a
// v1 MsgExecLegacyContent or as a v1beta1 MsgSubmitProposal (what
// `tx gov submit-legacy-proposal --type Text` sends). Both are accepted,
// voted on and pass, which needs the legacy router the app sets on the gov
// keeper (without it the submission fails with a nil-pointer panic).
func TestTextProposalsOfLegacyContentPass(t *testing.T) {
	c := apptest.New(t, 1, nil)
	proposer := c.Accounts[0] // the delegator of the only validator
	govParams, err := c.App.GovKeeper.Params.Get(c.Context())
	require.NoError(t, err)
	govAddr := authtypes.NewModuleAddress(govtypes.ModuleName).String()

	text := &govv1beta1.TextProposal{Title: "signal", Description: "a text proposal changes no state"}
	contentAny, err := codectypes.NewAnyWithValue(text)
	require.NoError(t, err)
	execAny, err := codectypes.NewAnyWithValue(govv1.NewMsgExecLegacyContent(contentAny, govAddr))
	require.NoError(t, err)

	v1Submit := &govv1.MsgSubmitProposal{
		Messages: []*codectypes.Any{execAny}, InitialDeposit: govParams.MinDeposit,
		Proposer: proposer.Address.String(), Title: "signal", Summary: "a text proposal changes no state",
	}
	v1beta1Submit, err := govv1beta1.NewMsgSubmitProposal(text, govParams.MinDeposit, proposer.Address)
	require.NoError(t, err)

	var ids []uint64
	for _, msg := range []sdk.Msg{v1Submit, v1beta1Submit} {
		res := c.NextBlock(t, c.SignTx(t, proposer, msg))[0]
		require.Zero(t, res.Code, "%T: %s", msg, res.Log)
		id, err := c.App.GovKeeper.ProposalID.Peek(c.Context())
		require.NoError(t, err)
		ids = append(ids, id-1)
	}
	require.Equal(t, []uint64{1, 2}, ids)

	for _, id := range ids {
		res := c.NextBlock(t, c.SignTx(t, proposer, govv1.NewMsgVote(proposer.Address, id, govv1.OptionYes, "")))[0]
		require.Zero(t, res.Code, res.Log)
	}

	// A block after the voting period: gov's EndBlock tallies and executes
	// the legacy content through the router.
	_, err = c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height: c.App.LastBlockHeight() + 1, NextValidatorsHash: c.ValSet.Hash(),
		Time: time.Unix(0, 0).Add(*govParams.VotingPeriod), // the earlier blocks carry the zero time
	})
	require.NoError(t, err)
	_, err = c.App.Commit()
	require.NoError(t, err)

	for _, id := range ids {
		prop, err := c.App.GovKeeper.Proposals.Get(c.Context(), id)
		require.NoError(t, err)
		require.Equal(t, govv1.StatusPassed, prop.Status, "proposal %d: %s", id, prop.FailedReason)
	}
}
