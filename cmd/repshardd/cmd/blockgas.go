package cmd

import (
	"fmt"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
)

// DefaultBlockMaxGas is the block gas limit (consensus param block.max_gas)
// that `repshardd init` and `repshardd testnet init-files` write into a new
// genesis. CometBFT's default, -1, means no limit: a proposer then puts every
// tx of its mempool into one block, and a burst of large batches makes one
// block that takes the network a minute to execute. 100,000,000 gas holds
// about 1,500 bank sends, 3,400 batched submissions of 100 assigned
// requests' worth (29k gas each) or 570 worker reports of a 100-report batch
// (175k each), i.e. more than a node executes in one 900 ms block on the
// reference machine, and far above any single tx the CLI or the worker daemon
// builds (a batch of 100 deferred submissions is ≈ 6.8M). Governance changes
// it with an x/consensus MsgUpdateParams proposal.
const DefaultBlockMaxGas int64 = 100_000_000

// flagBlockMaxGas overrides DefaultBlockMaxGas (-1: no limit).
const flagBlockMaxGas = "block-max-gas"

// setBlockMaxGas writes maxGas into g's consensus params, filling CometBFT's
// defaults when g has none yet. maxGas must be -1 (no limit) or positive.
func setBlockMaxGas(g *genutiltypes.AppGenesis, maxGas int64) error {
	if maxGas == 0 || maxGas < -1 {
		return fmt.Errorf("--%s must be -1 (no limit) or positive, got %d", flagBlockMaxGas, maxGas)
	}
	if g.Consensus == nil {
		g.Consensus = &genutiltypes.ConsensusGenesis{}
	}
	if g.Consensus.Params == nil {
		g.Consensus.Params = cmttypes.DefaultConsensusParams()
	}
	g.Consensus.Params.Block.MaxGas = maxGas
	return nil
}

// withBlockMaxGas wraps the SDK's init command: after it wrote the genesis,
// the genesis gets the block gas limit of --block-max-gas.
func withBlockMaxGas(initCmd *cobra.Command) *cobra.Command {
	run := initCmd.RunE
	initCmd.Flags().Int64(flagBlockMaxGas, DefaultBlockMaxGas, "block gas limit (consensus param block.max_gas) of the new genesis; -1 for none")
	initCmd.RunE = func(cmd *cobra.Command, args []string) error {
		maxGas, err := cmd.Flags().GetInt64(flagBlockMaxGas)
		if err != nil {
			return err
		}
		if err := setBlockMaxGas(&genutiltypes.AppGenesis{}, maxGas); err != nil {
			return err // refused before anything is written
		}
		if err := run(cmd, args); err != nil {
			return err
		}
		genFile := server.GetServerContextFromCmd(cmd).Config.GenesisFile()
		g, err := genutiltypes.AppGenesisFromFile(genFile)
		if err != nil {
			return err
		}
		if err := setBlockMaxGas(g, maxGas); err != nil {
			return err
		}
		return genutil.ExportGenesisFile(g, genFile)
	}
	return initCmd
}
