// Package resultapi is the protocol of a worker daemon's result server
// (`repshardd worker run --listen`, docs/dataplane.md): its paths, headers
// and the message a requester signs to fetch a result, and the client,
// FetchResult, that the CLI and dApps use. The server is in package worker.
//
// A fetch is two requests: GET /v1/challenge returns a short-lived challenge
// minted by the server; GET /v1/results/{request_id} carries the challenge,
// the requester's secp256k1 public key and its signature of
// SignBytes(chain id, request id, challenge). The worker serves the result
// only to the request's requester or the requester's result delegate.
package resultapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
)

// Paths and headers of the result server.
const (
	ChallengePath     = "/v1/challenge"
	ResultsPathPrefix = "/v1/results/"

	HeaderChallenge  = "X-Repshard-Challenge"
	HeaderPubkey     = "X-Repshard-Pubkey"
	HeaderSignature  = "X-Repshard-Signature"
	HeaderResultHash = "X-Repshard-Result-Hash"
)

// SignDomain starts every signed fetch message, so that a signature made
// for a result fetch is good for nothing else (a transaction's sign bytes
// are protobuf, never this text).
const SignDomain = "repshard-result-fetch"

// ChallengeResponse is the body of GET /v1/challenge.
type ChallengeResponse struct {
	// Challenge is base64url (no padding); sign it as is.
	Challenge string `json:"challenge"`
	// ExpiresAt is when the server stops taking it, in unix seconds.
	ExpiresAt int64 `json:"expires_at"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// SignBytes is the message a requester signs to fetch the result of
// requestID: "repshard-result-fetch\n<chain-id>\n<request_id>\n<challenge>".
// The chain id keeps a signature for one network from being used on
// another, the request id from fetching another request's result, and the
// server's challenge from being replayed after it expires.
func SignBytes(chainID string, requestID uint64, challenge string) []byte {
	return []byte(SignDomain + "\n" + chainID + "\n" + strconv.FormatUint(requestID, 10) + "\n" + challenge)
}

// Signer signs a fetch message with the requester's (or its delegate's)
// key and returns the 64-byte signature and the key's public key. The
// server checks it with secp256k1's VerifySignature, which hashes msg with
// sha256: sign msg itself, not a digest of it.
type Signer func(msg []byte) (sig []byte, pub cryptotypes.PubKey, err error)

// KeyringSigner signs with key uid of a keyring, the way the CLI does.
func KeyringSigner(kr keyring.Keyring, uid string) Signer {
	return func(msg []byte) ([]byte, cryptotypes.PubKey, error) {
		return kr.Sign(uid, msg, signing.SignMode_SIGN_MODE_DIRECT)
	}
}

// StatusError is an error answer of the result server.
type StatusError struct {
	StatusCode int    // the HTTP status
	Message    string // the server's error text
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("result server: %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// StatusCode is the HTTP status of a FetchResult error that the server
// answered (401, 403, 404, ...), or 0 for any other error.
func StatusCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// maxChallengeBody bounds the challenge answer the client reads.
const maxChallengeBody = 4 << 10

// FetchResult downloads the result of requestID from the worker's result
// server at endpoint (http[s]://host:port): it gets a challenge, signs it
// with sign, and reads at most maxBytes of result. It returns the result
// bytes, which have the sha256 the server announced; the caller compares
// that with the request's result_hash on chain before trusting them. An
// error answer of the server is a *StatusError (StatusCode gives its
// status): 401 a bad signature or an expired challenge, 403 the key is
// neither the requester nor its result delegate, 404 the worker keeps no
// result of the request.
// The context bounds the whole exchange.
func FetchResult(ctx context.Context, endpoint, chainID string, requestID uint64, sign Signer, maxBytes int64) ([]byte, error) {
	client := http.DefaultClient
	if maxBytes < 0 {
		return nil, errors.New("fetch result: negative maxBytes")
	}
	base, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("fetch result: endpoint %q: want http://host:port or https://host:port", endpoint)
	}

	// 1. A challenge.
	resp, err := get(ctx, client, base.String()+ChallengePath, nil)
	if err != nil {
		return nil, err
	}
	body, err := readBounded(resp, maxChallengeBody)
	if err != nil {
		return nil, err
	}
	var ch ChallengeResponse
	if err := json.Unmarshal(body, &ch); err != nil || ch.Challenge == "" {
		return nil, errors.New("fetch result: the server's challenge is not a challenge answer")
	}

	// 2. The signed fetch.
	sig, pub, err := sign(SignBytes(chainID, requestID, ch.Challenge))
	if err != nil {
		return nil, fmt.Errorf("fetch result: sign: %w", err)
	}
	if _, ok := pub.(*secp256k1.PubKey); !ok {
		return nil, fmt.Errorf("fetch result: a %s key; the result server takes secp256k1 keys", pub.Type())
	}
	headers := http.Header{}
	headers.Set(HeaderChallenge, ch.Challenge)
	headers.Set(HeaderPubkey, base64.StdEncoding.EncodeToString(pub.Bytes()))
	headers.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	resp, err = get(ctx, client, base.String()+ResultsPathPrefix+strconv.FormatUint(requestID, 10), headers)
	if err != nil {
		return nil, err
	}
	announced, err := hex.DecodeString(resp.Header.Get(HeaderResultHash))
	if err != nil || len(announced) != sha256.Size {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch result: the server sent no valid %s header", HeaderResultHash)
	}
	if resp.ContentLength > maxBytes {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch result: the result has %d bytes, more than the %d asked for", resp.ContentLength, maxBytes)
	}
	result, err := readBounded(resp, maxBytes)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(result); !bytes.Equal(sum[:], announced) {
		return nil, fmt.Errorf("fetch result: the bytes received have sha256 %x, the server announced %x (a cut transfer?)", sum, announced)
	}
	return result, nil
}

// get sends a GET; an answer other than 200 becomes a *StatusError.
func get(ctx context.Context, client *http.Client, u string, headers http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch result: %w", err)
	}
	for k, v := range headers {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch result: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxChallengeBody))
	var e ErrorResponse
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
	}
	return nil, &StatusError{StatusCode: resp.StatusCode, Message: e.Error}
}

// readBounded reads a body of at most limit bytes.
func readBounded(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch result: read: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("fetch result: the answer is larger than the %d bytes asked for", limit)
	}
	return body, nil
}
