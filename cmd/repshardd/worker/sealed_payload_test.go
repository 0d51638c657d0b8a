package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/cmd/repshardd/worker/sealed"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// keyringSealKey makes a keyring key and reads it back from the keyring
// (the record as the daemon loads it), returning its SealKey and its
// account public key.
func keyringSealKey(t *testing.T, name string) (*secp256k1.PrivateKey, []byte) {
	t.Helper()
	registry := codectypes.NewInterfaceRegistry()
	cryptocodec.RegisterInterfaces(registry)
	kr := keyring.NewInMemory(codec.NewProtoCodec(registry))
	_, _, err := kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	rec, err := kr.Key(name)
	require.NoError(t, err)
	key, err := SealKey(rec)
	require.NoError(t, err)
	pub, err := rec.GetPubKey()
	require.NoError(t, err)
	// The account public key (what x/auth holds and seal-payload reads) is
	// the public key of the SealKey.
	require.Equal(t, pub.Bytes(), key.PubKey().SerializeCompressed())

	// An offline record has no private key here: a clear error, no panic.
	off, err := keyring.NewInMemory(codec.NewProtoCodec(registry)).SaveOfflineKey(name+"-offline", pub)
	require.NoError(t, err)
	_, err = SealKey(off)
	require.ErrorContains(t, err, "private key is not in the keyring")
	return key, pub.Bytes()
}

// A payload sealed to this worker at a {worker} URI is fetched (the
// worker's address in the URI), opened, checked against the plaintext's
// payload_hash and run. One sealed to another worker, for another request
// or chain, altered, larger than declared, with another plaintext, or met
// by a worker without a key is reported failed and nothing runs.
func TestProcessSealedPayloads(t *testing.T) {
	ctx := context.Background()
	const chainID = "repshard-test-1"
	self, selfPub := keyringSealKey(t, "self")
	_, otherPub := keyringSealKey(t, "other")
	selfAddr, otherAddr := "rep1selfworker", "rep1otherworker"

	var mu sync.Mutex
	files := map[string][]byte{} // path -> bytes served
	var served []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		served = append(served, r.URL.Path)
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b) //nolint:errcheck
	}))
	defer srv.Close()
	put := func(id uint64, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		files[fmt.Sprintf("/r%d/data.%s.rsp", id, selfAddr)] = b
	}
	request := func(id uint64, plain []byte) deferraltypes.Request {
		return uriRequest(id, fmt.Sprintf("%s/r%d/data.%s.rsp", srv.URL, id, WorkerPlaceholder), plain)
	}
	seal := func(plain, pub []byte, chain string, id uint64, addr string) []byte {
		env, err := sealed.Seal(plain, pub, chain, id, addr)
		require.NoError(t, err)
		return env
	}

	marker := filepath.Join(t.TempDir(), "ran")
	fetch := FetchConfig{AllowPrivateNetworks: true, WorkerAddress: selfAddr, ChainID: chainID, SealKey: self}
	p := newTestProcessor(t, fetch, markerExec(marker))
	payload := []byte("private data for one worker")
	want := sha256.Sum256([]byte(strings.ToUpper(string(payload))))

	// Sealed to this worker: opened and run on the plaintext.
	put(1, seal(payload, selfPub, chainID, 1, selfAddr))
	o, ok := p.process(ctx, request(1, payload))
	require.True(t, ok)
	require.False(t, o.failed, o.reason)
	require.Equal(t, want[:], o.result)
	require.FileExists(t, marker)
	require.NoError(t, os.Remove(marker))
	mu.Lock()
	require.Contains(t, served, "/r1/data."+selfAddr+".rsp", "the {worker} placeholder is the worker's address")
	mu.Unlock()

	// A plain payload at a {worker} URI works as before.
	put(2, payload)
	o, ok = p.process(ctx, request(2, payload))
	require.True(t, ok)
	require.False(t, o.failed, o.reason)
	require.Equal(t, want[:], o.result)
	require.NoError(t, os.Remove(marker))

	tampered := seal(payload, selfPub, chainID, 7, selfAddr)
	tampered[len(tampered)-20] ^= 0x80
	for _, tc := range []struct {
		name   string
		p      *processor
		id     uint64
		served []byte
		req    func(deferraltypes.Request) deferraltypes.Request
		reason string
	}{
		{"sealed to another worker", p, 3, seal(payload, otherPub, chainID, 3, selfAddr), nil, "does not open with this worker's key"},
		{"sealed for another request", p, 4, seal(payload, selfPub, chainID, 99, selfAddr), nil, "does not open with this worker's key"},
		{"sealed for another chain", p, 5, seal(payload, selfPub, "repshard-other-1", 5, selfAddr), nil, "does not open with this worker's key"},
		{"sealed for another worker address", p, 6, seal(payload, selfPub, chainID, 6, otherAddr), nil, "does not open with this worker's key"},
		{"altered", p, 7, tampered, nil, "does not open with this worker's key"},
		{"another plaintext", p, 8, seal(bytes.Repeat([]byte("x"), len(payload)), selfPub, chainID, 8, selfAddr), nil, "sealed payload opened to sha256"},
		{"larger than declared", p, 9, seal(payload, selfPub, chainID, 9, selfAddr), func(r deferraltypes.Request) deferraltypes.Request {
			r.DataBytes--
			return r
		}, fmt.Sprintf("sealed payload larger than its declared %d bytes plus the %d-byte envelope", len(payload)-1, sealed.Overhead)},
		{"truncated envelope", p, 10, []byte(sealed.Magic + "short"), nil, "malformed sealed payload"},
		{"no key", newTestProcessor(t, FetchConfig{AllowPrivateNetworks: true, WorkerAddress: selfAddr, ChainID: chainID}, markerExec(marker)),
			11, seal(payload, selfPub, chainID, 11, selfAddr), nil, "this worker's key cannot open it"},
		{"no address for {worker}", newTestProcessor(t, FetchConfig{AllowPrivateNetworks: true}, markerExec(marker)),
			12, payload, nil, "{worker} placeholder"},
	} {
		put(tc.id, tc.served)
		req := request(tc.id, payload)
		if tc.req != nil {
			req = tc.req(req)
		}
		o, ok := tc.p.process(ctx, req)
		require.True(t, ok, tc.name)
		require.True(t, o.failed, tc.name)
		require.Contains(t, o.reason, tc.reason, tc.name)
		require.LessOrEqual(t, len(o.reason), maxReasonBytes, tc.name)
		require.NoFileExists(t, marker, "%s: the executor ran", tc.name)
		_, kept := tc.p.results.Meta(tc.id)
		require.False(t, kept, tc.name)
	}
	require.False(t, bytes.Contains(tampered, payload))

	entries, err := os.ReadDir(p.workDir)
	require.NoError(t, err)
	require.Empty(t, entries, "no job directory (nor plaintext) is left behind")
}

