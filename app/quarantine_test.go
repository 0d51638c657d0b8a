package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/repshard/repshard/app"
	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/testutil/apptest"
	deferralkeeper "github.com/repshard/repshard/x/deferral/keeper"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The whole quarantine path on the real app, through a real governance
// proposal: two queued requests whose drain fails in every block (their
// records corrupted) are quarantined at max_item_failures (2) while the
// request between them is assigned; one record is repaired, and one
// proposal carrying MsgRetryQuarantined for it and MsgDropQuarantined for
// the other passes the vote. In the block that executes it the retried
// request is drained to the worker and the dropped one ends DROPPED with its
// whole fee refunded. The app's invariants (escrow = Σ open fees, bonds,
// queue entries, the rewards book …) hold after every block.
func TestQuarantineRetryAndDropThroughAGovernanceProposal(t *testing.T) {
	c := apptest.New(t, 3, func(g app.GenesisState) {
		apptest.EditGenesis(t, g, deferraltypes.ModuleName, &deferraltypes.GenesisState{}, func(gs *deferraltypes.GenesisState) {
			gs.Params.MaxItemFailures = 2
		})
	})
	proposer, requester, worker := c.Accounts[0], c.Accounts[1], c.Accounts[2] // the proposer holds the bonded stake
	block := func(txs ...[]byte) {
		t.Helper()
		for i, res := range c.NextBlock(t, txs...) {
			require.Zero(t, res.Code, "tx %d: %s", i, res.Log)
		}
		require.NoError(t, c.App.CheckInvariants(c.Committed()), "invariants after block %d", c.App.LastBlockHeight())
	}
	submit := func() *deferraltypes.MsgSubmitRequest {
		return &deferraltypes.MsgSubmitRequest{
			Requester: requester.Address.String(), Class: shardtypes.ClassLowPriority, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: 1, Payload: []byte("job"), MaxFee: sdk.NewInt64Coin("urep", 1_000_000_000),
		}
	}
	block(c.SignTx(t, requester, submit(), submit(), submit())) // queued: no worker yet
	corrupt := func(id uint64, excluded []string) {
		ctx := c.Tamper()
		r, err := c.App.DeferralKeeper.Requests.Get(ctx, id)
		require.NoError(t, err)
		r.ExcludedWorkers = excluded
		require.NoError(t, c.App.DeferralKeeper.Requests.Set(ctx, id, r))
	}
	corrupt(1, []string{"bogus"})
	corrupt(3, []string{"bogus"})
	sp, err := c.App.ShardKeeper.GetParams(c.Committed())
	require.NoError(t, err)
	block(c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassLowPriority},
		CapacityUnits: 10, Bond: sp.MinWorkerBond, StorageBytes: 1 << 30,
	}))
	block()
	request := func(id uint64) deferraltypes.Request {
		r, err := c.App.DeferralKeeper.Requests.Get(c.Committed(), id)
		require.NoError(t, err)
		return r
	}
	require.Equal(t, deferraltypes.StatusAssigned, request(2).Status, "the request between the failing ones is served")
	q, err := deferralkeeper.NewQueryServerImpl(c.App.DeferralKeeper).Quarantine(c.Committed(), &deferraltypes.QueryQuarantineRequest{})
	require.NoError(t, err)
	require.Len(t, q.Items, 2)
	corrupt(3, nil) // repaired

	gov := deferraltypes.GovAuthority()
	retry, err := codectypes.NewAnyWithValue(&deferraltypes.MsgRetryQuarantined{Authority: gov, Step: deferraltypes.StepDrainQueues, Item: "request/3"})
	require.NoError(t, err)
	drop, err := codectypes.NewAnyWithValue(&deferraltypes.MsgDropQuarantined{Authority: gov, Step: deferraltypes.StepDrainQueues, Item: "request/1"})
	require.NoError(t, err)
	govParams, err := c.App.GovKeeper.Params.Get(c.Committed())
	require.NoError(t, err)
	res := c.NextBlock(t, c.SignTx(t, proposer, &govv1.MsgSubmitProposal{
		Messages: []*codectypes.Any{retry, drop}, InitialDeposit: govParams.MinDeposit, Proposer: proposer.Address.String(),
		Title: "quarantine", Summary: "retry request 3, drop request 1",
	}))[0]
	var submitted govv1.MsgSubmitProposalResponse
	c.MsgResponse(t, res, &submitted)
	block(c.SignTx(t, proposer, &govv1.MsgVote{ProposalId: submitted.ProposalId, Voter: proposer.Address.String(), Option: govv1.OptionYes}))

	requesterBefore, escrowBefore := c.App.BankKeeper.GetBalance(c.Committed(), requester.Address, "urep"),
		c.App.BankKeeper.GetBalance(c.Committed(), c.App.RewardsKeeper.EscrowAddress(), "urep")
	fee := request(1).Fee
	c.BlockTime = c.BlockTime.Add(*govParams.VotingPeriod) // the vote ends: gov's EndBlock executes the proposal
	block()
	prop, err := c.App.GovKeeper.Proposals.Get(c.Committed(), submitted.ProposalId)
	require.NoError(t, err)
	require.Equal(t, govv1.StatusPassed, prop.Status, prop.FailedReason)

	require.Equal(t, deferraltypes.StatusDropped, request(1).Status)
	require.Equal(t, deferraltypes.StatusAssigned, request(3).Status, "retried and drained in the same block")
	require.Equal(t, worker.Address.String(), request(3).Worker)
	require.Equal(t, requesterBefore.Add(fee), c.App.BankKeeper.GetBalance(c.Committed(), requester.Address, "urep"))
	require.Equal(t, escrowBefore.Sub(fee), c.App.BankKeeper.GetBalance(c.Committed(), c.App.RewardsKeeper.EscrowAddress(), "urep"))
	q, err = deferralkeeper.NewQueryServerImpl(c.App.DeferralKeeper).Quarantine(c.Committed(), &deferraltypes.QueryQuarantineRequest{})
	require.NoError(t, err)
	require.Empty(t, q.Items)
	require.Len(t, apptest.TypedEvents[*deferraltypes.EventRequestDropped](t, c.BlockEvents), 1)
	require.Len(t, apptest.TypedEvents[*qtypes.EventQuarantinedItemRetried](t, c.BlockEvents), 1)
}

