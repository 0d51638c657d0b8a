// Package addrmemo remembers the bytes of the bech32 addresses a keeper
// decodes: x/deferral's records hold addresses as strings, and the queue
// drain decodes the same few requesters and workers thousands of times a
// block (bech32 decoding checksums every character).
package addrmemo

import (
	"bytes"
	"sync"

	"cosmossdk.io/core/address"
)

// maxEntries bounds the memo; when full it starts afresh.
const maxEntries = 4_096

// Codec is an address.Codec whose StringToBytes remembers what it decoded.
// The decoding is a pure function of the string, so a remembered result is
// the result; failures are not remembered. Safe for concurrent use (queries
// and simulations run beside block execution).
type Codec struct {
	address.Codec
	mu      sync.Mutex
	bytesOf map[string][]byte
}

// New wraps c.
func New(c address.Codec) *Codec {
	return &Codec{Codec: c, bytesOf: make(map[string][]byte)}
}

// StringToBytes is the wrapped codec's, remembered. The caller owns the
// returned slice.
func (c *Codec) StringToBytes(text string) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.bytesOf[text]
	c.mu.Unlock()
	if ok {
		return bytes.Clone(b), nil
	}
	b, err := c.Codec.StringToBytes(text)
	if err != nil {
		return b, err
	}
	c.mu.Lock()
	if len(c.bytesOf) >= maxEntries {
		clear(c.bytesOf)
	}
	c.bytesOf[text] = bytes.Clone(b)
	c.mu.Unlock()
	return b, nil
}
