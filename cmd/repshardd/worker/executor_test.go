package worker

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

func TestBuiltinExecutorHashesThePayload(t *testing.T) {
	got, err := BuiltinExecutor{}.Execute(context.Background(), deferraltypes.Request{Payload: []byte("abc")})
	require.NoError(t, err)
	want := sha256.Sum256([]byte("abc"))
	require.Equal(t, want[:], got)

	_, err = BuiltinExecutor{}.Execute(context.Background(), deferraltypes.Request{PayloadUri: "ipfs://x"})
	require.ErrorContains(t, err, "--exec")
}

func TestCommandExecutor(t *testing.T) {
	ctx := context.Background()
	req := deferraltypes.Request{Id: 9, Attempts: 2, Payload: []byte("hello")}
	want := sha256.Sum256([]byte("hello"))

	// The payload on stdin, the hash from stdout.
	got, err := CommandExecutor{Command: "sha256sum"}.Execute(ctx, req)
	require.NoError(t, err)
	require.Equal(t, want[:], got)

	// The request in the environment.
	_, err = CommandExecutor{Command: `test "$REPSHARD_REQUEST_ID/$REPSHARD_ATTEMPT" = 9/2 || exit 1; sha256sum`}.Execute(ctx, req)
	require.NoError(t, err)

	// A non-zero exit fails with the last stderr line.
	_, err = CommandExecutor{Command: "echo first >&2; echo 'bad input' >&2; exit 3"}.Execute(ctx, req)
	require.ErrorContains(t, err, "bad input")
	require.ErrorContains(t, err, "exit status 3")

	// A malformed hash fails.
	_, err = CommandExecutor{Command: "echo nothex"}.Execute(ctx, req)
	require.ErrorContains(t, err, "not a 64-hex-digit sha256")

	// A timeout fails.
	start := time.Now()
	_, err = CommandExecutor{Command: "sleep 5", Timeout: 200 * time.Millisecond}.Execute(ctx, req)
	require.ErrorContains(t, err, "timed out")
	require.Less(t, time.Since(start), 3*time.Second)

	// A stopping daemon is not a failure of the request.
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err = CommandExecutor{Command: "sleep 5"}.Execute(cctx, req)
	require.ErrorIs(t, err, context.Canceled)
}

func TestParseExpectedSequence(t *testing.T) {
	n, ok := parseExpectedSequence("account sequence mismatch, expected 12, got 10: incorrect account sequence")
	require.True(t, ok)
	require.EqualValues(t, 12, n)
	_, ok = parseExpectedSequence("out of gas")
	require.False(t, ok)
}
