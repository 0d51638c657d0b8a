package cli_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/cmd/repshardd/cmd"
	"github.com/repshard/repshard/x/deferral/client/cli"
	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
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

var from = sdk.AccAddress(bytes.Repeat([]byte{7}, 20))

func TestParseClass(t *testing.T) {
	ok := map[string]shardtypes.ShardClass{
		"high-priority":                 shardtypes.ClassHighPriority,
		"low-priority":                  shardtypes.ClassLowPriority,
		"data-intensive":                shardtypes.ClassDataIntensive,
		"compute-intensive":             shardtypes.ClassComputeIntensive,
		"Compute-Intensive":             shardtypes.ClassComputeIntensive,
		"  data-intensive ":             shardtypes.ClassDataIntensive,
		"LOW_PRIORITY":                  shardtypes.ClassLowPriority,
		"SHARD_CLASS_HIGH_PRIORITY":     shardtypes.ClassHighPriority,
		"shard-class-compute-intensive": shardtypes.ClassComputeIntensive,
	}
	for in, want := range ok {
		got, err := cli.ParseClass(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "unspecified", "SHARD_CLASS_UNSPECIFIED", "gpu", "high", "high priority", "1", "high-priority,low-priority"} {
		_, err := cli.ParseClass(in)
		require.Error(t, err, in)
		require.ErrorContains(t, err, "unknown class")
		require.ErrorContains(t, err, "high-priority, low-priority, data-intensive or compute-intensive", "the error lists the classes")
	}
}

func TestParseUrgency(t *testing.T) {
	ok := map[string]types.Urgency{
		"low": types.UrgencyLow, "normal": types.UrgencyNormal, "high": types.UrgencyHigh, "critical": types.UrgencyCritical,
		"Critical": types.UrgencyCritical, " high ": types.UrgencyHigh, "URGENCY_LOW": types.UrgencyLow,
	}
	for in, want := range ok {
		got, err := cli.ParseUrgency(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "unspecified", "URGENCY_UNSPECIFIED", "urgent", "3", "very-high"} {
		_, err := cli.ParseUrgency(in)
		require.Error(t, err, in)
		require.ErrorContains(t, err, "unknown urgency")
		require.ErrorContains(t, err, "low, normal, high or critical")
	}
}

// build runs buildSubmitRequest with args and flags set as on the command line.
func build(t *testing.T, args []string, flags map[string]string) (*types.MsgSubmitRequest, error) {
	t.Helper()
	c := cli.SubmitRequestCmd()
	for name, value := range flags {
		require.NoError(t, c.Flags().Set(name, value), name)
	}
	return cli.BuildSubmitRequest(c, from, args, func() (uint64, error) {
		return 0, errors.New("no node in this test: give --pow-submission")
	})
}

func TestBuildSubmitRequest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "payload.bin")
	fileBytes := []byte{0, 1, 2, 0xff, '\n'}
	require.NoError(t, os.WriteFile(file, fileBytes, 0o600))
	hash := sha256.Sum256([]byte("data held elsewhere"))
	hashHex := hex.EncodeToString(hash[:])
	args := []string{"compute-intensive", "10", "20000urep"}
	base := types.MsgSubmitRequest{
		Requester: from.String(), Class: shardtypes.ClassComputeIntensive, Urgency: types.UrgencyNormal,
		ComputeUnits: 10, MaxFee: sdk.NewInt64Coin("urep", 20_000), Replicas: 1,
	}
	with := func(edit func(m *types.MsgSubmitRequest)) *types.MsgSubmitRequest {
		m := base
		edit(&m)
		return &m
	}

	ok := map[string]struct {
		args  []string
		flags map[string]string
		want  *types.MsgSubmitRequest
	}{
		"inline text, default urgency": {args, map[string]string{"payload": "resize image 42"},
			with(func(m *types.MsgSubmitRequest) { m.Payload = []byte("resize image 42") })},
		"text is taken as typed": {args, map[string]string{"payload": " héllo\\n ", "urgency": "critical"},
			with(func(m *types.MsgSubmitRequest) { m.Payload, m.Urgency = []byte(" héllo\\n "), types.UrgencyCritical })},
		"payload file": {[]string{"data-intensive", "1", "1000urep"}, map[string]string{"payload-file": file, "urgency": "low"},
			with(func(m *types.MsgSubmitRequest) {
				m.Class, m.ComputeUnits, m.MaxFee, m.Payload, m.Urgency = shardtypes.ClassDataIntensive, 1, sdk.NewInt64Coin("urep", 1000), fileBytes, types.UrgencyLow
			})},
		"inline with a uri": {args, map[string]string{"payload": "x", "payload-uri": "ipfs://bafy"},
			with(func(m *types.MsgSubmitRequest) { m.Payload, m.PayloadUri = []byte("x"), "ipfs://bafy" })},
		"data held elsewhere": {args, map[string]string{"payload-hash": hashHex, "payload-uri": "ipfs://bafy", "data-bytes": "1048576", "urgency": "high"},
			with(func(m *types.MsgSubmitRequest) {
				m.PayloadHash, m.PayloadUri, m.DataBytes, m.Urgency = hash[:], "ipfs://bafy", 1_048_576, types.UrgencyHigh
			})},
		"upper-case hash, no uri or size": {args, map[string]string{"payload-hash": strings.ToUpper(hashHex)},
			with(func(m *types.MsgSubmitRequest) { m.PayloadHash = hash[:] })},
		"replicated": {args, map[string]string{"payload": "x", "replicas": "3"},
			with(func(m *types.MsgSubmitRequest) { m.Payload, m.Replicas = []byte("x"), 3 })},
		"with a deadline": {args, map[string]string{"payload": "x", "deadline-blocks": "20"},
			with(func(m *types.MsgSubmitRequest) { m.Payload, m.DeadlineBlocks = []byte("x"), 20 })},
		"proto names": {[]string{"SHARD_CLASS_LOW_PRIORITY", "3", "3000urep"}, map[string]string{"payload": "p", "urgency": "URGENCY_HIGH"},
			with(func(m *types.MsgSubmitRequest) {
				m.Class, m.ComputeUnits, m.MaxFee, m.Payload, m.Urgency = shardtypes.ClassLowPriority, 3, sdk.NewInt64Coin("urep", 3000), []byte("p"), types.UrgencyHigh
			})},
	}
	for name, tc := range ok {
		t.Run(name, func(t *testing.T) {
			got, err := build(t, tc.args, tc.flags)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}

	bad := map[string]struct {
		args  []string
		flags map[string]string
		want  string
	}{
		"unknown class":          {[]string{"gpu", "10", "20000urep"}, map[string]string{"payload": "x"}, `unknown class "gpu"`},
		"zero units":             {[]string{"low-priority", "0", "20000urep"}, map[string]string{"payload": "x"}, "compute-units must be a positive integer"},
		"negative units":         {[]string{"low-priority", "-1", "20000urep"}, map[string]string{"payload": "x"}, "compute-units must be a positive integer"},
		"word units":             {[]string{"low-priority", "ten", "20000urep"}, map[string]string{"payload": "x"}, "compute-units must be a positive integer"},
		"fractional units":       {[]string{"low-priority", "1.5", "20000urep"}, map[string]string{"payload": "x"}, "compute-units must be a positive integer"},
		"units overflow":         {[]string{"low-priority", "18446744073709551616", "20000urep"}, map[string]string{"payload": "x"}, "compute-units must be a positive integer"},
		"max fee without denom":  {[]string{"low-priority", "1", "20000"}, map[string]string{"payload": "x"}, "max-fee must be a whole amount of a coin, such as 5000urep"},
		"max fee garbage":        {[]string{"low-priority", "1", "lots"}, map[string]string{"payload": "x"}, "max-fee must be a whole amount of a coin, such as 5000urep"},
		"fractional max fee":     {[]string{"low-priority", "1", "1.5urep"}, map[string]string{"payload": "x"}, "max-fee must be a whole amount of a coin, such as 5000urep"},
		"unknown urgency":        {args, map[string]string{"payload": "x", "urgency": "asap"}, `unknown urgency "asap"`},
		"no payload":             {args, map[string]string{}, "give exactly one of --payload, --payload-file or --payload-hash"},
		"only a uri":             {args, map[string]string{"payload-uri": "ipfs://bafy"}, "give exactly one of"},
		"text and file":          {args, map[string]string{"payload": "x", "payload-file": file}, "give exactly one of"},
		"text and hash":          {args, map[string]string{"payload": "x", "payload-hash": hashHex}, "give exactly one of"},
		"file and hash":          {args, map[string]string{"payload-file": file, "payload-hash": hashHex}, "give exactly one of"},
		"missing file":           {args, map[string]string{"payload-file": filepath.Join(dir, "nope")}, "read --payload-file"},
		"hash not hex":           {args, map[string]string{"payload-hash": strings.Repeat("zz", 32)}, "--payload-hash must be a hex sha256 (64 hex digits)"},
		"hash too short":         {args, map[string]string{"payload-hash": hashHex[:62]}, "--payload-hash must be a hex sha256"},
		"hash too long":          {args, map[string]string{"payload-hash": hashHex + "00"}, "--payload-hash must be a hex sha256"},
		"data bytes with text":   {args, map[string]string{"payload": "x", "data-bytes": "1"}, "--data-bytes is for data held elsewhere"},
		"data bytes with a file": {args, map[string]string{"payload-file": file, "data-bytes": "5"}, "--data-bytes is for data held elsewhere"},
		"zero replicas":          {args, map[string]string{"payload": "x", "replicas": "0"}, "invalid number of replicas"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			got, err := build(t, tc.args, tc.flags)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, got)
		})
	}
}

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

