package worker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/repshard/repshard/cmd/repshardd/worker/sealed"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// Job is one request ready to run: the request as the chain holds it, and
// its payload, either inline or fetched from payload_uri by the daemon and
// checked against payload_hash before the executor sees it.
type Job struct {
	Request deferraltypes.Request
	// Dir is a private directory for this run (the fetched payload, the
	// --exec result file), removed after the result is kept. "" when the
	// caller gives none: executors then create their own temporary files.
	Dir string
	// payloadFile is the fetched payload, "" for an inline one.
	payloadFile string
}

// PayloadFetched tells whether the daemon fetched the payload from
// payload_uri (it is then the checked content at that URI).
func (j Job) PayloadFetched() bool { return j.payloadFile != "" }

// PayloadAvailable tells whether the daemon holds the request's data: an
// inline payload, a fetched one, or none at all (no payload_uri either, an
// empty payload). False for data at a URI the daemon does not fetch (a
// scheme other than http, https and file), which only an --exec program can
// get.
func (j Job) PayloadAvailable() bool {
	return j.PayloadFetched() || len(j.Request.Payload) > 0 || j.Request.PayloadUri == ""
}

// OpenPayload opens the payload: the fetched file, or the inline bytes
// (empty when the data is at a URI the daemon did not fetch).
func (j Job) OpenPayload() (io.ReadCloser, error) {
	if j.payloadFile != "" {
		return os.Open(j.payloadFile)
	}
	return io.NopCloser(bytes.NewReader(j.Request.Payload)), nil
}

// DefaultFetchTimeout bounds one payload download (--fetch-timeout).
const DefaultFetchTimeout = 30 * time.Second

// FetchConfig configures a PayloadFetcher.
type FetchConfig struct {
	// Timeout bounds a whole download, from connecting to the last byte
	// (default DefaultFetchTimeout).
	Timeout time.Duration
	// FileRoot is the directory file:// URIs may point into (symbolic links
	// resolved). Empty refuses file:// URIs: a worker does not let any
	// requester read its disk, and a failure reason with the sha256 of a
	// local file would publish it on chain.
	FileRoot string
	// AllowPrivateNetworks lets http(s) downloads reach loopback, private,
	// link-local and other non-public addresses. Off by default so that a
	// requester cannot point the worker at its own network (a cloud metadata
	// service, an admin port) and read the answers' hashes in the failure
	// reasons. The address is checked at connect time, after DNS resolution
	// and on every redirect.
	AllowPrivateNetworks bool

	// Private payloads (docs/dataplane.md). Worker.New fills these from the
	// daemon's key and client context when they are empty.

	// WorkerAddress replaces the placeholder {worker} in a payload_uri, so
	// that each assigned worker downloads the copy sealed to it.
	WorkerAddress string
	// ChainID is bound into every sealed payload.
	ChainID string
	// SealKey opens payloads sealed to the worker account (its secp256k1
	// key). Nil: a sealed payload is reported failed.
	SealKey *secp256k1.PrivateKey
	// CopyWait is how long a {worker} payload_uri that is not there yet
	// (HTTP 404, no such file) is asked again, on top of Timeout (default
	// DefaultCopyWait): the requester can seal a copy only once the chain
	// has named the worker, so the copy may appear after the assignment.
	CopyWait time.Duration
}

// DefaultCopyWait is the default FetchConfig.CopyWait (--fetch-copy-wait).
const DefaultCopyWait = time.Minute

// copyRetryInterval spaces the requests for a {worker} copy not there yet.
const copyRetryInterval = time.Second

// WorkerPlaceholder in a payload_uri stands for the bech32 address of the
// worker that downloads it.
const WorkerPlaceholder = "{worker}"

// PayloadFetcher downloads the payloads held at payload_uri (http, https,
// file), bounded by the request's declared data_bytes and a timeout, and
// checks them against payload_hash.
type PayloadFetcher struct {
	cfg    FetchConfig
	client *http.Client
}

// maxRedirects bounds the redirects of one payload download.
const maxRedirects = 5

