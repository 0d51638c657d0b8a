package worker

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"

	"github.com/repshard/repshard/cmd/repshardd/worker/resultapi"
	"github.com/repshard/repshard/internal/chaincfg"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

const testChainID = "repshard-test-1"

// account is a test account with a real secp256k1 key.
type account struct {
	key  *secp256k1.PrivKey
	addr string // bech32, prefix rep
}

func newAccount(t testing.TB, secret string) account {
	t.Helper()
	key := secp256k1.GenPrivKeyFromSecret([]byte(secret))
	addr, err := bech32.ConvertAndEncode(chaincfg.Bech32Prefix, sdk.AccAddress(key.PubKey().Address()))
	require.NoError(t, err)
	return account{key: key, addr: addr}
}

func (a account) signer() resultapi.Signer {
	return func(msg []byte) ([]byte, cryptotypes.PubKey, error) {
		sig, err := a.key.Sign(msg)
		return sig, a.key.PubKey(), err
	}
}

// headers are the authentication headers of a's fetch of requestID.
func (a account) headers(t testing.TB, chainID string, requestID uint64, challenge string) http.Header {
	t.Helper()
	sig, err := a.key.Sign(resultapi.SignBytes(chainID, requestID, challenge))
	require.NoError(t, err)
	h := http.Header{}
	h.Set(resultapi.HeaderChallenge, challenge)
	h.Set(resultapi.HeaderPubkey, base64.StdEncoding.EncodeToString(a.key.PubKey().Bytes()))
	h.Set(resultapi.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return h
}

// delegateService is a gRPC server answering Query/ResultDelegate from a
// map (to control its answers and failures), reached through the daemon's
// real gRPC querier; TestDataPlaneOnInProcessNetwork asks a real node.
type delegateService struct {
	mu        sync.Mutex
	delegates map[string]string
	err       error         // answered instead, when set
	hold      chan struct{} // when set, each call waits for it to close
	calls     chan string   // each call's requester, when set
}

func startDelegateService(t *testing.T, svc *delegateService) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		if method != ResultDelegateMethod {
			return status.Errorf(codes.Unimplemented, "unknown method %s", method)
		}
		var req deferraltypes.QueryResultDelegateRequest
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		if svc.calls != nil {
			svc.calls <- req.Requester
		}
		if svc.hold != nil {
			<-svc.hold
		}
		svc.mu.Lock()
		d, ok := svc.delegates[req.Requester]
		serr := svc.err
		svc.mu.Unlock()
		if serr != nil {
			return serr
		}
		if !ok {
			return status.Error(codes.NotFound, "no result delegate")
		}
		return stream.SendMsg(&deferraltypes.QueryResultDelegateResponse{Delegate: d})
	}))
	go srv.Serve(lis) //nolint:errcheck
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// resultFixture is a result store holding results of alice, and a server on it.
type resultFixture struct {
	store   *ResultStore
	clock   *fakeClock
	alice   account // requester of requests 7 and 8
	bob     account // another account
	carol   account // alice's result delegate
	results map[uint64][]byte
}

func newResultFixture(t *testing.T) *resultFixture {
	t.Helper()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	store, err := OpenResultStore(ResultStoreConfig{Dir: filepath.Join(t.TempDir(), "results"), Now: clock.now})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	f := &resultFixture{
		store: store, clock: clock,
		alice: newAccount(t, "alice"), bob: newAccount(t, "bob"), carol: newAccount(t, "carol"),
		results: map[uint64][]byte{7: []byte("the result of request 7\n"), 8: []byte("another result")},
	}
	for id, content := range f.results {
		_, err := store.Put(id, f.alice.addr, bytesResult(string(content)))
		require.NoError(t, err)
	}
	return f
}

func (f *resultFixture) server(t *testing.T, cfg ResultServerConfig) *ResultServer {
	t.Helper()
	cfg.ChainID, cfg.Store, cfg.Now = testChainID, f.store, f.clock.now
	srv, err := NewResultServer(cfg)
	require.NoError(t, err)
	return srv
}

func getChallenge(t *testing.T, base string) resultapi.ChallengeResponse {
	t.Helper()
	resp, err := http.Get(base + resultapi.ChallengePath)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ch resultapi.ChallengeResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ch))
	return ch
}

