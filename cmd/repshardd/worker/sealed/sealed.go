// Package sealed encrypts a request's payload to the worker assigned to it
// (docs/dataplane.md, "Private payloads").
//
// The scheme is ECIES over secp256k1: a fresh ephemeral key, ECDH with the
// worker's account public key (the compressed key any client reads from
// x/auth), HKDF-SHA256 to a 32-byte AES-256-GCM key. The key derivation
// binds the chain id, the request id and the worker's address, so a sealed
// copy cannot be replayed to another request, chain or worker. The on-chain
// payload_hash stays the sha256 of the plaintext: it is fixed at submission,
// before anyone knows which worker will get the request.
//
// Envelope (Overhead bytes more than the plaintext):
//
//	"RSP1" | ephemeral public key (33, compressed) | nonce (12) | AES-256-GCM ciphertext and tag (len(plaintext)+16)
//
// The magic and the ephemeral key are the GCM additional data: changing any
// byte of the envelope fails authentication.
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/hkdf"
)

// Magic starts every envelope.
const Magic = "RSP1"

// Info is the HKDF info prefix: it names the scheme and its version.
const Info = "repshard-sealed-payload-v1"

const (
	pubKeyLen = secp256k1.PubKeyBytesLenCompressed // 33
	nonceLen  = 12
	tagLen    = 16
	headerLen = len(Magic) + pubKeyLen + nonceLen
	// Overhead is how many bytes an envelope has beyond its plaintext: a
	// worker downloads at most data_bytes + Overhead.
	Overhead = headerLen + tagLen
)

var (
	// ErrNotSealed: the bytes do not start with Magic (a plain payload).
	ErrNotSealed = errors.New("not a sealed payload (no RSP1 magic)")
	// ErrMalformed: the magic is there but the envelope is truncated or its
	// ephemeral key is not a point of the curve.
	ErrMalformed = errors.New("malformed sealed payload")
	// ErrWrongRecipient: the envelope does not authenticate under this
	// key and binding. AES-GCM cannot tell the causes apart: sealed to
	// another worker's key, for another request id, chain id or worker
	// address, or altered after sealing.
	ErrWrongRecipient = errors.New("sealed payload does not open with this worker's key (sealed to another worker, request or chain, or altered)")
)

// IsSealed tells whether b starts with the envelope magic.
func IsSealed(b []byte) bool { return bytes.HasPrefix(b, []byte(Magic)) }

// Seal encrypts plaintext to the worker whose account public key is
// workerPub (33-byte compressed secp256k1), for the request requestID on the
// chain chainID; workerAddr is the worker's bech32 address.
func Seal(plaintext, workerPub []byte, chainID string, requestID uint64, workerAddr string) ([]byte, error) {
	pub, err := secp256k1.ParsePubKey(workerPub)
	if err != nil {
		return nil, fmt.Errorf("worker public key: %w", err)
	}
	eph, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("ephemeral key: %w", err)
	}
	defer eph.Zero()
	ephPub := eph.PubKey().SerializeCompressed()
	aead, err := newAEAD(secp256k1.GenerateSharedSecret(eph, pub), ephPub, workerPub, chainID, requestID, workerAddr)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen, headerLen+len(plaintext)+tagLen)
	copy(out, Magic)
	copy(out[len(Magic):], ephPub)
	// A random nonce is safe: each key is used once (fresh ephemeral key).
	if _, err := io.ReadFull(rand.Reader, out[len(Magic)+pubKeyLen:headerLen]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return aead.Seal(out, out[len(Magic)+pubKeyLen:headerLen], plaintext, out[:len(Magic)+pubKeyLen]), nil
}

// Open decrypts an envelope with the worker's private key, for the same
// chain id, request id and worker address it was sealed for. Errors:
// ErrNotSealed, ErrMalformed, ErrWrongRecipient.
func Open(envelope []byte, workerPriv *secp256k1.PrivateKey, chainID string, requestID uint64, workerAddr string) ([]byte, error) {
	if !IsSealed(envelope) {
		return nil, ErrNotSealed
	}
	if len(envelope) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, an envelope has at least %d", ErrMalformed, len(envelope), Overhead)
	}
	if workerPriv == nil {
		return nil, errors.New("no private key to open a sealed payload")
	}
	ephPub := envelope[len(Magic) : len(Magic)+pubKeyLen]
	eph, err := secp256k1.ParsePubKey(ephPub)
	if err != nil {
		return nil, fmt.Errorf("%w: ephemeral key: %v", ErrMalformed, err)
	}
	workerPub := workerPriv.PubKey().SerializeCompressed()
	aead, err := newAEAD(secp256k1.GenerateSharedSecret(workerPriv, eph), ephPub, workerPub, chainID, requestID, workerAddr)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, envelope[len(Magic)+pubKeyLen:headerLen], envelope[headerLen:], envelope[:len(Magic)+pubKeyLen])
	if err != nil {
		return nil, ErrWrongRecipient
	}
	return plain, nil
}

// newAEAD derives the AES-256-GCM key. The salt is both public keys (the
// usual ECIES binding of the shared secret to the exchange); the info binds
// the scheme, the chain, the request and the worker address, each length-
// prefixed so no two bindings encode alike.
func newAEAD(shared, ephPub, workerPub []byte, chainID string, requestID uint64, workerAddr string) (cipher.AEAD, error) {
	salt := make([]byte, 0, 2*pubKeyLen)
	salt = append(append(salt, ephPub...), workerPub...)
	info := make([]byte, 0, len(Info)+len(chainID)+len(workerAddr)+20)
	info = append(info, Info...)
	info = binary.BigEndian.AppendUint32(info, uint32(len(chainID)))
	info = append(info, chainID...)
	info = binary.BigEndian.AppendUint64(info, requestID)
	info = binary.BigEndian.AppendUint32(info, uint32(len(workerAddr)))
	info = append(info, workerAddr...)

	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, shared, salt, info), key); err != nil {
		return nil, fmt.Errorf("key derivation: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
