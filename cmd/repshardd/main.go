// Command repshardd is the repshard node and client: it runs a validator or
// full node, manages keys, and sends transactions and queries.
package main

import (
	"fmt"
	"os"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/cmd/repshardd/cmd"
)

func main() {
	rootCmd := cmd.NewRootCmd()
	if err := svrcmd.Execute(rootCmd, "", cmd.DefaultNodeHome(app.Name)); err != nil {
		fmt.Fprintln(rootCmd.OutOrStderr(), err)
		os.Exit(1)
	}
}
