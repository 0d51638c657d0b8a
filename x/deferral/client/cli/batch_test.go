package cli_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/deferral/client/cli"
	"github.com/repshard/repshard/x/deferral/types"
)

// Each line of a submit-requests file gives the request submit-request
// gives for the same values on its command line.
func TestRequestLinesMatchSubmitRequest(t *testing.T) {
	hash := sha256.Sum256([]byte("dataset"))
	hashHex := hex.EncodeToString(hash[:])
	lines := strings.Join([]string{
		`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","urgency":"normal","payload":"job 1"}`,
		``, // blank lines are skipped
		`{"class":"data-intensive","compute_units":4,"max_fee":"40000urep","urgency":"critical","payload_hash":"` + hashHex + `","payload_uri":"ipfs://x","data_bytes":1048576,"replicas":3,"deadline_blocks":20,"pow_nonce":"0a0b"}`,
		`{"class":"compute-intensive","compute_units":2,"max_fee":"9000urep","payload":""}`,
	}, "\n")
	got, err := cli.ReadRequestLines(strings.NewReader(lines), from)
	require.NoError(t, err)
	require.Equal(t, from.String(), got.Requester)

	wants := []struct {
		args  []string
		flags map[string]string
	}{
		{[]string{"low-priority", "1", "5000urep"}, map[string]string{"urgency": "normal", "payload": "job 1"}},
		{[]string{"data-intensive", "4", "40000urep"}, map[string]string{"urgency": "critical", "payload-hash": hashHex, "payload-uri": "ipfs://x",
			"data-bytes": "1048576", "replicas": "3", "deadline-blocks": "20", "pow-nonce": "0a0b"}},
	}
	require.Len(t, got.Requests, 3)
	for i, w := range wants {
		single, err := build(t, w.args, w.flags)
		require.NoError(t, err)
		require.Equal(t, single.Spec(), got.Requests[i], "line %d", i)
	}
	// An empty inline payload is an inline payload (the flag cannot say it).
	require.Equal(t, types.UrgencyNormal, got.Requests[2].Urgency, "urgency defaults to normal")
	require.Empty(t, got.Requests[2].PayloadHash)
	require.Equal(t, uint32(1), got.Requests[2].Replicas, "replicas default to 1")
}

func TestRequestLinesRefuseBadLines(t *testing.T) {
	good := `{"class":"low-priority","compute_units":1,"max_fee":"5000urep","payload":"a"}`
	for name, tc := range map[string]struct{ in, err string }{
		"unknown key":           {good + "\n" + `{"class":"low-priority","compute_units":1,"max_fee":"5000urep","payload":"a","colour":"red"}`, `line 2: json: unknown field "colour"`},
		"camelCase key":         {`{"class":"low-priority","computeUnits":1,"max_fee":"5000urep","payload":"a"}`, `line 1: json: unknown field "computeUnits"`},
		"missing class":         {`{"compute_units":1,"max_fee":"5000urep","payload":"a"}`, "line 1: class, compute_units (positive) and max_fee are required"},
		"zero units":            {`{"class":"low-priority","compute_units":0,"max_fee":"5000urep","payload":"a"}`, "line 1: class, compute_units"},
		"unknown class":         {`{"class":"gpu","compute_units":1,"max_fee":"5000urep","payload":"a"}`, `line 1: unknown class "gpu"`},
		"unknown urgency":       {`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","urgency":"asap","payload":"a"}`, `line 1: unknown urgency "asap"`},
		"bad fee":               {`{"class":"low-priority","compute_units":1,"max_fee":"5.5urep","payload":"a"}`, "line 1: max-fee must be a whole amount"},
		"payload and hash":      {`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","payload":"a","payload_hash":"00"}`, "line 1: give exactly one of payload or payload_hash"},
		"no data":               {`{"class":"low-priority","compute_units":1,"max_fee":"5000urep"}`, "line 1: give exactly one of payload or payload_hash"},
		"short hash":            {`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","payload_hash":"abcd"}`, "line 1: payload_hash must be a hex sha256"},
		"data bytes and inline": {`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","payload":"a","data_bytes":5}`, "line 1: data_bytes is for data held elsewhere"},
		"bad nonce":             {`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","payload":"a","pow_nonce":"zz"}`, "line 1: pow_nonce must be"},
		"two objects":           {good + good, "line 1: one JSON object per line"},
		"not json":              {"class=low-priority", "line 1: invalid character"},
		"empty":                 {"\n\n", "no requests"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cli.ReadRequestLines(strings.NewReader(tc.in), from)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// The whole command, as a user runs it: a file in, one MsgSubmitRequests out.
func TestSubmitRequestsCommandGenerateOnly(t *testing.T) {
	file := filepath.Join(t.TempDir(), "jobs.jsonl")
	require.NoError(t, os.WriteFile(file, []byte(
		`{"class":"low-priority","compute_units":1,"max_fee":"5000urep","urgency":"normal","payload":"job 1"}`+"\n"+
			`{"class":"high-priority","compute_units":2,"max_fee":"8000urep","urgency":"high","payload":"job 2","deadline_blocks":30}`+"\n"), 0o600))
	out, err := run(t, "tx", "deferral", "submit-requests", file, "--from", from.String(), "--generate-only", "--chain-id", "repshard-local-1")
	require.NoError(t, err, out)
	msg := generated(t, out)
	require.Equal(t, "/repshard.deferral.v1.MsgSubmitRequests", msg["@type"])
	require.Equal(t, from.String(), msg["requester"])
	reqs := msg["requests"].([]any)
	require.Len(t, reqs, 2)
	second := reqs[1].(map[string]any)
	require.Equal(t, "SHARD_CLASS_HIGH_PRIORITY", second["class"])
	require.Equal(t, "URGENCY_HIGH", second["urgency"])
	require.Equal(t, "2", second["compute_units"])
	require.Equal(t, "30", second["deadline_blocks"])
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte("job 2")), second["payload"])
	require.Equal(t, map[string]any{"denom": "urep", "amount": "8000"}, second["max_fee"])

	out, err = run(t, "tx", "deferral", "submit-requests", filepath.Join(t.TempDir(), "missing.jsonl"), "--from", from.String(), "--generate-only")
	require.Error(t, err, out)
}