// NewPayloadFetcher builds a fetcher (its HTTP client is reused across
// downloads).
func NewPayloadFetcher(cfg FetchConfig) *PayloadFetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultFetchTimeout
	}
	if cfg.CopyWait <= 0 {
		cfg.CopyWait = DefaultCopyWait
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivateNetworks {
		dialer.Control = refusePrivateAddress
	}
	transport := &http.Transport{
		Proxy:                  nil, // the address check must see the real destination
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		// The payload is the bytes the URI serves: no transparent gzip
		// decoding between the server and the hash check.
		DisableCompression:  true,
		MaxIdleConns:        16,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
	}
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			return nil
		},
	}
	return &PayloadFetcher{cfg: cfg, client: client}
}

// errSchemeNotFetched marks a payload_uri whose scheme the daemon leaves to
// an --exec program.
var errSchemeNotFetched = errors.New("scheme not fetched by the daemon")

// errPayloadNotThere marks a payload_uri with nothing at it (yet): a
// {worker} copy the requester may still be uploading.
var errPayloadNotThere = errors.New("payload not there")

// notThere is an error that is errPayloadNotThere, with its own text.
type notThere struct{ error }

func (notThere) Is(target error) bool { return target == errPayloadNotThere }

// errPrivateAddress refuses a download from a non-public address.
var errPrivateAddress = errors.New("payload_uri leads to a loopback, private or link-local address, which this worker does not fetch")

// FetchedByDaemon tells whether the daemon fetches the payload of req itself: data
// held at an http, https or file URI, with no inline payload.
func FetchedByDaemon(req deferraltypes.Request) bool {
	if len(req.Payload) > 0 || req.PayloadUri == "" {
		return false
	}
	switch uriScheme(req.PayloadUri) {
	case "http", "https", "file":
		return true
	}
	return false
}

func uriScheme(uri string) string {
	i := strings.Index(uri, ":")
	if i <= 0 {
		return ""
	}
	return strings.ToLower(uri[:i])
}

// Fetch downloads the payload of req into the file dst and checks it:
// at most data_bytes bytes, with the sha256 payload_hash. On any error dst
// may hold a partial download (the caller removes the job directory). The
// error texts are failure reasons, published on chain: they name no local
// path and stay short.
func (f *PayloadFetcher) Fetch(ctx context.Context, req deferraltypes.Request, dst string) error {
	if !FetchedByDaemon(req) {
		return errSchemeNotFetched
	}
	uri := req.PayloadUri
	perWorker := strings.Contains(uri, WorkerPlaceholder)
	timeout := f.cfg.Timeout
	if perWorker {
		if f.cfg.WorkerAddress == "" {
			return errors.New("payload_uri has a {worker} placeholder and this worker has no address to put there")
		}
		uri = strings.ReplaceAll(uri, WorkerPlaceholder, f.cfg.WorkerAddress)
		timeout += f.cfg.CopyWait
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	waitUntil := time.Now().Add(f.cfg.CopyWait)
	rc, err := f.open(ctx, uri)
	for perWorker && errors.Is(err, errPayloadNotThere) && time.Now().Before(waitUntil) {
		t := time.NewTimer(copyRetryInterval)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		if ctx.Err() != nil {
			break
		}
		rc, err = f.open(ctx, uri)
	}
	if err != nil {
		return f.fetchError(ctx, err, timeout)
	}
	defer rc.Close()
	// A sealed payload starts with the envelope magic; a read error here
	// comes back on the next read.
	src := bufio.NewReader(rc)
	if head, _ := src.Peek(len(sealed.Magic)); sealed.IsSealed(head) {
		return f.fetchSealed(ctx, req, src, dst, timeout)
	}

	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("worker cannot store the payload: %w", withoutPath(err))
	}
	defer out.Close()
	// Read one byte past the declared size: a payload that has it is larger
	// than the request says, whatever its hash.
	limit := int64(req.DataBytes) + 1
	if req.DataBytes >= 1<<62 {
		limit = 1 << 62
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, sum), io.LimitReader(src, limit))
	if err != nil {
		return f.fetchError(ctx, err, timeout)
	}
	if uint64(n) > req.DataBytes {
		return fmt.Errorf("payload larger than its declared %d bytes", req.DataBytes)
	}
	if got := sum.Sum(nil); !bytes.Equal(got, req.PayloadHash) {
		return fmt.Errorf("payload at payload_uri has sha256 %s, the request says %s", hex.EncodeToString(got), hex.EncodeToString(req.PayloadHash))
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("worker cannot store the payload: %w", withoutPath(err))
	}
	return nil
}

