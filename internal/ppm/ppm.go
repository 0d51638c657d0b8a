// Package ppm holds the integer parts-per-million arithmetic shared by the
// repshard modules. The state machine never uses floats: every score, load,
// weight and share is an integer in [0, Max]. The other checks params share
// are in internal/paramcheck.
package ppm

import (
	"fmt"
	"math/bits"
)

// Max is one whole in parts per million.
const Max = 1_000_000

// Validate reports an error when a ppm parameter is above Max.
func Validate(name string, v uint64) error {
	if v > Max {
		return fmt.Errorf("%s must be at most %d ppm, got %d", name, Max, v)
	}
	return nil
}

// MulDiv returns a·b/c rounded down, computed with 128-bit intermediates so it
// never overflows for any uint64 inputs; the result saturates at MaxUint64.
// It panics when c is zero, like integer division.
func MulDiv(a, b, c uint64) uint64 {
	if c == 0 {
		panic("ppm.MulDiv: division by zero")
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}
