package cli_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/cmd/repshardd/cmd"
)

// run executes repshardd with args, as a user would, and returns its output.
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

var from = sdk.AccAddress(bytes.Repeat([]byte{9}, 20)).String()

type genTx struct {
	Body struct {
		Messages []map[string]any `json:"messages"`
	} `json:"body"`
}

func generated(t *testing.T, out string) map[string]any {
	t.Helper()
	var tx genTx
	require.NoError(t, json.Unmarshal([]byte(out), &tx), out)
	require.Len(t, tx.Body.Messages, 1)
	return tx.Body.Messages[0]
}

func TestRegisterWorkerCommand(t *testing.T) {
	out, err := run(t, "tx", "shard", "register-worker", "high-priority,compute-intensive", "100", "10000000urep",
		"--storage-bytes", "1073741824", "--endpoint", "https://worker1.example.org:8443",
		"--from", from, "--generate-only", "--chain-id", "repshard-local-1")
	require.NoError(t, err, out)
	msg := generated(t, out)
	require.Equal(t, map[string]any{
		"@type":          "/repshard.shard.v1.MsgRegisterWorker",
		"worker":         from,
		"classes":        []any{"SHARD_CLASS_HIGH_PRIORITY", "SHARD_CLASS_COMPUTE_INTENSIVE"},
		"capacity_units": "100",
		"storage_bytes":  "1073741824",
		"bond":           map[string]any{"denom": "urep", "amount": "10000000"},
		"endpoint":       "https://worker1.example.org:8443",
	}, msg)

	// --storage-bytes is optional
	out, err = run(t, "tx", "shard", "register-worker", "data-intensive", "7", "12000000urep",
		"--from", from, "--generate-only")
	require.NoError(t, err, out)
	msg = generated(t, out)
	require.Equal(t, []any{"SHARD_CLASS_DATA_INTENSIVE"}, msg["classes"])
	require.Equal(t, "0", msg["storage_bytes"])
	require.Equal(t, "", msg["endpoint"], "--endpoint is optional")
}

func TestRegisterWorkerCommandRejects(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown class":    {[]string{"high-priority,gpu", "100", "10000000urep"}, `unknown class "gpu"`},
		"class twice":      {[]string{"low-priority,low-priority", "100", "10000000urep"}, "listed twice"},
		"trailing comma":   {[]string{"low-priority,", "100", "10000000urep"}, `unknown class ""`},
		"no class":         {[]string{"", "100", "10000000urep"}, "no class given"},
		"zero capacity":    {[]string{"low-priority", "0", "10000000urep"}, "capacity-units must be a positive integer"},
		"word capacity":    {[]string{"low-priority", "ten", "10000000urep"}, "capacity-units must be a positive integer"},
		"fraction":         {[]string{"low-priority", "5.5", "10000000urep"}, "capacity-units must be a positive integer"},
		"bond sans denom":  {[]string{"low-priority", "5", "10000000"}, "bond must be an amount with its denom"},
		"missing argument": {[]string{"low-priority", "5"}, "accepts 3 arg(s), received 2"},
		"bad endpoint":     {[]string{"low-priority", "5", "10000000urep", "--endpoint", "ftp://w.example.org"}, "invalid worker endpoint"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"tx", "shard", "register-worker"}, c.args...)
			out, err := run(t, append(args, "--from", from, "--generate-only")...)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, out, "MsgRegisterWorker", "no tx is generated")
			require.NotContains(t, err.Error(), ".go:", "users see the message, not the source location")
		})
	}
}

// The hand-written register-worker and the AutoCLI commands live side by
// side under `tx shard`; the queries are all there.
func TestShardCommandTree(t *testing.T) {
	out, err := run(t, "tx", "shard", "--help")
	require.NoError(t, err)
	for _, c := range []string{"register-worker", "update-worker", "unregister-worker", "update-params-proposal"} {
		require.Contains(t, out, c)
	}
	out, err = run(t, "tx", "shard", "register-worker", "--help")
	require.NoError(t, err)
	for _, s := range []string{"high-priority, low-priority, data-intensive, compute-intensive", "--storage-bytes", "--endpoint", "min_worker_bond"} {
		require.Contains(t, out, s)
	}
	out, err = run(t, "query", "shard", "--help")
	require.NoError(t, err)
	for _, c := range []string{"shards ", "shard ", "worker ", "workers ", "shards-by-class", "network-load", "params"} {
		require.Contains(t, out, c)
	}

	out, err = run(t, "tx", "shard", "update-worker", "200", "2048", "--from", from, "--generate-only")
	require.NoError(t, err, out)
	require.Equal(t, map[string]any{"@type": "/repshard.shard.v1.MsgUpdateWorker", "worker": from,
		"capacity_units": "200", "storage_bytes": "2048", "endpoint": "", "clear_endpoint": false}, generated(t, out))
	out, err = run(t, "tx", "shard", "update-worker", "200", "2048", "--endpoint", "https://w.example.org:8443", "--from", from, "--generate-only")
	require.NoError(t, err, out)
	require.Equal(t, map[string]any{"@type": "/repshard.shard.v1.MsgUpdateWorker", "worker": from,
		"capacity_units": "200", "storage_bytes": "2048", "endpoint": "https://w.example.org:8443", "clear_endpoint": false}, generated(t, out))
	out, err = run(t, "tx", "shard", "update-worker", "200", "2048", "--clear-endpoint", "--from", from, "--generate-only")
	require.NoError(t, err, out)
	require.Equal(t, true, generated(t, out)["clear_endpoint"])

	out, err = run(t, "tx", "shard", "unregister-worker", "--from", from, "--generate-only")
	require.NoError(t, err, out)
	require.Equal(t, map[string]any{"@type": "/repshard.shard.v1.MsgUnregisterWorker", "worker": from}, generated(t, out))
}
