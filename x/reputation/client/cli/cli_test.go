package cli_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	sdk "github.com/cosmos/cosmos-sdk/types"

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

// repshardd tx reputation submit-review [request-id] [rating] builds a
// MsgSubmitReview signed by --from.
func TestSubmitReviewCommand(t *testing.T) {
	from := sdk.AccAddress(bytes.Repeat([]byte{9}, 20))
	out, err := run(t, "tx", "reputation", "submit-review", "42", "5",
		"--from", from.String(), "--generate-only", "--chain-id", "repshard-local-1")
	require.NoError(t, err, out)
	var tx struct {
		Body struct {
			Messages []map[string]any `json:"messages"`
		} `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &tx), out)
	require.Len(t, tx.Body.Messages, 1)
	msg := tx.Body.Messages[0]
	require.Equal(t, "/repshard.reputation.v1.MsgSubmitReview", msg["@type"])
	require.Equal(t, from.String(), msg["reviewer"])
	require.Equal(t, "42", msg["request_id"])
	require.EqualValues(t, 5, msg["rating"])

	out, err = run(t, "tx", "reputation", "submit-review", "--help")
	require.NoError(t, err)
	require.Contains(t, out, "submit-review [request-id] [rating]")
	out, err = run(t, "q", "reputation", "--help")
	require.NoError(t, err)
	for _, c := range []string{"profile", "profiles", "top-profiles", "review"} {
		require.Contains(t, out, c)
	}
}

// repshardd tx reputation rate-worker [request-id] [rating] builds a
// MsgRateWorker signed by --from (the requester); the worker queries exist.
func TestRateWorkerCommand(t *testing.T) {
	from := sdk.AccAddress(bytes.Repeat([]byte{7}, 20))
	out, err := run(t, "tx", "reputation", "rate-worker", "17", "2",
		"--from", from.String(), "--generate-only", "--chain-id", "repshard-local-1")
	require.NoError(t, err, out)
	var tx struct {
		Body struct {
			Messages []map[string]any `json:"messages"`
		} `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &tx), out)
	require.Len(t, tx.Body.Messages, 1)
	msg := tx.Body.Messages[0]
	require.Equal(t, "/repshard.reputation.v1.MsgRateWorker", msg["@type"])
	require.Equal(t, from.String(), msg["requester"])
	require.Equal(t, "17", msg["request_id"])
	require.EqualValues(t, 2, msg["rating"])

	out, err = run(t, "tx", "reputation", "rate-worker", "--help")
	require.NoError(t, err)
	require.Contains(t, out, "rate-worker [request-id] [rating]")
	out, err = run(t, "q", "reputation", "--help")
	require.NoError(t, err)
	for _, c := range []string{"worker-profile", "top-workers", "worker-rating"} {
		require.Contains(t, out, c)
	}
}
