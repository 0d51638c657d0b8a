package sealed

import (
	"bytes"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/stretchr/testify/require"
)

const (
	testChain  = "repshard-test-1"
	testWorker = "rep1workeraddress"
)

func newKey(t testing.TB) *secp256k1.PrivateKey {
	t.Helper()
	k, err := secp256k1.GeneratePrivateKey()
	require.NoError(t, err)
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := newKey(t)
	pub := k.PubKey().SerializeCompressed()
	for _, plain := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("private payload "), 1000)} {
		env, err := Seal(plain, pub, testChain, 42, testWorker)
		require.NoError(t, err)
		require.True(t, IsSealed(env))
		require.Len(t, env, len(plain)+Overhead)
		if len(plain) > 8 {
			require.NotContains(t, string(env), string(plain[:8]), "plaintext visible in the envelope")
		}
		got, err := Open(env, k, testChain, 42, testWorker)
		require.NoError(t, err)
		require.Equal(t, len(plain), len(got))
		require.True(t, bytes.Equal(plain, got))
	}
	// Two seals of the same plaintext differ (fresh ephemeral key, nonce).
	a, _ := Seal([]byte("same"), pub, testChain, 1, testWorker)
	b, _ := Seal([]byte("same"), pub, testChain, 1, testWorker)
	require.NotEqual(t, a, b)
}

func TestOpenRefuses(t *testing.T) {
	k := newKey(t)
	env, err := Seal([]byte("secret data"), k.PubKey().SerializeCompressed(), testChain, 7, testWorker)
	require.NoError(t, err)

	// Another worker's key.
	_, err = Open(env, newKey(t), testChain, 7, testWorker)
	require.ErrorIs(t, err, ErrWrongRecipient)

	// The binding: another request, chain or worker address.
	_, err = Open(env, k, testChain, 8, testWorker)
	require.ErrorIs(t, err, ErrWrongRecipient)
	_, err = Open(env, k, "repshard-other-1", 7, testWorker)
	require.ErrorIs(t, err, ErrWrongRecipient)
	_, err = Open(env, k, testChain, 7, "rep1someoneelse")
	require.ErrorIs(t, err, ErrWrongRecipient)

	// Any flipped byte after the magic: the ephemeral key (a bad point or
	// another key), the nonce, the ciphertext, the tag.
	for i := len(Magic); i < len(env); i++ {
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		_, err := Open(bad, k, testChain, 7, testWorker)
		require.Error(t, err, "byte %d flipped", i)
		require.True(t, errors.Is(err, ErrWrongRecipient) || errors.Is(err, ErrMalformed), "byte %d: %v", i, err)
	}
	// A flipped magic byte: not a sealed payload at all.
	bad := bytes.Clone(env)
	bad[0] ^= 0x01
	_, err = Open(bad, k, testChain, 7, testWorker)
	require.ErrorIs(t, err, ErrNotSealed)

	// Truncated.
	_, err = Open(env[:Overhead-1], k, testChain, 7, testWorker)
	require.ErrorIs(t, err, ErrMalformed)
	_, err = Open(env[:len(env)-1], k, testChain, 7, testWorker)
	require.ErrorIs(t, err, ErrWrongRecipient)

	// Plain bytes.
	_, err = Open([]byte("plain payload"), k, testChain, 7, testWorker)
	require.ErrorIs(t, err, ErrNotSealed)

	// A bad recipient key is refused at sealing.
	_, err = Seal([]byte("x"), []byte{2, 3}, testChain, 7, testWorker)
	require.Error(t, err)
}

// FuzzOpenSealed: Open never panics on arbitrary input and never accepts a
// forgery of an envelope sealed to another key.
func FuzzOpenSealed(f *testing.F) {
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		f.Fatal(err)
	}
	env, err := Seal([]byte("seed payload"), k.PubKey().SerializeCompressed(), testChain, 3, testWorker)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add([]byte(Magic))
	f.Add([]byte("plain"))
	f.Add(append([]byte(Magic), make([]byte, Overhead)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		plain, err := Open(in, k, testChain, 3, testWorker)
		if err == nil && !bytes.Equal(in, env) {
			// Only a genuine seal to k opens; the fuzzer cannot forge one.
			t.Fatalf("opened a forged envelope: %x -> %q", in, plain)
		}
	})
}
