package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// Executor runs one request. It returns the result, or an error whose text
// becomes the failure reason reported with MsgFailRequest. A cancelled ctx
// (the daemon stopping) must make it return ctx.Err(); such a request is not
// reported. The daemon has fetched and checked a payload held at an http,
// https or file URI before it calls Execute (Job.OpenPayload reads it).
type Executor interface {
	Execute(ctx context.Context, job Job) (Result, error)
}

// Result is what an executor made of a request.
type Result struct {
	// Hash is the 32-byte sha256 reported on chain (MsgCompleteRequest).
	Hash []byte
	// Bytes or File (a file in the job's directory, moved into the result
	// store) hold the result bytes whose sha256 is Hash: kept in the result
	// store and served to the requester. Both are empty when the executor
	// keeps no result (an --exec program that only printed a hash).
	Bytes []byte
	File  string
}

// Kept tells whether the result has bytes to keep, not only a hash.
func (r Result) Kept() bool { return r.Bytes != nil || r.File != "" }

// BuiltinExecutor is the default executor. Its result bytes are the 64
// lowercase hex digits of sha256(payload) and a newline, and it reports the
// sha256 of those bytes: a result a requester can download and read, whose
// hash is the hash of what it downloads, like any other result. It runs
// inline payloads and those the daemon fetched; data at a URI of another
// scheme needs an --exec program.
type BuiltinExecutor struct{}

// Execute hashes the payload.
func (BuiltinExecutor) Execute(_ context.Context, job Job) (Result, error) {
	if !job.PayloadAvailable() {
		return Result{}, fmt.Errorf("data held at %s: the built-in executor runs inline payloads and http, https and file URIs only (use --exec)", truncate(job.Request.PayloadUri, 120))
	}
	payload, err := job.OpenPayload()
	if err != nil {
		return Result{}, fmt.Errorf("worker cannot read the payload: %w", withoutPath(err))
	}
	defer payload.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, payload); err != nil {
		return Result{}, fmt.Errorf("worker cannot read the payload: %w", withoutPath(err))
	}
	return builtinResult(sum.Sum(nil)), nil
}

// BuiltinResult is the built-in executor's result of a payload: what
// anything that predicts its reports (tests, scripts) compares with.
func BuiltinResult(payload []byte) Result {
	sum := sha256.Sum256(payload)
	return builtinResult(sum[:])
}

func builtinResult(payloadHash []byte) Result {
	out := []byte(hex.EncodeToString(payloadHash) + "\n")
	hash := sha256.Sum256(out)
	return Result{Hash: hash[:], Bytes: out}
}

// CommandExecutor runs a program through `sh -c` for each request: the
// payload (inline, or fetched and checked by the daemon) on stdin, the
// request in the environment (see commandEnv). The program may write its
// result to the file named by REPSHARD_RESULT_FILE: the result hash is then
// the sha256 of that file, which the daemon keeps and serves to the
// requester, and the first word of stdout, if any, must be that hash.
// Without a result file the first word of stdout is the result hash (64 hex
// digits) and no result is kept. A non-zero exit, a timeout or a malformed
// hash is a failure.
type CommandExecutor struct {
	Command string
	Timeout time.Duration
}

// maxReasonBytes is the chain's limit on a failure reason.
const maxReasonBytes = 256

// resultFileName is the name of REPSHARD_RESULT_FILE in the job directory.
const resultFileName = "result"

// commandEnv is the environment of an --exec program (beside the daemon's own).
func commandEnv(req deferraltypes.Request, resultFile string) []string {
	return []string{
		"REPSHARD_REQUEST_ID=" + strconv.FormatUint(req.Id, 10),
		"REPSHARD_ATTEMPT=" + strconv.FormatUint(uint64(req.Attempts), 10),
		"REPSHARD_REQUESTER=" + req.Requester,
		"REPSHARD_CLASS=" + req.Class.String(),
		"REPSHARD_COMPUTE_UNITS=" + strconv.FormatUint(req.ComputeUnits, 10),
		"REPSHARD_PAYLOAD_HASH=" + hex.EncodeToString(req.PayloadHash),
		"REPSHARD_PAYLOAD_URI=" + req.PayloadUri,
		"REPSHARD_DATA_BYTES=" + strconv.FormatUint(req.DataBytes, 10),
		"REPSHARD_RESULT_FILE=" + resultFile,
	}
}