// fetch sends a result request with headers; it returns the status and
// the error text of a JSON error answer.
func fetch(t *testing.T, base, path string, h http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, ""
	}
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"), "error answers are JSON")
	var e resultapi.ErrorResponse
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	require.NotEmpty(t, e.Error)
	return resp.StatusCode, e.Error
}

// The requester fetches its result (FetchResult, the CLI's client, against
// the real server) and its sha256 is the kept hash; its delegate on chain
// fetches it too; any other account is refused with 403; a bad signature,
// an expired, forged or foreign challenge with 401; an unknown request 404
// only after a valid signature.
func TestResultServerServesTheRequesterAndItsDelegate(t *testing.T) {
	f := newResultFixture(t)
	svc := &delegateService{delegates: map[string]string{f.alice.addr: f.carol.addr}}
	conn := startDelegateService(t, svc)
	var logMu sync.Mutex
	var log strings.Builder
	srv := f.server(t, ResultServerConfig{
		Delegates: ChainDelegates{Querier: GRPCResultDelegateQuerier{Conn: conn}},
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintf(&log, format+"\n", args...)
		},
	})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	ctx := context.Background()

	// The requester.
	got, err := resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.alice.signer(), 1<<20)
	require.NoError(t, err)
	require.Equal(t, f.results[7], got)
	meta, ok := f.store.Meta(7)
	require.True(t, ok)
	sum := sha256.Sum256(got)
	require.Equal(t, meta.ResultHash, hex.EncodeToString(sum[:]))

	// Its delegate, as the chain answers it.
	got, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 8, f.carol.signer(), 1<<20)
	require.NoError(t, err)
	require.Equal(t, f.results[8], got)

	// Another account: 403.
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.bob.signer(), 1<<20)
	require.Equal(t, http.StatusForbidden, resultapi.StatusCode(err), "%v", err)

	// The delegate changes on chain: carol is refused, bob is served.
	svc.mu.Lock()
	svc.delegates[f.alice.addr] = f.bob.addr
	svc.mu.Unlock()
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.carol.signer(), 1<<20)
	require.Equal(t, http.StatusForbidden, resultapi.StatusCode(err), "%v", err)
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.bob.signer(), 1<<20)
	require.NoError(t, err)

	// The chain cannot be asked: 503 for a non-requester, the requester
	// is still served (no lookup needed).
	svc.mu.Lock()
	svc.err = status.Error(codes.Unavailable, "node down")
	svc.mu.Unlock()
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.bob.signer(), 1<<20)
	require.Equal(t, http.StatusServiceUnavailable, resultapi.StatusCode(err), "%v", err)
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.alice.signer(), 1<<20)
	require.NoError(t, err)
	svc.mu.Lock()
	svc.err = nil
	svc.mu.Unlock()

	// An unknown request: 404 after a valid signature, 401 without one.
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 99, f.alice.signer(), 1<<20)
	require.Equal(t, http.StatusNotFound, resultapi.StatusCode(err), "%v", err)
	code, _ := fetch(t, hs.URL, "/v1/results/99", nil)
	require.Equal(t, http.StatusUnauthorized, code)
	ch := getChallenge(t, hs.URL)
	h := f.alice.headers(t, testChainID, 7, ch.Challenge)
	h.Set(resultapi.HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 64)))
	code, _ = fetch(t, hs.URL, "/v1/results/99", h)
	require.Equal(t, http.StatusUnauthorized, code, "a bad signature learns nothing about request 99")

	// Bad signatures: over another request, another chain, another
	// challenge; alice's signature presented with bob's key.
	ch = getChallenge(t, hs.URL)
	require.Equal(t, f.clock.t.Add(ChallengeTTL).Unix(), ch.ExpiresAt)
	for name, h := range map[string]http.Header{
		"another request":   f.alice.headers(t, testChainID, 8, ch.Challenge),
		"another chain":     f.alice.headers(t, "other-chain", 7, ch.Challenge),
		"another challenge": withChallenge(f.alice.headers(t, testChainID, 7, getChallenge(t, hs.URL).Challenge), ch.Challenge),
		"another key": func() http.Header {
			h := f.alice.headers(t, testChainID, 7, ch.Challenge)
			h.Set(resultapi.HeaderPubkey, base64.StdEncoding.EncodeToString(f.bob.key.PubKey().Bytes()))
			return h
		}(),
	} {
		code, msg := fetch(t, hs.URL, "/v1/results/7", h)
		require.Equal(t, http.StatusUnauthorized, code, name)
		require.Equal(t, "bad signature", msg, name)
	}
	code, _ = fetch(t, hs.URL, "/v1/results/7", f.alice.headers(t, testChainID, 7, ch.Challenge))
	require.Equal(t, http.StatusOK, code, "the challenge is still good")

	// An expired challenge.
	f.clock.t = f.clock.t.Add(ChallengeTTL)
	code, msg := fetch(t, hs.URL, "/v1/results/7", f.alice.headers(t, testChainID, 7, ch.Challenge))
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, msg, "expired")

	// Forged challenges: random bytes; a later expiry under the old MAC;
	// one of another server (another secret).
	raw := make([]byte, challengeBytes)
	forged := base64.RawURLEncoding.EncodeToString(raw)
	code, msg = fetch(t, hs.URL, "/v1/results/7", f.alice.headers(t, testChainID, 7, forged))
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "invalid challenge", msg)
	raw, err = base64.RawURLEncoding.DecodeString(ch.Challenge)
	require.NoError(t, err)
	raw[challengeNonceBytes+challengeExpiryBytes-1] += 100 // 100 s more
	extended := base64.RawURLEncoding.EncodeToString(raw)
	code, msg = fetch(t, hs.URL, "/v1/results/7", f.alice.headers(t, testChainID, 7, extended))
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "invalid challenge", msg)
	other := httptest.NewServer(f.server(t, ResultServerConfig{}).Handler())
	defer other.Close()
	foreign := getChallenge(t, other.URL).Challenge
	code, msg = fetch(t, hs.URL, "/v1/results/7", f.alice.headers(t, testChainID, 7, foreign))
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "invalid challenge", msg)

	// Malformed requests: 400; wrong method: 405; no such endpoint: 404.
	fresh := getChallenge(t, hs.URL).Challenge
	h = f.alice.headers(t, testChainID, 7, fresh)
	h.Set(resultapi.HeaderPubkey, "not base64!")
	code, _ = fetch(t, hs.URL, "/v1/results/7", h)
	require.Equal(t, http.StatusBadRequest, code)
	for _, path := range []string{"/v1/results/abc", "/v1/results/007", "/v1/results/", "/v1/results/-1", "/v1/results/18446744073709551616"} {
		code, _ = fetch(t, hs.URL, path, f.alice.headers(t, testChainID, 7, fresh))
		require.Equal(t, http.StatusBadRequest, code, path)
	}
	code, _ = fetch(t, hs.URL, "/v2/anything", nil)
	require.Equal(t, http.StatusNotFound, code)
	resp, err := http.Post(hs.URL+"/v1/results/7", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	// The client bounds the download.
	_, err = resultapi.FetchResult(ctx, hs.URL, testChainID, 7, f.alice.signer(), 5)
	require.ErrorContains(t, err, "more than the 5 asked for")

	logMu.Lock()
	require.Contains(t, log.String(), "result sent to")
	require.Contains(t, log.String(), "refused")
	logMu.Unlock()
}

