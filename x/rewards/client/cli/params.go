package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/paramsproposal"
	"github.com/repshard/repshard/x/rewards/types"
)

// UpdateParamsProposalCmd is `repshardd tx rewards update-params-proposal`: the
// given fields are overlaid on the current params (see paramsproposal).
func UpdateParamsProposalCmd() *cobra.Command {
	return paramsproposal.Cmd[types.Params](types.ModuleName,
		func(ctx context.Context, clientCtx client.Context) (types.Params, error) {
			res, err := types.NewQueryClient(clientCtx).Params(ctx, &types.QueryParamsRequest{})
			if err != nil {
				return types.Params{}, err
			}
			return res.Params, nil
		},
		func(authority string, params types.Params) sdk.Msg {
			return &types.MsgUpdateParams{Authority: authority, Params: params}
		})
}
