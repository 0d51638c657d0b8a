// Package cli holds the hand-written x/reputation commands; AutoCLI generates the rest.
package cli

import (
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"

	"github.com/repshard/repshard/x/reputation/types"
)

// GetTxCmd returns `repshardd tx reputation`; AutoCLI adds the generated commands to it.
func GetTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "x/reputation transactions",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(UpdateParamsProposalCmd())
	return cmd
}
