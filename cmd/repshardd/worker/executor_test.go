package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// The built-in executor's result bytes are the hex sha256 of the payload
// and a newline; it reports the sha256 of those bytes.
func TestBuiltinExecutorHashesThePayload(t *testing.T) {
	got, err := BuiltinExecutor{}.Execute(context.Background(), Job{Request: deferraltypes.Request{Payload: []byte("abc")}})
	require.NoError(t, err)
	// sha256("abc"), as printed by sha256sum.
	wantBytes := []byte("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n")
	require.Equal(t, wantBytes, got.Bytes)
	wantHash := sha256.Sum256(wantBytes)
	require.Equal(t, wantHash[:], got.Hash)
	require.Equal(t, got, BuiltinResult([]byte("abc")))

	_, err = BuiltinExecutor{}.Execute(context.Background(), Job{Request: deferraltypes.Request{PayloadUri: "ipfs://x"}})
	require.ErrorContains(t, err, "--exec")
}

func TestCommandExecutor(t *testing.T) {
	ctx := context.Background()
	job := Job{Request: deferraltypes.Request{Id: 9, Attempts: 2, Payload: []byte("hello"), DataBytes: 5}}
	want := sha256.Sum256([]byte("hello"))

	// The payload on stdin, the hash from stdout: no result kept.
	got, err := CommandExecutor{Command: "sha256sum"}.Execute(ctx, job)
	require.NoError(t, err)
	require.Equal(t, want[:], got.Hash)
	require.False(t, got.Kept())

	// The request in the environment.
	_, err = CommandExecutor{Command: `test "$REPSHARD_REQUEST_ID/$REPSHARD_ATTEMPT/$REPSHARD_DATA_BYTES" = 9/2/5 || exit 1; sha256sum`}.Execute(ctx, job)
	require.NoError(t, err)

	// A non-zero exit fails with the last stderr line.
	_, err = CommandExecutor{Command: "echo first >&2; echo 'bad input' >&2; exit 3"}.Execute(ctx, job)
	require.ErrorContains(t, err, "bad input")
	require.ErrorContains(t, err, "exit status 3")

	// A malformed hash fails.
	_, err = CommandExecutor{Command: "echo nothex"}.Execute(ctx, job)
	require.ErrorContains(t, err, "not a 64-hex-digit sha256")
	_, err = CommandExecutor{Command: "true"}.Execute(ctx, job)
	require.ErrorContains(t, err, "no result hash")

	// A timeout fails.
	start := time.Now()
	_, err = CommandExecutor{Command: "sleep 5", Timeout: 200 * time.Millisecond}.Execute(ctx, job)
	require.ErrorContains(t, err, "timed out")
	require.Less(t, time.Since(start), 3*time.Second)

	// A stopping daemon is not a failure of the request.
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err = CommandExecutor{Command: "sleep 5"}.Execute(cctx, job)
	require.ErrorIs(t, err, context.Canceled)
}

// An --exec program that writes REPSHARD_RESULT_FILE: the result is that
// file's content and its hash the file's sha256; a hash on stdout must be
// that one; an empty file is an empty result.
func TestCommandExecutorResultFile(t *testing.T) {
	ctx := context.Background()
	job := Job{Request: deferraltypes.Request{Id: 3, Payload: []byte("hello")}, Dir: t.TempDir()}
	upper := sha256.Sum256([]byte("HELLO"))

	got, err := CommandExecutor{Command: `tr a-z A-Z > "$REPSHARD_RESULT_FILE"`}.Execute(ctx, job)
	require.NoError(t, err)
	require.Equal(t, upper[:], got.Hash)
	require.Equal(t, filepath.Join(job.Dir, resultFileName), got.File)
	content, err := os.ReadFile(got.File)
	require.NoError(t, err)
	require.Equal(t, "HELLO", string(content))

	// The printed hash agrees with the file: fine.
	got, err = CommandExecutor{Command: `tr a-z A-Z > "$REPSHARD_RESULT_FILE"; sha256sum "$REPSHARD_RESULT_FILE"`}.Execute(ctx, job)
	require.NoError(t, err)
	require.Equal(t, upper[:], got.Hash)

	// It does not: a failure.
	_, err = CommandExecutor{Command: `tr a-z A-Z > "$REPSHARD_RESULT_FILE"; echo 0000000000000000000000000000000000000000000000000000000000000000`}.Execute(ctx, job)
	require.ErrorContains(t, err, "result file has sha256 "+hex.EncodeToString(upper[:]))

	// An empty result file is an empty result; a left-over file of an
	// earlier run in the same directory does not count.
	got, err = CommandExecutor{Command: `: > "$REPSHARD_RESULT_FILE"`}.Execute(ctx, job)
	require.NoError(t, err)
	empty := sha256.Sum256(nil)
	require.Equal(t, empty[:], got.Hash)
	got, err = CommandExecutor{Command: `sha256sum`}.Execute(ctx, job)
	require.NoError(t, err)
	hello := sha256.Sum256([]byte("hello"))
	require.Equal(t, hello[:], got.Hash)
	require.False(t, got.Kept())

	// Without a job directory the result comes back in memory.
	got, err = CommandExecutor{Command: `tr a-z A-Z > "$REPSHARD_RESULT_FILE"`}.Execute(ctx, Job{Request: job.Request})
	require.NoError(t, err)
	require.Equal(t, []byte("HELLO"), got.Bytes)
	require.Empty(t, got.File)
}

func TestParseExpectedSequence(t *testing.T) {
	n, ok := parseExpectedSequence("account sequence mismatch, expected 12, got 10: incorrect account sequence")
	require.True(t, ok)
	require.EqualValues(t, 12, n)
	_, ok = parseExpectedSequence("out of gas")
	require.False(t, ok)
}
