// Package cli holds the hand-written x/rewards commands; AutoCLI generates the rest.
package cli

import (
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"

	"github.com/repshard/repshard/x/rewards/types"
)

// GetTxCmd returns `repshardd tx rewards`; AutoCLI adds the generated commands to it.
func GetTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/rewards transactions",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(UpdateParamsProposalCmd())
	return cmd
}
