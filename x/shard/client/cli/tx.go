// Package cli holds the hand-written x/shard commands; every other command
// comes from AutoCLI (see ../../autocli.go).
package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/shard/types"
)

// FlagStorageBytes is the storage a worker offers.
const FlagStorageBytes = "storage-bytes"

// FlagEndpoint is the worker's public data-plane URL.
const FlagEndpoint = "endpoint"

// NewTxCmd returns `tx shard`, holding register-worker. AutoCLI adds the
// generated commands (update-worker, unregister-worker,
// update-params-proposal) to it.
func NewTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "Transactions of the x/shard module: register and manage workers",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NewRegisterWorkerCmd(), UpdateParamsProposalCmd())
	return cmd
}

// NewRegisterWorkerCmd returns `tx shard register-worker`.
func NewRegisterWorkerCmd() *cobra.Command {
	classes := strings.Join(types.ClassCLINames(), ", ")
	cmd := &cobra.Command{
		Use:   "register-worker [classes] [capacity-units] [bond]",
		Short: "Register the --from account as a worker, escrowing a bond",
		Long: fmt.Sprintf(`Register the --from account as a worker that processes deferred requests.

  classes         the request classes you serve, as a comma list without spaces,
                  of: %s
  capacity-units  how many compute units of requests you can process at once (> 0)
  bond            the amount escrowed in the x/shard module account while you are a
                  worker, e.g. 10000000urep (at least min_worker_bond: see
                  'repshardd q shard params')

The worker joins the ACTIVE shard of its classes that has the least capacity.
To leave, run 'repshardd tx shard unregister-worker': the bond comes back
unbonding_period_blocks after your last assignment finishes.`, classes),
		Example: `repshardd tx shard register-worker high-priority,compute-intensive 100 10000000urep --storage-bytes 1073741824 --endpoint https://worker1.example.org:8443 --from worker1`,
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			clientCtx = clientCtx.WithOutput(cmd.OutOrStdout())
			msg, err := ParseRegisterWorker(clientCtx.GetFromAddress().String(), args[0], args[1], args[2], cmd)
			if err != nil {
				return errors.New(err.Error()) // the message alone, without the error's source location
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().Uint64(FlagStorageBytes, 0, "storage, in bytes, the worker offers for request data: a request goes only to a worker whose storage covers its data (0: requests without data only)")
	cmd.Flags().String(FlagEndpoint, "", "the public URL (http or https) where your worker daemon serves results to their requesters (its --listen address as seen from outside; docs/dataplane.md)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// ParseRegisterWorker builds a MsgRegisterWorker from the command's
// arguments; it rejects unknown or repeated classes, a capacity that is not a
// positive integer and a malformed bond.
func ParseRegisterWorker(worker, classesArg, capacityArg, bondArg string, cmd *cobra.Command) (*types.MsgRegisterWorker, error) {
	classes, err := types.ParseClassList(classesArg)
	if err != nil {
		return nil, err
	}
	capacity, err := strconv.ParseUint(strings.TrimSpace(capacityArg), 10, 64)
	if err != nil || capacity == 0 {
		return nil, fmt.Errorf("capacity-units must be a positive integer, got %q", capacityArg)
	}
	bond, err := sdk.ParseCoinNormalized(bondArg)
	if err != nil {
		return nil, fmt.Errorf("bond must be an amount with its denom, e.g. 10000000urep: %w", err)
	}
	storage, err := cmd.Flags().GetUint64(FlagStorageBytes)
	if err != nil {
		return nil, err
	}
	endpoint, err := cmd.Flags().GetString(FlagEndpoint)
	if err != nil {
		return nil, err
	}
	if err := types.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	return &types.MsgRegisterWorker{
		Worker: worker, Classes: classes, CapacityUnits: capacity, StorageBytes: storage, Bond: bond, Endpoint: endpoint,
	}, nil
}
