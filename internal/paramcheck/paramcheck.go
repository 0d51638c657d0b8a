// Package paramcheck holds the parameter checks every repshard module's
// params share: the bounds on per-block caps and on block counts, and checks
// applied to many named fields at once.
package paramcheck

import "fmt"

// MaxPerBlockCap bounds every per-block cap of every module, so no EndBlock
// step can be configured to do unbounded work.
const MaxPerBlockCap = 10_000

// MaxBlocks bounds every parameter counted in blocks (periods, windows,
// timeouts): 10⁹ blocks is decades at any block time, and keeping them this
// far below 2⁶³ means height + period and 2·period never overflow.
const MaxBlocks = 1_000_000_000

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