// fetchSealed reads a sealed payload (at most data_bytes plus the
// envelope's fixed overhead), opens it with the worker's key and checks the
// plaintext against payload_hash, then writes the plaintext to dst. AES-GCM
// authenticates the whole envelope before releasing any plaintext, so the
// envelope is held in memory (data_bytes is bounded by the chain's params).
func (f *PayloadFetcher) fetchSealed(ctx context.Context, req deferraltypes.Request, src io.Reader, dst string, timeout time.Duration) error {
	maxLen := uint64(1 << 62)
	if req.DataBytes < maxLen-uint64(sealed.Overhead) {
		maxLen = req.DataBytes + uint64(sealed.Overhead)
	}
	env, err := io.ReadAll(io.LimitReader(src, int64(maxLen)+1))
	if err != nil {
		return f.fetchError(ctx, err, timeout)
	}
	if uint64(len(env)) > maxLen {
		return fmt.Errorf("sealed payload larger than its declared %d bytes plus the %d-byte envelope", req.DataBytes, sealed.Overhead)
	}
	if f.cfg.SealKey == nil {
		return errors.New("payload is sealed and this worker's key cannot open it (not a local secp256k1 key in the keyring)")
	}
	plain, err := sealed.Open(env, f.cfg.SealKey, f.cfg.ChainID, req.Id, f.cfg.WorkerAddress)
	if err != nil {
		return fmt.Errorf("sealed payload: %w", err)
	}
	if uint64(len(plain)) > req.DataBytes {
		return fmt.Errorf("payload larger than its declared %d bytes", req.DataBytes)
	}
	if got := sha256.Sum256(plain); !bytes.Equal(got[:], req.PayloadHash) {
		return fmt.Errorf("sealed payload opened to sha256 %s, the request says %s", hex.EncodeToString(got[:]), hex.EncodeToString(req.PayloadHash))
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		_, err = out.Write(plain)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("worker cannot store the payload: %w", withoutPath(err))
	}
	return nil
}

// withoutPath drops the local path from a file error: failure reasons are
// published on chain.
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// fetchError words a download error as a failure reason.
func (f *PayloadFetcher) fetchError(ctx context.Context, err error, timeout time.Duration) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("payload download timed out after %s", timeout)
	case errors.Is(err, errPrivateAddress):
		return errPrivateAddress
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the URI: the request record holds it
	}
	return fmt.Errorf("payload download: %s", truncate(err.Error(), 160))
}

// open starts reading the content at uri.
func (f *PayloadFetcher) open(ctx context.Context, uri string) (io.ReadCloser, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, errors.New("payload_uri is not a valid URI")
	}
	if u.Scheme == "file" { // url.Parse lowercases the scheme
		return f.openFile(u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errors.New("payload_uri is not a valid URI")
	}
	req.Header.Set("User-Agent", "repshard-worker")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, notThere{fmt.Errorf("HTTP %s", resp.Status)}
		}
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return resp.Body, nil
}

// openFile opens a file:// URI under FileRoot.
func (f *PayloadFetcher) openFile(u *url.URL) (io.ReadCloser, error) {
	if f.cfg.FileRoot == "" {
		return nil, errors.New("this worker does not read file:// payloads (no --fetch-file-root)")
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, errors.New("file:// payload_uri names another host")
	}
	if !filepath.IsAbs(u.Path) {
		return nil, errors.New("file:// payload_uri needs an absolute path")
	}
	root, err := filepath.EvalSymlinks(f.cfg.FileRoot)
	if err != nil {
		return nil, errors.New("worker's --fetch-file-root is not readable")
	}
	path, err := filepath.EvalSymlinks(filepath.Clean(u.Path))
	if err != nil {
		return nil, notThere{errors.New("no such payload file on this worker")}
	}
	if rel, err := filepath.Rel(root, path); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, errors.New("file:// payload_uri outside this worker's --fetch-file-root")
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, errors.New("payload file not readable on this worker")
	}
	if st, err := file.Stat(); err != nil || !st.Mode().IsRegular() {
		file.Close()
		return nil, errors.New("file:// payload_uri is not a regular file")
	}
	return file, nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598), not
// public either.
var cgnat = net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// refusePrivateAddress is the dialer's check of each address it connects
// to (after DNS resolution, so a name that resolves to a private address is
// caught, and on every redirect).
func refusePrivateAddress(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !publicAddress(ip) {
		return errPrivateAddress
	}
	return nil
}

func publicAddress(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || cgnat.Contains(ip))
}
