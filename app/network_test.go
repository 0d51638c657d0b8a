package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/testutil/network"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/repshard/repshard/testutil/testnetwork"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// A real in-process CometBFT validator produces blocks and serves the four
// Params queries over gRPC and REST; a governance proposal (submit with
// deposit, vote, pass) changes the x/reputation weights, while the same
// MsgUpdateParams signed by anyone but gov is refused.
func TestNetworkParamsQueriesAndGovernance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	const votingPeriod = 4 * time.Second
	cfg, err := testnetwork.DefaultConfig(votingPeriod)
	require.NoError(t, err)
	cfg.NumValidators = 1
	net, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	val := net.Validators[0]

	h, err := net.WaitForHeightWithTimeout(3, 30*time.Second)
	require.NoError(t, err)
	require.GreaterOrEqual(t, h, int64(3))

	conn, err := grpc.NewClient(val.AppConfig.GRPC.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ctx := context.Background()

	rep, err := reputationtypes.NewQueryClient(conn).Params(ctx, &reputationtypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, reputationtypes.DefaultParams(), rep.Params)
	sh, err := shardtypes.NewQueryClient(conn).Params(ctx, &shardtypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, shardtypes.DefaultParams(), sh.Params)
	de, err := deferraltypes.NewQueryClient(conn).Params(ctx, &deferraltypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, deferraltypes.DefaultParams(), de.Params)
	rw, err := rewardstypes.NewQueryClient(conn).Params(ctx, &rewardstypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, rewardstypes.DefaultParams(), rw.Params)

	for module, field := range map[string]string{
		"reputation": "weight_completion", "shard": "split_load_threshold_ppm",
		"deferral": "defer_load_threshold_ppm", "rewards": "epoch_length_blocks",
	} {
		resp, err := http.Get(val.APIAddress + "/repshard/" + module + "/v1/params")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var out struct {
			Params map[string]any `json:"params"`
		}
		require.NoError(t, json.Unmarshal(body, &out), string(body))
		require.Contains(t, out.Params, field, "REST /repshard/%s/v1/params", module)
	}

	govAddr := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	newParams := reputationtypes.DefaultParams()
	newParams.WeightCompletion = 9
	newParams.WeightPeer = 1

	// The validator may not change params directly.
	res, err := testnetwork.BroadcastAndWait(net, val, &reputationtypes.MsgUpdateParams{
		Authority: val.Address.String(), Params: newParams,
	})
	require.NoError(t, err)
	require.Equal(t, reputationtypes.ErrUnauthorized.ABCICode(), res.Code, res.RawLog)
	require.Equal(t, reputationtypes.ModuleName, res.Codespace)

	// A proposal carrying invalid params is refused at submission, before any vote.
	invalid := newParams
	invalid.WeightCompletion, invalid.WeightFrequency, invalid.WeightValidation, invalid.WeightPeer = 0, 0, 0, 0
	badProposal, err := govv1.NewMsgSubmitProposal(
		[]sdk.Msg{&reputationtypes.MsgUpdateParams{Authority: govAddr, Params: invalid}},
		sdk.NewCoins(sdk.NewCoin(cfg.BondDenom, govv1.DefaultMinDepositTokens)),
		val.Address.String(), "", "Zero weights", "All weights zero", false,
	)
	require.NoError(t, err)
	res, err = testnetwork.BroadcastAndWait(net, val, badProposal)
	require.NoError(t, err)
	require.NotZero(t, res.Code, "a proposal with invalid params must be refused")
	require.Contains(t, res.RawLog, "at least one factor weight must be positive")

	// Governance may.
	proposal, err := govv1.NewMsgSubmitProposal(
		[]sdk.Msg{&reputationtypes.MsgUpdateParams{Authority: govAddr, Params: newParams}},
		sdk.NewCoins(sdk.NewCoin(cfg.BondDenom, govv1.DefaultMinDepositTokens)),
		val.Address.String(), "", "Trust completion more", "Raise the completion weight to 9 and lower the peer weight to 1", false,
	)
	require.NoError(t, err)
	// The proposal and the validator's vote in one tx: the deposit opens the
	// voting period at once, so the vote is in it however slowly the
	// machine makes blocks (a vote in a later tx could miss a short period).
	res, err = testnetwork.BroadcastAndWait(net, val, proposal, govv1.NewMsgVote(val.Address, 1, govv1.OptionYes, ""))
	require.NoError(t, err)
	require.Zero(t, res.Code, res.RawLog)

	govClient := govv1.NewQueryClient(conn)
	require.Eventually(t, func() bool {
		p, err := govClient.Proposal(ctx, &govv1.QueryProposalRequest{ProposalId: 1})
		return err == nil && p.Proposal.Status == govv1.StatusPassed
	}, votingPeriod+20*time.Second, 500*time.Millisecond, "proposal 1 did not pass")

	rep, err = reputationtypes.NewQueryClient(conn).Params(ctx, &reputationtypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, newParams, rep.Params)
}
