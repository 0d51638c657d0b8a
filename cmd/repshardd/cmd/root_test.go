package cmd_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/repshard/repshard/cmd/repshardd/cmd"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	home := t.TempDir()
	root.SetArgs(append(args, "--home", home))
	err := svrcmd.Execute(root, "", home)
	return out.String(), err
}

// Every repshard module has its params query and its governance proposal
// command in the CLI.
func TestAutoCLICommandsExist(t *testing.T) {
	for _, m := range []string{"reputation", "shard", "deferral", "rewards"} {
		out, err := run(t, "query", m, "--help")
		require.NoError(t, err)
		require.Contains(t, out, "params", "repshardd query %s", m)
		out, err = run(t, "tx", m, "--help")
		require.NoError(t, err)
		require.Contains(t, out, "update-params-proposal", "repshardd tx %s", m)
	}
}

// update-params-proposal wraps MsgUpdateParams, with the gov module account as
// authority, in a gov MsgSubmitProposal signed by --from.
func TestUpdateParamsProposalCommand(t *testing.T) {
	from := sdk.AccAddress(bytes.Repeat([]byte{7}, 20)).String() // any address; --generate-only signs nothing
	require.True(t, strings.HasPrefix(from, "rep1"))
	gov := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	out, err := run(t, "tx", "reputation", "update-params-proposal",
		`{"default_score_ppm":500000,"weight_completion":9,"weight_frequency":2,"weight_validation":2,"weight_peer":1,"completion_prior_successes":2,"completion_prior_failures":2,"rate_half_life_blocks":100,"free_request_rate":20,"rate_window_blocks":100,"frequency_penalty_per_request_ppm":25000,"pow_min_difficulty_bits":8,"pow_full_credit_bits":16,"pow_credit_ema_weight_ppm":200000,"stake_reference_amount":"1000000000","peer_neutral_score_ppm":500000}`,
		"--from", from, "--generate-only", "--chain-id", "repshard-local-1", "--replace",
		"--deposit", "10000000urep", "--title", "weights", "--summary", "raise completion weight")
	require.NoError(t, err, out)
	require.Contains(t, out, `"@type":"/cosmos.gov.v1.MsgSubmitProposal"`)
	require.Contains(t, out, `"@type":"/repshard.reputation.v1.MsgUpdateParams"`)
	require.Contains(t, out, `"authority":"`+gov+`"`)
	require.Contains(t, out, `"proposer":"`+from+`"`)
	require.Contains(t, out, `"weight_completion":9`)
	require.Contains(t, out, `{"denom":"urep","amount":"10000000"}`)
}

// Without --replace the command overlays the given fields on the chain's
// current params, so it needs a node; without one it says how to go on.
func TestUpdateParamsProposalNeedsTheCurrentParams(t *testing.T) {
	from := sdk.AccAddress(bytes.Repeat([]byte{7}, 20)).String()
	out, err := run(t, "tx", "shard", "update-params-proposal", `{"sustain_blocks": 20}`,
		"--from", from, "--generate-only", "--chain-id", "repshard-local-1", "--node", "tcp://127.0.0.1:1",
		"--deposit", "10000000urep")
	require.Error(t, err, out)
	require.Contains(t, err.Error(), "--replace")
}

// `start` has the opt-in for the SDK's optimistic execution (off by default).
func TestStartHasOptimisticExecutionFlag(t *testing.T) {
	out, err := run(t, "start", "--help")
	require.NoError(t, err)
	require.Contains(t, out, "--"+cmd.FlagOptimisticExecution)
}

// Every module with EndBlock items has `q <module> quarantine` and the
// governance proposals retry-quarantined and drop-quarantined, which wrap
// the msg, with the gov module account as authority, in a MsgSubmitProposal.
func TestQuarantineCommands(t *testing.T) {
	from := sdk.AccAddress(bytes.Repeat([]byte{7}, 20)).String()
	gov := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	for _, m := range []struct{ module, step, item string }{
		{"deferral", "drain_queues", "request/42"},
		{"shard", "release_bond", "worker/" + from},
		{"reputation", "resume_worker", "worker/" + from},
		{"rewards", "close_epoch", "epoch/7"},
	} {
		out, err := run(t, "query", m.module, "quarantine", "--help")
		require.NoError(t, err)
		require.Contains(t, out, "quarantine [step]", "repshardd query %s quarantine", m.module)
		for cmdName, msg := range map[string]string{"retry-quarantined": "MsgRetryQuarantined", "drop-quarantined": "MsgDropQuarantined"} {
			out, err := run(t, "tx", m.module, cmdName, m.step, m.item,
				"--from", from, "--generate-only", "--chain-id", "repshard-local-1",
				"--deposit", "10000000urep", "--title", "quarantine", "--summary", "act on a quarantined item")
			require.NoError(t, err, out)
			require.Contains(t, out, `"@type":"/cosmos.gov.v1.MsgSubmitProposal"`)
			require.Contains(t, out, `"@type":"/repshard.`+m.module+`.v1.`+msg+`"`)
			require.Contains(t, out, `"authority":"`+gov+`"`)
			require.Contains(t, out, `"step":"`+m.step+`"`)
			require.Contains(t, out, `"item":"`+m.item+`"`)
		}
	}
}