// A {worker} copy uploaded after the assignment (the requester seals only
// once the chain names the worker) is waited for, up to CopyWait; one that
// never comes fails with the 404, and nothing runs.
func TestProcessWaitsForWorkerCopy(t *testing.T) {
	ctx := context.Background()
	self, selfPub := keyringSealKey(t, "self")
	const chainID, selfAddr = "repshard-test-1", "rep1selfworker"
	payload := []byte("uploaded late")

	var mu sync.Mutex
	var copyBytes []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/late/"+selfAddr || copyBytes == nil {
			http.NotFound(w, r)
			return
		}
		w.Write(copyBytes) //nolint:errcheck
	}))
	defer srv.Close()

	marker := filepath.Join(t.TempDir(), "ran")
	fetch := FetchConfig{AllowPrivateNetworks: true, WorkerAddress: selfAddr, ChainID: chainID, SealKey: self, CopyWait: 5 * time.Second}
	p := newTestProcessor(t, fetch, markerExec(marker))
	env, err := sealed.Seal(payload, selfPub, chainID, 1, selfAddr)
	require.NoError(t, err)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		mu.Lock()
		copyBytes = env
		mu.Unlock()
	}()
	o, ok := p.process(ctx, uriRequest(1, srv.URL+"/late/"+WorkerPlaceholder, payload))
	require.True(t, ok)
	require.False(t, o.failed, o.reason)
	require.FileExists(t, marker)
	require.NoError(t, os.Remove(marker))

	fetch.CopyWait = 1200 * time.Millisecond
	p = newTestProcessor(t, fetch, markerExec(marker))
	start := time.Now()
	o, ok = p.process(ctx, uriRequest(2, srv.URL+"/never/"+WorkerPlaceholder, payload))
	require.True(t, ok)
	require.True(t, o.failed)
	require.Contains(t, o.reason, "HTTP 404")
	require.GreaterOrEqual(t, time.Since(start), time.Second, "asked again for CopyWait")
	require.NoFileExists(t, marker)

	// Without the placeholder a 404 fails at once, as before.
	start = time.Now()
	o, _ = p.process(ctx, uriRequest(3, srv.URL+"/never/plain", payload))
	require.True(t, o.failed)
	require.Less(t, time.Since(start), time.Second)
}
