// Package paramsproposal builds the `update-params-proposal` command of the
// repshard modules. MsgUpdateParams replaces a module's whole parameter set,
// so a proposal built from a partial JSON would silently zero every field it
// leaves out. This command reads the current params from the chain and
// overlays the given fields on them, prints what changes, and wraps the
// resulting MsgUpdateParams (authority: the gov module account) in a
// governance proposal. --replace sends the JSON as the complete set instead.
package paramsproposal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
)

// Flags of the command.
const (
	FlagReplace   = "replace"
	FlagDeposit   = "deposit"
	FlagTitle     = "title"
	FlagSummary   = "summary"
	FlagMetadata  = "metadata"
	FlagExpedited = "expedited"
)

// Params is a module's params message.
type Params[P any] interface {
	*P
	proto.Message
}

// Cmd returns `update-params-proposal [params-json]` for module. current
// reads the module's params from the chain; newMsg builds its MsgUpdateParams.
func Cmd[P any, PP Params[P]](
	module string,
	current func(ctx context.Context, conn client.Context) (P, error),
	newMsg func(authority string, params P) sdk.Msg,
) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update-params-proposal [params-json]",
		Short: fmt.Sprintf("Submit a governance proposal that changes x/%s parameters", module),
		Long: fmt.Sprintf(`Submit a governance proposal that changes x/%[1]s parameters.

params-json names only the fields to change; every other field keeps its
current value, read from the chain ('repshardd q %[1]s params -o json'). The
command prints each change before sending. With --replace the JSON is sent as
the complete parameter set: fields it leaves out become zero.`, module),
		Example: fmt.Sprintf(`repshardd tx %s update-params-proposal '{"<field>": <value>}' --deposit 10000000urep --title "..." --summary "..." --from alice`, module),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			clientCtx = clientCtx.WithOutput(cmd.OutOrStdout())
			replace, _ := cmd.Flags().GetBool(FlagReplace)
			var params P
			var changes []string
			if replace {
				if err := clientCtx.Codec.UnmarshalJSON([]byte(args[0]), PP(&params)); err != nil {
					return fmt.Errorf("params-json: %w", err)
				}
			} else {
				cur, err := current(cmd.Context(), clientCtx)
				if err != nil {
					return fmt.Errorf("read the current x/%s params from the node (or pass --%s with the complete set): %w", module, FlagReplace, err)
				}
				if params, changes, err = Merge[P, PP](clientCtx.Codec, cur, []byte(args[0])); err != nil {
					return err
				}
				if len(changes) == 0 {
					return errors.New("params-json changes nothing")
				}
				for _, c := range changes {
					fmt.Fprintln(cmd.ErrOrStderr(), "change:", c)
				}
			}
			depositText, _ := cmd.Flags().GetString(FlagDeposit)
			deposit, err := sdk.ParseCoinsNormalized(depositText)
			if err != nil {
				return fmt.Errorf("--%s: %w", FlagDeposit, err)
			}
			title, _ := cmd.Flags().GetString(FlagTitle)
			summary, _ := cmd.Flags().GetString(FlagSummary)
			metadata, _ := cmd.Flags().GetString(FlagMetadata)
			expedited, _ := cmd.Flags().GetBool(FlagExpedited)
			authority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
			proposal, err := govv1.NewMsgSubmitProposal([]sdk.Msg{newMsg(authority, params)}, deposit,
				clientCtx.GetFromAddress().String(), metadata, title, summary, expedited)
			if err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), proposal)
		},
	}
	cmd.Flags().Bool(FlagReplace, false, "send params-json as the complete parameter set (omitted fields become zero)")
	cmd.Flags().String(FlagDeposit, "", "initial deposit of the proposal, e.g. 10000000urep")
	cmd.Flags().String(FlagTitle, "", "title of the proposal")
	cmd.Flags().String(FlagSummary, "", "summary of the proposal")
	cmd.Flags().String(FlagMetadata, "", "metadata of the proposal (e.g. an IPFS link)")
	cmd.Flags().Bool(FlagExpedited, false, "submit an expedited proposal")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// Merge overlays the fields named in patch (JSON) on current and returns the
// result and a sorted list of the fields whose value changes. A field name
// that params do not have is an error.
func Merge[P any, PP Params[P]](cdc codec.JSONCodec, current P, patch []byte) (P, []string, error) {
	var out P
	curJSON, err := cdc.MarshalJSON(PP(&current))
	if err != nil {
		return out, nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(curJSON, &fields); err != nil {
		return out, nil, err
	}
	var overlay map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(patch))
	if err := dec.Decode(&overlay); err != nil {
		return out, nil, fmt.Errorf("params-json must be a JSON object: %w", err)
	}
	names := make([]string, 0, len(overlay))
	for name := range overlay { // detcheck:ok keys are sorted below
		names = append(names, name)
	}
	sort.Strings(names)
	var changes []string
	for _, name := range names {
		old, known := fields[name]
		if !known {
			// zero-valued fields may be omitted from the current JSON: check
			// the name against the message by decoding it alone.
			var probe P
			if err := cdc.UnmarshalJSON([]byte(fmt.Sprintf("{%q:%s}", name, overlay[name])), PP(&probe)); err != nil {
				return out, nil, fmt.Errorf("params-json: field %q: %w", name, err)
			}
		}
		if !bytes.Equal(compact(old), compact(overlay[name])) {
			changes = append(changes, fmt.Sprintf("%s: %s -> %s", name, orZero(compact(old)), compact(overlay[name])))
		}
		fields[name] = overlay[name]
	}
	merged, err := json.Marshal(fields)
	if err != nil {
		return out, nil, err
	}
	if err := cdc.UnmarshalJSON(merged, PP(&out)); err != nil {
		return out, nil, fmt.Errorf("params-json: %w", err)
	}
	return out, changes, nil
}

func compact(raw json.RawMessage) []byte {
	if raw == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

func orZero(b []byte) string {
	if len(b) == 0 {
		return "(zero)"
	}
	return string(b)
}
