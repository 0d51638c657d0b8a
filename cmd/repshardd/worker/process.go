package worker

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// processor turns an assignment into an outcome to report: the payload
// held at payload_uri fetched and checked (nothing runs on data whose hash
// is not the request's), the executor run in a job directory of its own,
// and the result bytes kept in the result store before the report goes out,
// so the result can be served as soon as the chain shows the completion.
type processor struct {
	fetcher  *PayloadFetcher
	executor Executor
	results  *ResultStore // nil: results are not kept
	workDir  string       // where the job directories are made
	logf     func(format string, args ...any)
}

// payloadFileName is the fetched payload's name in the job directory.
const payloadFileName = "payload"

// process runs one assignment. ok is false when ctx was cancelled (the
// daemon stopping): nothing is to be reported then.
func (p *processor) process(ctx context.Context, req deferraltypes.Request) (o outcome, ok bool) {
	o = outcome{req: req}
	fail := func(err error) (outcome, bool) {
		if ctx.Err() != nil {
			return outcome{}, false
		}
		o.failed, o.reason = true, truncate(err.Error(), maxReasonBytes)
		return o, true
	}
	if err := os.MkdirAll(p.workDir, 0o700); err != nil {
		return fail(fmt.Errorf("worker cannot create its work directory: %w", withoutPath(err)))
	}
	dir, err := os.MkdirTemp(p.workDir, fmt.Sprintf("job-%d-%d-", req.Id, req.Attempts))
	if err != nil {
		return fail(fmt.Errorf("worker cannot create a job directory: %w", withoutPath(err)))
	}
	defer os.RemoveAll(dir)

	job := Job{Request: req, Dir: dir}
	if FetchedByDaemon(req) {
		path := filepath.Join(dir, payloadFileName)
		if err := p.fetcher.Fetch(ctx, req, path); err != nil {
			return fail(err)
		}
		job.payloadFile = path
	}
	res, err := p.executor.Execute(ctx, job)
	if err != nil {
		return fail(err)
	}
	if ctx.Err() != nil {
		return outcome{}, false
	}
	if len(res.Hash) != sha256.Size {
		return fail(fmt.Errorf("executor returned a %d-byte result hash, not a 32-byte sha256", len(res.Hash)))
	}
	if res.Kept() && p.results != nil {
		if _, err := p.results.Put(req.Id, req.Requester, res); err != nil {
			// The hash is still the result: report it; the requester can
			// only not download the bytes from this worker.
			p.logf("%s: result not kept: %v", key{req.Id, req.Attempts}, err)
		}
	}
	o.result = res.Hash
	return o, true
}