func withChallenge(h http.Header, challenge string) http.Header {
	h.Set(resultapi.HeaderChallenge, challenge)
	return h
}

// FetchResult signs with a keyring key, the way the CLI does.
func TestFetchResultWithKeyringSigner(t *testing.T) {
	registry := codectypes.NewInterfaceRegistry()
	cryptocodec.RegisterInterfaces(registry)
	kr := keyring.NewInMemory(codec.NewProtoCodec(registry))
	rec, _, err := kr.NewMnemonic("requester", keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	addr, err := rec.GetAddress()
	require.NoError(t, err)
	requester, err := bech32.ConvertAndEncode(chaincfg.Bech32Prefix, addr)
	require.NoError(t, err)

	f := newResultFixture(t)
	_, err = f.store.Put(21, requester, bytesResult("keyring result"))
	require.NoError(t, err)
	hs := httptest.NewServer(f.server(t, ResultServerConfig{}).Handler())
	defer hs.Close()
	got, err := resultapi.FetchResult(context.Background(), hs.URL+"/", testChainID, 21, resultapi.KeyringSigner(kr, "requester"), 1<<10)
	require.NoError(t, err)
	require.Equal(t, "keyring result", string(got))
	_, err = resultapi.FetchResult(context.Background(), hs.URL, testChainID, 7, resultapi.KeyringSigner(kr, "requester"), 1<<10)
	require.Equal(t, http.StatusForbidden, resultapi.StatusCode(err))
}

// The delegate lookup on chain: a node without the query (Unimplemented)
// or a requester without a delegate (NotFound) means no delegate; a node
// that cannot answer is an error.
func TestChainDelegates(t *testing.T) {
	ctx := context.Background()
	svc := &delegateService{delegates: map[string]string{"rep1alice": "rep1carol"}}
	lookup := ChainDelegates{Querier: GRPCResultDelegateQuerier{Conn: startDelegateService(t, svc)}}
	d, err := lookup.ResultDelegate(ctx, "rep1alice")
	require.NoError(t, err)
	require.Equal(t, "rep1carol", d)
	d, err = lookup.ResultDelegate(ctx, "rep1bob")
	require.NoError(t, err)
	require.Empty(t, d)

	// A gRPC server that has no such method at all.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	bare := grpc.NewServer()
	go bare.Serve(lis) //nolint:errcheck
	defer bare.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	d, err = ChainDelegates{Querier: GRPCResultDelegateQuerier{Conn: conn}}.ResultDelegate(ctx, "rep1alice")
	require.NoError(t, err)
	require.Empty(t, d)

	svc.err = status.Error(codes.Unavailable, "node down")
	_, err = lookup.ResultDelegate(ctx, "rep1alice")
	require.Error(t, err)
	svc.err = status.Error(codes.Unknown, "unknown query path")
	d, err = lookup.ResultDelegate(ctx, "rep1alice")
	require.NoError(t, err)
	require.Empty(t, d)

	d, err = ChainDelegates{}.ResultDelegate(ctx, "rep1alice")
	require.NoError(t, err)
	require.Empty(t, d)
}

// The server-wide caps: past the rate, 429; past the requests in flight,
// 503; headers past the bound, 431.
func TestResultServerLimits(t *testing.T) {
	f := newResultFixture(t)

	// Rate: a burst of 3 on a stopped clock.
	hs := httptest.NewServer(f.server(t, ResultServerConfig{Rate: 1, Burst: 3}).Handler())
	defer hs.Close()
	for range 3 {
		getChallenge(t, hs.URL)
	}
	code, _ := fetch(t, hs.URL, resultapi.ChallengePath, nil)
	require.Equal(t, http.StatusTooManyRequests, code)
	f.clock.t = f.clock.t.Add(time.Second) // one token more
	getChallenge(t, hs.URL)
	code, _ = fetch(t, hs.URL, resultapi.ChallengePath, nil)
	require.Equal(t, http.StatusTooManyRequests, code)

	// Concurrency: one slot, held by a fetch waiting on the delegate lookup.
	svc := &delegateService{delegates: map[string]string{}, hold: make(chan struct{}), calls: make(chan string, 1)}
	srv := f.server(t, ResultServerConfig{Concurrency: 1, Delegates: ChainDelegates{Querier: GRPCResultDelegateQuerier{Conn: startDelegateService(t, svc)}}})
	hs2 := httptest.NewUnstartedServer(nil)
	hs2.Config = srv.HTTPServer()
	hs2.Start()
	defer hs2.Close()
	ch := getChallenge(t, hs2.URL)
	done := make(chan int)
	bobHeaders := f.bob.headers(t, testChainID, 7, ch.Challenge)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, hs2.URL+"/v1/results/7", nil)
		req.Header = bobHeaders
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-svc.calls // bob's fetch holds the slot
	code, _ = fetch(t, hs2.URL, resultapi.ChallengePath, nil)
	require.Equal(t, http.StatusServiceUnavailable, code)
	close(svc.hold)
	require.Equal(t, http.StatusForbidden, <-done)
	getChallenge(t, hs2.URL)

	// Headers: bounded.
	req, err := http.NewRequest(http.MethodGet, hs2.URL+resultapi.ChallengePath, nil)
	require.NoError(t, err)
	req.Header.Set("X-Padding", strings.Repeat("a", 2*resultServerMaxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// FuzzResultAuth feeds arbitrary request ids and authentication headers to
// the result server's handler: it never panics, and it serves a result
// only for the exact headers of a fetch signed by the requester (alice) or
// its delegate (carol) over a challenge the server minted; every other
// input (another key, a changed byte of any header, another request id or
// form of it) is refused.
func FuzzResultAuth(f *testing.F) {
	fx := &resultFixture{clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	dir := f.TempDir()
	store, err := OpenResultStore(ResultStoreConfig{Dir: dir, Now: fx.clock.now})
	require.NoError(f, err)
	fx.alice, fx.bob, fx.carol = newAccount(f, "alice"), newAccount(f, "bob"), newAccount(f, "carol")
	_, err = store.Put(7, fx.alice.addr, bytesResult("fuzzed result"))
	require.NoError(f, err)
	srv, err := NewResultServer(ResultServerConfig{
		ChainID: testChainID, Store: store, Now: fx.clock.now, Burst: 1 << 30,
		Rand:      rand.NewChaCha8([32]byte{1}), // fixed secret and nonces: the valid inputs are fixed
		Delegates: staticDelegates{fx.alice.addr: fx.carol.addr},
	})
	require.NoError(f, err)
	handler := srv.Handler()
	challenge, _, err := srv.mintChallenge()
	require.NoError(f, err)

	type input struct{ id, challenge, pub, sig string }
	valid := map[input]bool{}
	for _, a := range []account{fx.alice, fx.carol} {
		h := a.headers(f, testChainID, 7, challenge)
		in := input{"7", challenge, h.Get(resultapi.HeaderPubkey), h.Get(resultapi.HeaderSignature)}
		valid[in] = true
		f.Add(in.id, in.challenge, in.pub, in.sig)
	}
	bobH := fx.bob.headers(f, testChainID, 7, challenge)
	f.Add("7", challenge, bobH.Get(resultapi.HeaderPubkey), bobH.Get(resultapi.HeaderSignature))
	aliceH := fx.alice.headers(f, testChainID, 7, challenge)
	f.Add("07", challenge, aliceH.Get(resultapi.HeaderPubkey), aliceH.Get(resultapi.HeaderSignature))
	f.Add("7", challenge+"A", aliceH.Get(resultapi.HeaderPubkey), aliceH.Get(resultapi.HeaderSignature))
	f.Add("7", challenge, bobH.Get(resultapi.HeaderPubkey), aliceH.Get(resultapi.HeaderSignature))
	f.Add("7", challenge, aliceH.Get(resultapi.HeaderPubkey), aliceH.Get(resultapi.HeaderSignature)+"\n")
	f.Add("8", challenge, aliceH.Get(resultapi.HeaderPubkey), aliceH.Get(resultapi.HeaderSignature))
	f.Add("", "", "", "")
	f.Add("7", "%%%", "====", "\x00")

	f.Fuzz(func(t *testing.T, id, challenge, pub, sig string) {
		r := (&http.Request{
			Method: http.MethodGet,
			URL:    urlPath(resultapi.ResultsPathPrefix + id),
			Header: http.Header{},
			Proto:  "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}).WithContext(context.Background())
		r.Header.Set(resultapi.HeaderChallenge, challenge)
		r.Header.Set(resultapi.HeaderPubkey, pub)
		r.Header.Set(resultapi.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			if !valid[input{id, challenge, pub, sig}] {
				t.Fatalf("served a result to id %q challenge %q pubkey %q signature %q", id, challenge, pub, sig)
			}
			if rec.Body.String() != "fuzzed result" {
				t.Fatalf("served %q", rec.Body.String())
			}
		} else if valid[input{id, challenge, pub, sig}] {
			t.Fatalf("refused a valid fetch: %d %s", rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

func urlPath(p string) *url.URL { return &url.URL{Path: p} }

// staticDelegates is a fixed delegate table, for the fuzz target (no chain
// query per input).
type staticDelegates map[string]string

func (d staticDelegates) ResultDelegate(_ context.Context, requester string) (string, error) {
	return d[requester], nil
}