// MsgRetryQuarantined and MsgDropQuarantined of every module signed by
// anyone but governance are refused as unauthorized in a real signed tx.
func TestQuarantineMessagesFromNonAuthorityAreUnauthorized(t *testing.T) {
	c := apptest.New(t, 1, nil)
	signer := c.Accounts[0]
	from := signer.Address.String()
	for _, tc := range []struct {
		msg       sdk.Msg
		codespace string
		code      uint32
	}{
		{&deferraltypes.MsgRetryQuarantined{Authority: from, Step: "drain_queues", Item: "request/1"}, deferraltypes.ModuleName, deferraltypes.ErrUnauthorized.ABCICode()},
		{&deferraltypes.MsgDropQuarantined{Authority: from, Step: "drain_queues", Item: "request/1"}, deferraltypes.ModuleName, deferraltypes.ErrUnauthorized.ABCICode()},
		{&shardtypes.MsgRetryQuarantined{Authority: from}, shardtypes.ModuleName, shardtypes.ErrUnauthorized.ABCICode()},
		{&shardtypes.MsgDropQuarantined{Authority: from}, shardtypes.ModuleName, shardtypes.ErrUnauthorized.ABCICode()},
		{&reputationtypes.MsgRetryQuarantined{Authority: from}, reputationtypes.ModuleName, reputationtypes.ErrUnauthorized.ABCICode()},
		{&reputationtypes.MsgDropQuarantined{Authority: from}, reputationtypes.ModuleName, reputationtypes.ErrUnauthorized.ABCICode()},
		{&rewardstypes.MsgRetryQuarantined{Authority: from}, rewardstypes.ModuleName, rewardstypes.ErrUnauthorized.ABCICode()},
		{&rewardstypes.MsgDropQuarantined{Authority: from}, rewardstypes.ModuleName, rewardstypes.ErrUnauthorized.ABCICode()},
	} {
		res := c.NextBlock(t, c.SignTx(t, signer, tc.msg))[0]
		require.Equal(t, tc.codespace, res.Codespace, "%T: %s", tc.msg, res.Log)
		require.Equal(t, tc.code, res.Code, "%T: %s", tc.msg, res.Log)
	}
}
