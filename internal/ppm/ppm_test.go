package ppm

import (
	"math"
	"testing"
)

func TestValidate(t *testing.T) {
	if err := Validate("x", Max); err != nil {
		t.Fatalf("Max must be accepted: %v", err)
	}
	if err := Validate("x", Max+1); err == nil {
		t.Fatal("Max+1 must be rejected")
	}
}

func TestMulDiv(t *testing.T) {
	cases := []struct{ a, b, c, want uint64 }{
		{500_000, 3, Max, 1},
		{math.MaxUint64, Max, Max, math.MaxUint64},
		{math.MaxUint64, 2, 4, math.MaxUint64 / 2},
		{7, 0, 3, 0},
		{math.MaxUint64, math.MaxUint64, 1, math.MaxUint64}, // saturates
	}
	for _, c := range cases {
		if got := MulDiv(c.a, c.b, c.c); got != c.want {
			t.Errorf("MulDiv(%d,%d,%d) = %d, want %d", c.a, c.b, c.c, got, c.want)
		}
	}
}

func TestMulDivByZeroPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MulDiv by zero must panic, not saturate")
		}
	}()
	MulDiv(1, 1, 0)
}
