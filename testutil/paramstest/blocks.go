// Package paramstest holds checks shared by the four modules' params tests.
package paramstest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/internal/paramcheck"
)

// BlockField is a params field counted in blocks, with a setter.
type BlockField[P any] struct {
	Name string
	Set  func(p *P, v uint64)
}

// RequireBlockCountsBounded checks that validate refuses each field above
// paramcheck.MaxBlocks (so height + period and 2·period never overflow) naming the
// field, and accepts every field at the bound together.
func RequireBlockCountsBounded[P any](t *testing.T, defaults func() P, validate func(P) error, fields []BlockField[P]) {
	t.Helper()
	for _, f := range fields {
		for _, v := range []uint64{paramcheck.MaxBlocks + 1, math.MaxInt64, math.MaxUint64} {
			p := defaults()
			f.Set(&p, v)
			require.ErrorContains(t, validate(p), f.Name, "%s = %d", f.Name, v)
		}
	}
	p := defaults()
	for _, f := range fields {
		f.Set(&p, paramcheck.MaxBlocks)
	}
	require.NoError(t, validate(p), "every block count = MaxBlocks")
}
