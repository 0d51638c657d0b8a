package worker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/repshard/repshard/cmd/repshardd/worker/resultapi"
)

// Result server defaults and bounds.
const (
	// ChallengeTTL is how long a challenge is taken.
	ChallengeTTL = 2 * time.Minute
	// DefaultResultServerConcurrency bounds the requests served at once;
	// more are answered 503 at once, not queued.
	DefaultResultServerConcurrency = 16
	// DefaultResultServerRate is the requests per second the server takes
	// (server-wide, a token bucket of DefaultResultServerBurst); more are
	// answered 429.
	DefaultResultServerRate  = 20
	DefaultResultServerBurst = 40
	// DefaultResultWriteTimeout bounds the sending of one answer (a large
	// result on a slow link needs more: --listen-write-timeout).
	DefaultResultWriteTimeout = 5 * time.Minute
	// delegateLookupTimeout bounds the chain query of one fetch: a node that
	// hangs must not hold a server slot until the client gives up.
	delegateLookupTimeout = 5 * time.Second
	// resultServerMaxHeaderBytes bounds a request's headers: the three
	// authentication headers need under 300 bytes.
	resultServerMaxHeaderBytes = 8 << 10
)

// Sizes in the authentication headers.
const (
	challengeNonceBytes  = 16
	challengeExpiryBytes = 8
	challengeBytes       = challengeNonceBytes + challengeExpiryBytes + sha256.Size
	pubKeyBytes          = secp256k1.PubKeySize // compressed
	signatureBytes       = 64                   // r ‖ s
)

// challengeMACDomain separates the challenge MAC from any other use of the secret.
const challengeMACDomain = "repshard-result-challenge\n"

// ResultServerConfig configures a ResultServer.
type ResultServerConfig struct {
	// ChainID is the chain the signatures name.
	ChainID string
	// Store holds the results and who requested them.
	Store *ResultStore
	// Delegates tells who besides the requester may fetch its results
	// (nil: nobody).
	Delegates DelegateLookup
	// Concurrency, Rate and Burst: the server-wide caps (defaults above).
	Concurrency int
	Rate        float64
	Burst       int
	// WriteTimeout bounds sending one answer (DefaultResultWriteTimeout).
	WriteTimeout time.Duration
	// Now is the clock and Rand the source of the secret and of the
	// challenge nonces (time.Now and crypto/rand by default; tests set them).
	Now  func() time.Time
	Rand io.Reader
	// Logf logs served and refused fetches (nil: no log).
	Logf func(format string, args ...any)
}

// ResultServer serves the kept results over HTTP to their requesters (and
// the requesters' result delegates), who prove who they are by signing a
// challenge the server minted (docs/dataplane.md). Challenges are stateless:
// 16 random bytes ‖ an 8-byte expiry ‖ an HMAC-SHA256 of both under a
// secret made at start and kept only in memory, so the server keeps no
// per-client state and a restart voids the challenges in flight.
type ResultServer struct {
	cfg    ResultServerConfig
	secret [32]byte
	slots  chan struct{}
	bucket *tokenBucket
}

// NewResultServer makes a server with a fresh secret.
func NewResultServer(cfg ResultServerConfig) (*ResultServer, error) {
	if cfg.Store == nil {
		return nil, errors.New("result server: no result store")
	}
	if cfg.ChainID == "" {
		return nil, errors.New("result server: no chain id")
	}
	if cfg.Delegates == nil {
		cfg.Delegates = NoDelegates{}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultResultServerConcurrency
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultResultServerRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultResultServerBurst
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultResultWriteTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	s := &ResultServer{cfg: cfg, slots: make(chan struct{}, cfg.Concurrency), bucket: newTokenBucket(cfg.Rate, cfg.Burst, cfg.Now)}
	if _, err := io.ReadFull(cfg.Rand, s.secret[:]); err != nil {
		return nil, fmt.Errorf("result server: secret: %w", err)
	}
	return s, nil
}

// HTTPServer is an http.Server of the handler with the server's limits:
// bounded headers, read and write timeouts.
func (s *ResultServer) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second, // GETs: no body to wait for
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    resultServerMaxHeaderBytes,
	}
}

// Handler serves GET /v1/challenge and GET /v1/results/{request_id}.
func (s *ResultServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(resultapi.ChallengePath, s.serveChallenge)
	mux.HandleFunc(resultapi.ResultsPathPrefix, s.serveResult)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: GET /v1/challenge, GET /v1/results/{request_id}")
	})
	return s.limit(mux)
}

