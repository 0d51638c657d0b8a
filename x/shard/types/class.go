package types

import (
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"
)

// MaxWorkerCapacityUnits caps the capacity units one worker may offer, so the
// shard and network sums can never overflow.
const MaxWorkerCapacityUnits uint64 = 1 << 40

// AllClasses are the valid shard classes in class order.
var AllClasses = []ShardClass{ClassHighPriority, ClassLowPriority, ClassDataIntensive, ClassComputeIntensive}

// classNames are the CLI names of the classes.
var classNames = map[ShardClass]string{
	ClassHighPriority:     "high-priority",
	ClassLowPriority:      "low-priority",
	ClassDataIntensive:    "data-intensive",
	ClassComputeIntensive: "compute-intensive",
}

// IsValid reports whether c is one of the four shard classes.
func (c ShardClass) IsValid() bool {
	return c >= ClassHighPriority && c <= ClassComputeIntensive
}

// CLIName returns the class's CLI name, e.g. "high-priority".
func (c ShardClass) CLIName() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return c.String()
}

// ClassCLINames lists the CLI names of the classes, in class order.
func ClassCLINames() []string {
	names := make([]string, len(AllClasses))
	for i, c := range AllClasses {
		names[i] = classNames[c]
	}
	return names
}

// ParseClass parses a class given as its CLI name (high-priority), its proto
// name (SHARD_CLASS_HIGH_PRIORITY) or its number (1), case-insensitively.
func ParseClass(s string) (ShardClass, error) {
	in := strings.TrimSpace(s)
	norm := strings.ToLower(strings.ReplaceAll(in, "_", "-"))
	for _, c := range AllClasses {
		if norm == classNames[c] || norm == "shard-class-"+classNames[c] || in == fmt.Sprint(int32(c)) {
			return c, nil
		}
	}
	return ClassUnspecified, errorsmod.Wrapf(ErrInvalidClass, "unknown class %q: use one of %s",
		in, strings.Join(ClassCLINames(), ", "))
}

// ParseClassList parses a comma-separated list of classes, e.g.
// "high-priority,compute-intensive". It rejects empty lists and duplicates.
func ParseClassList(s string) ([]ShardClass, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errorsmod.Wrapf(ErrInvalidClass, "no class given: use a comma list of %s",
			strings.Join(ClassCLINames(), ", "))
	}
	parts := strings.Split(s, ",")
	classes := make([]ShardClass, 0, len(parts))
	for _, p := range parts {
		c, err := ParseClass(p)
		if err != nil {
			return nil, err
		}
		classes = append(classes, c)
	}
	return classes, ValidateWorkerClasses(classes)
}

// ValidateWorkerClasses checks a worker's classes: at least one, each valid,
// no duplicates.
func ValidateWorkerClasses(classes []ShardClass) error {
	if len(classes) == 0 {
		return errorsmod.Wrap(ErrInvalidClass, "a worker must serve at least one class")
	}
	seen := make([]bool, len(AllClasses)+1)
	for _, c := range classes {
		if !c.IsValid() {
			return errorsmod.Wrapf(ErrInvalidClass, "class %s (%d) is not a valid worker class", c, int32(c))
		}
		if seen[c] {
			return errorsmod.Wrapf(ErrInvalidClass, "class %s listed twice", c.CLIName())
		}
		seen[c] = true
	}
	return nil
}
