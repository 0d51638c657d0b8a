package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// Executor runs one request. It returns the 32-byte sha256 result hash, or an
// error whose text becomes the failure reason reported with MsgFailRequest.
// A cancelled ctx (the daemon stopping) must make it return ctx.Err(); such
// a request is not reported.
type Executor interface {
	Execute(ctx context.Context, req deferraltypes.Request) ([]byte, error)
}

// BuiltinExecutor is the default executor: the result is the sha256 of the
// inline payload. A request whose data is held elsewhere (payload_uri) fails:
// fetching it needs an --exec program.
type BuiltinExecutor struct{}

// Execute hashes the payload.
func (BuiltinExecutor) Execute(_ context.Context, req deferraltypes.Request) ([]byte, error) {
	if len(req.Payload) == 0 && req.PayloadUri != "" {
		return nil, fmt.Errorf("data held at %s: the built-in executor runs inline payloads only (use --exec)", req.PayloadUri)
	}
	sum := sha256.Sum256(req.Payload)
	return sum[:], nil
}

// CommandExecutor runs a program through `sh -c` for each request: the
// inline payload on stdin, the request in the environment (REPSHARD_REQUEST_ID,
// REPSHARD_ATTEMPT, REPSHARD_REQUESTER, REPSHARD_CLASS, REPSHARD_COMPUTE_UNITS,
// REPSHARD_PAYLOAD_HASH, REPSHARD_PAYLOAD_URI). The first word of its stdout
// is the result hash (64 hex digits). A non-zero exit, a timeout or a
// malformed hash is a failure.
type CommandExecutor struct {
	Command string
	Timeout time.Duration
}

// maxReasonBytes is the chain's limit on a failure reason.
const maxReasonBytes = 256

// Execute runs the command.
func (e CommandExecutor) Execute(ctx context.Context, req deferraltypes.Request) ([]byte, error) {
	runCtx := ctx
	if e.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, e.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(runCtx, "sh", "-c", e.Command)
	cmd.Stdin = bytes.NewReader(req.Payload)
	cmd.Env = append(os.Environ(),
		"REPSHARD_REQUEST_ID="+strconv.FormatUint(req.Id, 10),
		"REPSHARD_ATTEMPT="+strconv.FormatUint(uint64(req.Attempts), 10),
		"REPSHARD_REQUESTER="+req.Requester,
		"REPSHARD_CLASS="+req.Class.String(),
		"REPSHARD_COMPUTE_UNITS="+strconv.FormatUint(req.ComputeUnits, 10),
		"REPSHARD_PAYLOAD_HASH="+hex.EncodeToString(req.PayloadHash),
		"REPSHARD_PAYLOAD_URI="+req.PayloadUri,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second // do not wait for grandchildren holding the pipes
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err() // the daemon is stopping: not the request's fault
	}
	if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("executor timed out after %s", e.Timeout)
	}
	if err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("executor: %v", err)
		}
		return nil, fmt.Errorf("executor: %v: %s", err, msg)
	}
	fields := strings.Fields(stdout.String())
	if len(fields) == 0 {
		return nil, errors.New("executor printed no result hash")
	}
	hash, err := hex.DecodeString(fields[0])
	if err != nil || len(hash) != sha256.Size {
		return nil, fmt.Errorf("executor printed %q, not a 64-hex-digit sha256", truncate(fields[0], 80))
	}
	return hash, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