// limit applies the server-wide rate and concurrency caps. A request over
// either is answered at once: waiting would hold a connection per caller.
func (s *ResultServer) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.bucket.take() {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "too many requests; retry later")
			return
		}
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "server busy; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *ResultServer) serveChallenge(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	challenge, expires, err := s.mintChallenge()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "cannot make a challenge")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resultapi.ChallengeResponse{Challenge: challenge, ExpiresAt: expires})
}

// mintChallenge makes a challenge valid for ChallengeTTL.
func (s *ResultServer) mintChallenge() (string, int64, error) {
	var raw [challengeBytes]byte
	if _, err := io.ReadFull(s.cfg.Rand, raw[:challengeNonceBytes]); err != nil {
		return "", 0, err
	}
	expires := s.cfg.Now().Add(ChallengeTTL).Unix()
	binary.BigEndian.PutUint64(raw[challengeNonceBytes:], uint64(expires))
	copy(raw[challengeNonceBytes+challengeExpiryBytes:], s.challengeMAC(raw[:challengeNonceBytes+challengeExpiryBytes]))
	return base64.RawURLEncoding.EncodeToString(raw[:]), expires, nil
}

func (s *ResultServer) challengeMAC(nonceAndExpiry []byte) []byte {
	mac := hmac.New(sha256.New, s.secret[:])
	mac.Write([]byte(challengeMACDomain))
	mac.Write(nonceAndExpiry)
	return mac.Sum(nil)
}

// authError is a refused fetch: its status and the text sent back.
type authError struct {
	status int
	msg    string
}

func (e *authError) Error() string { return e.msg }

func unauthorized(msg string) *authError { return &authError{http.StatusUnauthorized, msg} }
func malformed(msg string) *authError    { return &authError{http.StatusBadRequest, msg} }

// authenticate checks the three authentication headers of a fetch of
// requestID's result and returns the account that signed it. It looks at
// nothing but its arguments, the secret and the clock, so its answer says
// nothing about which results the worker holds.
func (s *ResultServer) authenticate(requestID uint64, challenge, pubKeyB64, sigB64 string) (sdk.AccAddress, *authError) {
	for _, h := range []struct{ name, value string }{
		{resultapi.HeaderChallenge, challenge}, {resultapi.HeaderPubkey, pubKeyB64}, {resultapi.HeaderSignature, sigB64},
	} {
		if h.value == "" {
			return nil, unauthorized("missing " + h.name + " header (GET " + resultapi.ChallengePath + ", then sign)")
		}
	}
	raw, ok := decodeCanonical(base64.RawURLEncoding, challenge, challengeBytes)
	if !ok {
		return nil, unauthorized("invalid challenge")
	}
	want := s.challengeMAC(raw[:challengeNonceBytes+challengeExpiryBytes])
	if !hmac.Equal(want, raw[challengeNonceBytes+challengeExpiryBytes:]) {
		return nil, unauthorized("invalid challenge")
	}
	expires := binary.BigEndian.Uint64(raw[challengeNonceBytes:])
	if now := s.cfg.Now().Unix(); now < 0 || uint64(now) >= expires {
		return nil, unauthorized("challenge expired; get a new one")
	}
	pubBytes, ok := decodeCanonical(base64.StdEncoding, pubKeyB64, pubKeyBytes)
	if !ok {
		return nil, malformed(resultapi.HeaderPubkey + " must be the standard base64 of a 33-byte compressed secp256k1 public key")
	}
	sig, ok := decodeCanonical(base64.StdEncoding, sigB64, signatureBytes)
	if !ok {
		return nil, malformed(resultapi.HeaderSignature + " must be the standard base64 of a 64-byte signature")
	}
	if !canonicalScalar(sig[:32]) || !canonicalScalar(sig[32:]) {
		return nil, unauthorized("bad signature")
	}
	pub := &secp256k1.PubKey{Key: pubBytes}
	if !pub.VerifySignature(resultapi.SignBytes(s.cfg.ChainID, requestID, challenge), sig) {
		return nil, unauthorized("bad signature")
	}
	return sdk.AccAddress(pub.Address()), nil
}

