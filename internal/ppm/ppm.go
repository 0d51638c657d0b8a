// Package ppm holds the integer parts-per-million arithmetic and parameter
// checks shared by the repshard modules. The state machine never uses floats:
// every score, load, weight and share is an integer in [0, Max].
package ppm

import (
	"fmt"
	"math/bits"
)

// Max is one whole in parts per million.
const Max = 1_000_000

// Field is a named parameter value, for checking many parameters at once.
type Field struct {
	Name  string
	Value uint64
}

// F names a parameter value.
func F[T ~uint32 | ~uint64](name string, v T) Field { return Field{Name: name, Value: uint64(v)} }

// CheckAll applies check to every field in order and returns the first error.
func CheckAll(check func(name string, v uint64) error, fields ...Field) error {
	for _, f := range fields {
		if err := check(f.Name, f.Value); err != nil {
			return err
		}
	}
	return nil
}

// Validate reports an error when a ppm parameter is above Max.
func Validate(name string, v uint64) error {
	if v > Max {
		return fmt.Errorf("%s must be at most %d ppm, got %d", name, Max, v)
	}
	return nil
}

// MaxPerBlockCap bounds every per-block cap of every module, so no EndBlock
// step can be configured to do unbounded work.
const MaxPerBlockCap = 10_000

// MaxBlocks bounds every parameter counted in blocks (periods, windows,
// timeouts): 10⁹ blocks is decades at any block time, and keeping them this
// far below 2⁶³ means height + period and 2·period never overflow.
const MaxBlocks = 1_000_000_000

// AtMost returns a check that rejects values above limit.
func AtMost(limit uint64) func(name string, v uint64) error {
	return func(name string, v uint64) error {
		if v > limit {
			return fmt.Errorf("%s must be at most %d, got %d", name, limit, v)
		}
		return nil
	}
}

// NonZero reports an error when a parameter is zero.
func NonZero(name string, v uint64) error {
	if v == 0 {
		return fmt.Errorf("%s must be positive", name)
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
