package resultapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
)

// The signed message is part of the protocol: servers of other releases
// verify exactly these bytes.
func TestSignBytes(t *testing.T) {
	require.Equal(t, "repshard-result-fetch\nrepshard-1\n42\nAbC-_9", string(SignBytes("repshard-1", 42, "AbC-_9")))
}

// An error answer comes back as a *StatusError with the server's text; an
// endpoint that is not http(s) is refused before anything is sent.
func TestFetchResultErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"too many requests; retry later"}`)) //nolint:errcheck
	}))
	defer srv.Close()
	neverSign := func([]byte) ([]byte, cryptotypes.PubKey, error) { return nil, nil, errors.New("must not sign") }

	_, err := FetchResult(context.Background(), srv.URL, "c", 1, neverSign, 10)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusTooManyRequests, se.StatusCode)
	require.Equal(t, "too many requests; retry later", se.Message)
	require.Equal(t, http.StatusTooManyRequests, StatusCode(err))

	_, err = FetchResult(context.Background(), "ftp://worker", "c", 1, neverSign, 10)
	require.ErrorContains(t, err, "want http://host:port")
	require.Zero(t, StatusCode(err))
}