// decodeCanonical decodes s, which must be the one encoding of exactly n
// bytes: no padding variants, no stray bits, no line breaks (the decoder
// skips those), so that one signed message has one accepted header form.
func decodeCanonical(enc *base64.Encoding, s string, n int) ([]byte, bool) {
	if len(s) != enc.EncodedLen(n) {
		return nil, false
	}
	raw, err := enc.Strict().DecodeString(s)
	if err != nil || len(raw) != n || enc.EncodeToString(raw) != s {
		return nil, false
	}
	return raw, true
}

// secp256k1N is the order of the secp256k1 group.
var secp256k1N = []byte{
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
	0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
}

// canonicalScalar: the SDK's verifier reduces r and s modulo N, so r+N
// would verify like r; only 0 < x < N is one signature's one form.
func canonicalScalar(x []byte) bool {
	return bytes.Compare(x, secp256k1N) < 0 && !bytes.Equal(x, make([]byte, len(x)))
}

// parseRequestID reads the decimal request id of a result path; only the
// canonical form (no sign, no leading zero) is taken, as that is what the
// client signs.
func parseRequestID(s string) (uint64, bool) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(id, 10) != s {
		return 0, false
	}
	return id, true
}

func (s *ResultServer) serveResult(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	idText := strings.TrimPrefix(r.URL.Path, resultapi.ResultsPathPrefix)
	requestID, ok := parseRequestID(idText)
	if !ok {
		writeError(w, http.StatusBadRequest, "the path must be /v1/results/{request_id}, a decimal request id")
		return
	}
	caller, aerr := s.authenticate(requestID, r.Header.Get(resultapi.HeaderChallenge),
		r.Header.Get(resultapi.HeaderPubkey), r.Header.Get(resultapi.HeaderSignature))
	if aerr != nil {
		writeError(w, aerr.status, aerr.msg)
		return
	}
	status, msg := s.authorize(r.Context(), requestID, caller)
	if status != http.StatusOK {
		s.cfg.Logf("result server: request %d: %s refused (%d: %s)", requestID, caller, status, msg)
		writeError(w, status, msg)
		return
	}
	meta, f, err := s.cfg.Store.Open(requestID)
	if err != nil { // removed since authorize: as if it was never there
		writeError(w, http.StatusNotFound, "no result of this request is kept here")
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(meta.Size, 10))
	h.Set(resultapi.HeaderResultHash, meta.ResultHash)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	n, err := io.Copy(w, f)
	if err != nil {
		s.cfg.Logf("result server: request %d: sent %d of %d bytes to %s: %v", requestID, n, meta.Size, caller, err)
		return
	}
	s.cfg.Logf("result server: request %d: result sent to %s (%d bytes)", requestID, caller, n)
}

// authorize decides whether caller may have requestID's result: 200, or
// the status and text of the refusal. Called only after authenticate, so a
// 404 tells only someone holding a key that there is nothing here.
func (s *ResultServer) authorize(ctx context.Context, requestID uint64, caller sdk.AccAddress) (int, string) {
	meta, ok := s.cfg.Store.Meta(requestID)
	if !ok {
		return http.StatusNotFound, "no result of this request is kept here"
	}
	if sameAccount(meta.Requester, caller) {
		return http.StatusOK, ""
	}
	lookupCtx, cancel := context.WithTimeout(ctx, delegateLookupTimeout)
	defer cancel()
	delegate, err := s.cfg.Delegates.ResultDelegate(lookupCtx, meta.Requester)
	if err != nil {
		s.cfg.Logf("result server: request %d: result delegate of %s: %v", requestID, meta.Requester, err)
		return http.StatusServiceUnavailable, "cannot check the requester's result delegate on chain now; retry later"
	}
	if delegate != "" && sameAccount(delegate, caller) {
		return http.StatusOK, ""
	}
	return http.StatusForbidden, "this key is neither the request's requester nor its result delegate"
}

// sameAccount compares a bech32 account address with an account by their
// bytes, whatever the prefix the process has configured.
func sameAccount(bech32Addr string, acc sdk.AccAddress) bool {
	_, bz, err := bech32.DecodeAndConvert(bech32Addr)
	return err == nil && len(bz) > 0 && bytes.Equal(bz, acc)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	bz, err := json.Marshal(v)
	if err != nil {
		status, bz = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(bz)+1))
	w.WriteHeader(status)
	w.Write(append(bz, '\n')) //nolint:errcheck // the client went away
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, resultapi.ErrorResponse{Error: msg})
}

// tokenBucket is a server-wide rate limit: rate tokens a second, up to burst.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newTokenBucket(rate float64, burst int, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now}
}

// take spends one token, if there is one.
func (b *tokenBucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
