package paramcheck

import (
	"testing"

	"github.com/repshard/repshard/internal/ppm"
)

func TestCheckAll(t *testing.T) {
	err := CheckAll(NonZero, F("a", uint32(1)), F("b", uint64(0)), F("c", uint64(0)))
	if err == nil || err.Error() != "b must be positive" {
		t.Fatalf("want the first failing field (b), got %v", err)
	}
	if err := CheckAll(ppm.Validate, F("a", uint32(ppm.Max)), F("b", uint64(0))); err != nil {
		t.Fatalf("valid fields rejected: %v", err)
	}
}

func TestNonZero(t *testing.T) {
	if err := NonZero("cap", 0); err == nil {
		t.Fatal("zero must be rejected")
	}
	if err := NonZero("cap", 1); err != nil {
		t.Fatalf("one must be accepted: %v", err)
	}
}

func TestAtMost(t *testing.T) {
	check := AtMost(10)
	if err := check("cap", 10); err != nil {
		t.Fatalf("the limit must be accepted: %v", err)
	}
	if err := check("cap", 11); err == nil || err.Error() != "cap must be at most 10, got 11" {
		t.Fatalf("above the limit must be rejected naming the field, got %v", err)
	}
}