// The CLI contract line, run through the whole repshardd command:
//
//	repshardd tx deferral submit-request [class] [compute-units] [max-fee] --urgency … --payload TEXT | --payload-file FILE
func TestSubmitRequestCommandGenerateOnly(t *testing.T) {
	out, err := run(t, "tx", "deferral", "submit-request", "compute-intensive", "10", "20000urep",
		"--urgency", "high", "--payload", "resize image 42",
		"--from", from.String(), "--generate-only", "--chain-id", "repshard-local-1")
	require.NoError(t, err, out)
	require.Equal(t, map[string]any{
		"@type":           "/repshard.deferral.v1.MsgSubmitRequest",
		"replicas":        float64(1),
		"requester":       from.String(),
		"class":           "SHARD_CLASS_COMPUTE_INTENSIVE",
		"urgency":         "URGENCY_HIGH",
		"compute_units":   "10",
		"payload":         base64.StdEncoding.EncodeToString([]byte("resize image 42")),
		"payload_hash":    nil,
		"payload_uri":     "",
		"data_bytes":      "0",
		"max_fee":         map[string]any{"denom": "urep", "amount": "20000"}, // ≥ the fee at the floor price: 10 × 1_000 × 1.5 (high) = 15_000
		"pow_nonce":       nil,
		"deadline_blocks": "0", // no --deadline-blocks flag: no requester deadline
	}, generated(t, out))

	out, err = run(t, "tx", "deferral", "submit-request", "high-priority", "1", "5000urep",
		"--payload", "quote 7", "--deadline-blocks", "20", "--from", from.String(), "--generate-only")
	require.NoError(t, err, out)
	require.Equal(t, "20", generated(t, out)["deadline_blocks"], "--deadline-blocks reaches the msg")

	file := filepath.Join(t.TempDir(), "job.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"op":"resize"}`), 0o600))
	out, err = run(t, "tx", "deferral", "submit-request", "data-intensive", "2", "2000urep", // 2 × 1_000 × 1 (normal)
		"--payload-file", file, "--from", from.String(), "--generate-only")
	require.NoError(t, err, out)
	msg := generated(t, out)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte(`{"op":"resize"}`)), msg["payload"])
	require.Equal(t, "URGENCY_NORMAL", msg["urgency"], "--urgency defaults to normal")
	require.Equal(t, "SHARD_CLASS_DATA_INTENSIVE", msg["class"])

	hash := sha256.Sum256([]byte("big data"))
	// 50 × 1_000 × 1 (normal) + ⌈1_048_576 bytes × 1_000/1e6⌉ = 50_000 + 1_049 = 51_049 ≤ 60_000.
	out, err = run(t, "tx", "deferral", "submit-request", "data-intensive", "50", "60000urep",
		"--payload-hash", hex.EncodeToString(hash[:]), "--payload-uri", "ipfs://bafy", "--data-bytes", "1048576",
		"--from", from.String(), "--generate-only")
	require.NoError(t, err, out)
	msg = generated(t, out)
	require.Nil(t, msg["payload"])
	require.Equal(t, base64.StdEncoding.EncodeToString(hash[:]), msg["payload_hash"])
	require.Equal(t, "ipfs://bafy", msg["payload_uri"])
	require.Equal(t, "1048576", msg["data_bytes"])
	require.Equal(t, map[string]any{"denom": "urep", "amount": "60000"}, msg["max_fee"])

	// Errors reach the user and no tx is printed.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gpu", "1", "1000urep", "--payload", "x"}, `unknown class "gpu"`},
		{[]string{"low-priority", "1", "1000urep"}, "give exactly one of --payload, --payload-file or --payload-hash"},
		{[]string{"low-priority", "1", "1000urep", "--payload", "x", "--urgency", "asap"}, `unknown urgency "asap"`},
		{[]string{"low-priority", "1", "--payload", "x"}, "accepts 3 arg(s), received 2"},
	} {
		args := append([]string{"tx", "deferral", "submit-request"}, tc.args...)
		out, err := run(t, append(args, "--from", from.String(), "--generate-only")...)
		require.ErrorContains(t, err, tc.want, out)
		require.NotContains(t, out, `"@type"`)
	}
}

