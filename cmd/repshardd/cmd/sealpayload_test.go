package cmd

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/cmd/repshardd/worker/sealed"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

func TestSealTargets(t *testing.T) {
	_, err := sealTargets(deferraltypes.Request{Id: 1, Status: deferraltypes.StatusQueued})
	require.ErrorContains(t, err, "only an ASSIGNED request")

	got, err := sealTargets(deferraltypes.Request{Id: 2, Status: deferraltypes.StatusAssigned, Worker: "w1", Replicas: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"w1"}, got)

	got, err = sealTargets(deferraltypes.Request{Id: 3, Status: deferraltypes.StatusAssigned, Replicas: 3, ReplicaRuns: []deferraltypes.ReplicaRun{
		{Worker: "w1", Status: deferraltypes.ReplicaRunning},
		{Worker: "w2", Status: deferraltypes.ReplicaReported},
		{Worker: "w3", Status: deferraltypes.ReplicaRunning},
	}})
	require.NoError(t, err)
	require.Equal(t, []string{"w1", "w3"}, got)
}

func TestSealedFileName(t *testing.T) {
	for _, tc := range []struct {
		uri, rel, fetched string
		workers           int
	}{
		{"https://host/in/data.{worker}.rsp", "data.rep1w.rsp", "https://host/in/data.rep1w.rsp", 2},
		{"https://host/{worker}/data.bin?x=1", filepath.Join("rep1w", "data.bin"), "https://host/rep1w/data.bin?x=1", 3},
		{"file:///srv/payloads/{worker}.rsp", "rep1w.rsp", "file:///srv/payloads/rep1w.rsp", 1},
		{"https://host/data.rsp", "plain.bin.rep1w.rsp", "https://host/data.rsp", 1},
		{"https://host/data?for={worker}", "plain.bin.rep1w.rsp", "https://host/data?for=rep1w", 1},
	} {
		rel, uri, err := sealedFileName(tc.uri, "dir/plain.bin", "rep1w", tc.workers)
		require.NoError(t, err, tc.uri)
		require.Equal(t, tc.rel, rel, tc.uri)
		require.Equal(t, tc.fetched, uri, tc.uri)
	}
	_, _, err := sealedFileName("https://host/data.rsp", "plain.bin", "rep1w", 2)
	require.ErrorContains(t, err, "no {worker} placeholder")
	_, _, err = sealedFileName("https://host/{worker}/../../../etc/x", "plain.bin", "..", 1)
	require.Error(t, err)
}

// seal-payload writes one copy per running worker, each opening only with
// that worker's key, and refuses a file that is not the request's payload.
func TestSealPayloadWritesOneCopyPerWorker(t *testing.T) {
	keys := map[string]*secp256k1.PrivateKey{}
	for _, w := range []string{"rep1a", "rep1b"} {
		k, err := secp256k1.GeneratePrivateKey()
		require.NoError(t, err)
		keys[w] = k
	}
	lookup := func(_ context.Context, w string) ([]byte, error) {
		k, ok := keys[w]
		if !ok {
			return nil, fmt.Errorf("no account %s", w)
		}
		return k.PubKey().SerializeCompressed(), nil
	}
	plain := []byte("the private payload")
	sum := sha256.Sum256(plain)
	req := deferraltypes.Request{
		Id: 9, Status: deferraltypes.StatusAssigned, Replicas: 2, PayloadUri: "https://host/p/data.{worker}.rsp",
		PayloadHash: sum[:], DataBytes: uint64(len(plain)),
		ReplicaRuns: []deferraltypes.ReplicaRun{{Worker: "rep1a", Status: deferraltypes.ReplicaRunning}, {Worker: "rep1b", Status: deferraltypes.ReplicaRunning}},
	}
	dir := t.TempDir()
	files, err := sealPayload(context.Background(), req, "data.bin", plain, "chain-1", dir, lookup)
	require.NoError(t, err)
	require.Len(t, files, 2)
	for i, w := range []string{"rep1a", "rep1b"} {
		require.Equal(t, w, files[i].worker)
		require.Equal(t, filepath.Join(dir, "data."+w+".rsp"), files[i].path)
		require.Equal(t, "https://host/p/data."+w+".rsp", files[i].uri)
		env, err := os.ReadFile(files[i].path)
		require.NoError(t, err)
		got, err := sealed.Open(env, keys[w], "chain-1", 9, w)
		require.NoError(t, err)
		require.Equal(t, plain, got)
		other := keys["rep1a"]
		if w == "rep1a" {
			other = keys["rep1b"]
		}
		_, err = sealed.Open(env, other, "chain-1", 9, w)
		require.ErrorIs(t, err, sealed.ErrWrongRecipient)
	}

	empty := t.TempDir()
	_, err = sealPayload(context.Background(), req, "data.bin", []byte("not the payload"), "chain-1", empty, lookup)
	require.ErrorContains(t, err, "not its payload")
	entries, _ := os.ReadDir(empty)
	require.Empty(t, entries)

	req.Status = deferraltypes.StatusCompleted
	_, err = sealPayload(context.Background(), req, "data.bin", plain, "chain-1", empty, lookup)
	require.ErrorContains(t, err, "only an ASSIGNED request")
}

func TestSealPayloadCommandRegistered(t *testing.T) {
	c, _, err := NewRequestCmd().Find([]string{"seal-payload"})
	require.NoError(t, err)
	require.Equal(t, "seal-payload", c.Name())
	require.NotNil(t, c.Flags().Lookup(flagOutDir))
}
