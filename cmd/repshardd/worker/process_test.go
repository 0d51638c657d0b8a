package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// uriRequest is a request whose data is held at uri.
func uriRequest(id uint64, uri string, content []byte) deferraltypes.Request {
	sum := sha256.Sum256(content)
	return deferraltypes.Request{
		Id: id, Attempts: 1, Requester: "rep1requester", PayloadUri: uri, PayloadHash: sum[:], DataBytes: uint64(len(content)),
	}
}

// markerExec is an --exec program that leaves a marker file when it runs
// and writes the upper-cased payload as its result.
func markerExec(marker string) CommandExecutor {
	return CommandExecutor{Command: fmt.Sprintf(`touch %q; tr a-z A-Z > "$REPSHARD_RESULT_FILE"`, marker)}
}

func newTestProcessor(t *testing.T, fetch FetchConfig, exec Executor) *processor {
	t.Helper()
	store, err := OpenResultStore(ResultStoreConfig{Dir: filepath.Join(t.TempDir(), "results")})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	return &processor{
		fetcher: NewPayloadFetcher(fetch), executor: exec, results: store, workDir: store.TmpDir(),
		logf: func(format string, args ...any) { t.Logf(format, args...) },
	}
}

// A payload held at an http or file URI is downloaded, checked against
// payload_hash and run; the result bytes are kept for the requester. One
// larger than its declared size, one with another hash, one at a refused
// address or path, and one too slow fail, and the executor never runs.
func TestProcessFetchesAndChecksURIPayloads(t *testing.T) {
	ctx := context.Background()
	payload := []byte("data held elsewhere")
	var slow chan struct{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/data":
			w.Write(payload) //nolint:errcheck
		case "/slow":
			<-slow
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	slow = make(chan struct{})
	defer close(slow)

	root := t.TempDir()
	filePath := filepath.Join(root, "in", "data.bin")
	require.NoError(t, os.MkdirAll(filepath.Dir(filePath), 0o700))
	require.NoError(t, os.WriteFile(filePath, payload, 0o600))
	outside := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(outside, payload, 0o600))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "in", "link")))

	marker := filepath.Join(t.TempDir(), "ran")
	p := newTestProcessor(t, FetchConfig{AllowPrivateNetworks: true, FileRoot: root, Timeout: 500 * time.Millisecond}, markerExec(marker))
	wantResult := sha256.Sum256([]byte(strings.ToUpper(string(payload))))

	for i, uri := range []string{srv.URL + "/data", "file://" + filePath, "FILE://localhost" + filePath} {
		req := uriRequest(uint64(10+i), uri, payload)
		o, ok := p.process(ctx, req)
		require.True(t, ok)
		require.False(t, o.failed, "%s: %s", uri, o.reason)
		require.Equal(t, wantResult[:], o.result, uri)
		require.FileExists(t, marker)
		require.NoError(t, os.Remove(marker))
		meta, f, err := p.results.Open(req.Id)
		require.NoError(t, err)
		content := make([]byte, 100)
		n, _ := f.Read(content)
		f.Close()
		require.Equal(t, strings.ToUpper(string(payload)), string(content[:n]))
		require.Equal(t, "rep1requester", meta.Requester)
		require.Equal(t, hex.EncodeToString(wantResult[:]), meta.ResultHash)
	}

	// The built-in executor runs fetched payloads too.
	pb := newTestProcessor(t, FetchConfig{AllowPrivateNetworks: true}, BuiltinExecutor{})
	o, ok := pb.process(ctx, uriRequest(20, srv.URL+"/data", payload))
	require.True(t, ok)
	require.False(t, o.failed, o.reason)
	require.Equal(t, BuiltinResult(payload).Hash, o.result)

	wrongHash := sha256.Sum256([]byte("something else"))
	gotHash := sha256.Sum256(payload)
	for _, tc := range []struct {
		name   string
		p      *processor
		req    deferraltypes.Request
		reason string
	}{
		{"larger than declared", p, func() deferraltypes.Request {
			r := uriRequest(30, srv.URL+"/data", payload)
			r.DataBytes = uint64(len(payload) - 1)
			return r
		}(), fmt.Sprintf("payload larger than its declared %d bytes", len(payload)-1)},
		{"another hash", p, func() deferraltypes.Request {
			r := uriRequest(31, srv.URL+"/data", payload)
			r.PayloadHash = wrongHash[:]
			return r
		}(), fmt.Sprintf("payload at payload_uri has sha256 %x, the request says %x", gotHash, wrongHash)},
		{"file, another hash", p, func() deferraltypes.Request {
			r := uriRequest(32, "file://"+filePath, payload)
			r.PayloadHash = wrongHash[:]
			return r
		}(), "payload at payload_uri has sha256"},
		{"not found", p, uriRequest(33, srv.URL+"/missing", payload), "HTTP 404"},
		{"too slow", p, uriRequest(34, srv.URL+"/slow", payload), "timed out after 500ms"},
		{"file outside the root", p, uriRequest(35, "file://"+outside, payload), "outside this worker's --fetch-file-root"},
		{"symlink out of the root", p, uriRequest(36, "file://"+filepath.Join(root, "in", "link"), payload), "outside this worker's --fetch-file-root"},
		{"file, no root", newTestProcessor(t, FetchConfig{}, markerExec(marker)), uriRequest(37, "file://"+filePath, payload), "no --fetch-file-root"},
		{"loopback address", newTestProcessor(t, FetchConfig{}, markerExec(marker)), uriRequest(38, srv.URL+"/data", payload), "loopback, private or link-local"},
	} {
		o, ok := tc.p.process(ctx, tc.req)
		require.True(t, ok, tc.name)
		require.True(t, o.failed, tc.name)
		require.Contains(t, o.reason, tc.reason, tc.name)
		require.LessOrEqual(t, len(o.reason), maxReasonBytes, tc.name)
		require.NoFileExists(t, marker, "%s: the executor ran", tc.name)
		_, kept := tc.p.results.Meta(tc.req.Id)
		require.False(t, kept, tc.name)
	}

	// A scheme the daemon does not fetch is left to --exec, with the URI in
	// its environment; the built-in executor refuses it.
	ipfs := uriRequest(40, "ipfs://bafyexample", payload)
	pe := newTestProcessor(t, FetchConfig{}, CommandExecutor{Command: `test "$REPSHARD_PAYLOAD_URI" = ipfs://bafyexample && test "$REPSHARD_DATA_BYTES" = ` + fmt.Sprint(len(payload)) + ` && printf '%s' "$REPSHARD_PAYLOAD_URI" | sha256sum`})
	o, ok = pe.process(ctx, ipfs)
	require.True(t, ok)
	require.False(t, o.failed, o.reason)
	want := sha256.Sum256([]byte("ipfs://bafyexample"))
	require.Equal(t, want[:], o.result)
	o, _ = pb.process(ctx, ipfs)
	require.True(t, o.failed)
	require.Contains(t, o.reason, "--exec")

	// No job directory is left behind.
	entries, err := os.ReadDir(p.workDir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

// A daemon that stops during a download reports nothing.
func TestProcessStoppingDuringFetchReportsNothing(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	p := newTestProcessor(t, FetchConfig{AllowPrivateNetworks: true}, BuiltinExecutor{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, ok := p.process(ctx, uriRequest(1, srv.URL, []byte("x")))
	require.False(t, ok)
}

func TestPublicAddress(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "100.64.0.1", "::1", "fe80::1", "fc00::1", "0.0.0.0", "::ffff:127.0.0.1"} {
		require.False(t, publicAddress(mustIP(t, ip)), ip)
	}
	for _, ip := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"} {
		require.True(t, publicAddress(mustIP(t, ip)), ip)
	}
}

func mustIP(t *testing.T, s string) net.IP {
	t.Helper()
	ip := net.ParseIP(s)
	require.NotNil(t, ip, s)
	return ip
}