// --pow-difficulty N searches, before signing, the first counter nonce whose
// sha256(requester ‖ payload hash ‖ u64be(submission) ‖ nonce) has N leading
// zero bits, for the submission --pow-submission names (read from the node
// without it); the generated tx carries it. --pow-nonce attaches a given
// nonce.
func TestSubmitRequestProofOfWorkFlags(t *testing.T) {
	out, err := run(t, "tx", "deferral", "submit-request", "low-priority", "1", "2000urep",
		"--payload", "job", "--pow-difficulty", "12", "--pow-submission", "3",
		"--from", from.String(), "--generate-only", "--chain-id", "repshard-local-1")
	require.NoError(t, err, out)
	require.Contains(t, out, "bound to submission 3")
	msg := generated(t, out[strings.Index(out, "{"):])
	nonce, err := base64.StdEncoding.DecodeString(msg["pow_nonce"].(string))
	require.NoError(t, err)
	require.Len(t, nonce, 8)
	payloadHash := sha256.Sum256([]byte("job"))
	bits := reputationtypes.LeadingZeroBits(reputationtypes.PowDigest(from, payloadHash[:], 3, nonce))
	require.GreaterOrEqual(t, bits, uint32(12), "the nonce found meets the difficulty for submission 3")

	// Deterministic: the same inputs find the same nonce, the smallest one.
	again, gotBits, err := cli.FindPowNonce(from, payloadHash[:], 3, 12, 1<<20)
	require.NoError(t, err)
	require.Equal(t, nonce, again)
	require.Equal(t, bits, gotBits)
	for i := uint64(0); i < binary.BigEndian.Uint64(nonce); i++ {
		smaller := binary.BigEndian.AppendUint64(nil, i)
		require.Less(t, reputationtypes.LeadingZeroBits(reputationtypes.PowDigest(from, payloadHash[:], 3, smaller)), uint32(12))
	}
	// Another submission number, another search.
	other, _, err := cli.FindPowNonce(from, payloadHash[:], 4, 12, 1<<20)
	require.NoError(t, err)
	require.NotEqual(t, nonce, other)

	// Without --pow-submission the number is read from the node; with no node
	// to ask, the command says how to give it.
	_, err = run(t, "tx", "deferral", "submit-request", "low-priority", "1", "2000urep",
		"--payload", "job", "--pow-difficulty", "4", "--node", "tcp://127.0.0.1:1",
		"--from", from.String(), "--generate-only", "--chain-id", "repshard-local-1")
	require.ErrorContains(t, err, "--pow-submission")

	// Bounded: an impossible search stops with an error.
	_, _, err = cli.FindPowNonce(from, payloadHash[:], 3, 64, 1000)
	require.ErrorContains(t, err, "no nonce with 64 leading zero bits in 1000 tries")

	out, err = run(t, "tx", "deferral", "submit-request", "low-priority", "1", "2000urep",
		"--payload", "job", "--pow-nonce", "00ff", "--from", from.String(), "--generate-only")
	require.NoError(t, err, out)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte{0, 0xff}), generated(t, out)["pow_nonce"])

	for _, bad := range [][]string{
		{"--pow-nonce", "zz"},
		{"--pow-nonce", "00", "--pow-difficulty", "3"},
		{"--pow-difficulty", "300"},
	} {
		args := append([]string{"tx", "deferral", "submit-request", "low-priority", "1", "2000urep",
			"--payload", "job", "--from", from.String(), "--generate-only"}, bad...)
		_, err := run(t, args...)
		require.Error(t, err, "%v", bad)
	}
}