// Execute runs the command.
func (e CommandExecutor) Execute(ctx context.Context, job Job) (Result, error) {
	dir := job.Dir
	if dir == "" { // no job directory from the caller: a temporary one, result read into memory
		tmp, err := os.MkdirTemp("", "repshard-exec-")
		if err != nil {
			return Result{}, fmt.Errorf("worker cannot create a result file: %w", withoutPath(err))
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	resultPath := filepath.Join(dir, resultFileName)
	if err := os.Remove(resultPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Result{}, fmt.Errorf("worker cannot clear the result file: %w", withoutPath(err))
	}

	runCtx := ctx
	if e.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, e.Timeout)
		defer cancel()
	}
	payload, err := job.OpenPayload()
	if err != nil {
		return Result{}, fmt.Errorf("worker cannot read the payload: %w", withoutPath(err))
	}
	defer payload.Close()
	cmd := exec.CommandContext(runCtx, "sh", "-c", e.Command)
	cmd.Stdin = payload
	cmd.Env = append(os.Environ(), commandEnv(job.Request, resultPath)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second // do not wait for grandchildren holding the pipes
	err = cmd.Run()
	if ctx.Err() != nil {
		return Result{}, ctx.Err() // the daemon is stopping: not the request's fault
	}
	if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
		return Result{}, fmt.Errorf("executor timed out after %s", e.Timeout)
	}
	if err != nil {
		msg := lastLine(stderr.String())
		if msg == "" {
			return Result{}, fmt.Errorf("executor: %v", err)
		}
		return Result{}, fmt.Errorf("executor: %v: %s", err, msg)
	}
	fields := strings.Fields(stdout.String())

	fileHash, wrote, err := hashResultFile(resultPath)
	if err != nil {
		return Result{}, err
	}
	if wrote {
		if len(fields) > 0 && !strings.EqualFold(fields[0], hex.EncodeToString(fileHash)) {
			return Result{}, fmt.Errorf("executor printed %q, but its result file has sha256 %s", truncate(fields[0], 80), hex.EncodeToString(fileHash))
		}
		res := Result{Hash: fileHash, File: resultPath}
		if job.Dir == "" { // the temporary directory goes away on return
			if res.Bytes, err = os.ReadFile(resultPath); err != nil {
				return Result{}, fmt.Errorf("worker cannot read the result file: %w", withoutPath(err))
			}
			res.File = ""
			if res.Bytes == nil {
				res.Bytes = []byte{}
			}
		}
		return res, nil
	}
	if len(fields) == 0 {
		return Result{}, errors.New("executor printed no result hash and wrote no result file")
	}
	hash, err := hex.DecodeString(fields[0])
	if err != nil || len(hash) != sha256.Size {
		return Result{}, fmt.Errorf("executor printed %q, not a 64-hex-digit sha256", truncate(fields[0], 80))
	}
	return Result{Hash: hash}, nil
}

// hashResultFile hashes the --exec result file, if the program wrote one.
func hashResultFile(path string) (hash []byte, wrote bool, err error) {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("worker cannot read the result file: %w", withoutPath(err))
	}
	if !st.Mode().IsRegular() {
		return nil, false, errors.New("executor's REPSHARD_RESULT_FILE is not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("worker cannot read the result file: %w", withoutPath(err))
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return nil, false, fmt.Errorf("worker cannot read the result file: %w", withoutPath(err))
	}
	return sum.Sum(nil), true, nil
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
