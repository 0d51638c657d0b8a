package cmd

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/types/module"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
)

// NewTestnetCmd is being written.
func NewTestnetCmd(_ module.BasicManager, _ banktypes.GenesisBalancesIterator) *cobra.Command {
	return &cobra.Command{Use: "testnet", RunE: func(*cobra.Command, []string) error { return errors.New("todo") }}
}
