package types

import (
	"net/url"
	"strings"

	errorsmod "cosmossdk.io/errors"
)

// MaxEndpointBytes bounds a worker's data-plane endpoint: it is stored in
// the worker record and shown in every worker query.
const MaxEndpointBytes = 256

// ValidateEndpoint checks a worker's data-plane endpoint (empty is valid: no
// endpoint). It must be an absolute http or https URL with a host, without
// user info (a password in chain state would be public), query or fragment,
// printable ASCII, at most MaxEndpointBytes bytes. Clients append paths such
// as /v1/results/{id} to it.
func ValidateEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	if len(endpoint) > MaxEndpointBytes {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "%d bytes, at most %d", len(endpoint), MaxEndpointBytes)
	}
	for i := 0; i < len(endpoint); i++ {
		if c := endpoint[i]; c <= ' ' || c >= 0x7f {
			return errorsmod.Wrapf(ErrInvalidEndpoint, "byte %d is not printable ASCII", i)
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return errorsmod.Wrap(ErrInvalidEndpoint, err.Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errorsmod.Wrapf(ErrInvalidEndpoint, "scheme %q: http or https only", u.Scheme)
	case u.Host == "" || strings.HasPrefix(u.Host, ":"):
		return errorsmod.Wrap(ErrInvalidEndpoint, "no host")
	case u.User != nil:
		return errorsmod.Wrap(ErrInvalidEndpoint, "user info is not allowed (it would be public)")
	case u.RawQuery != "" || u.ForceQuery:
		return errorsmod.Wrap(ErrInvalidEndpoint, "a query is not allowed")
	case u.Fragment != "" || strings.Contains(endpoint, "#"):
		return errorsmod.Wrap(ErrInvalidEndpoint, "a fragment is not allowed")
	}
	return nil
}
