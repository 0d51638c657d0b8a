// Package gasprofile attributes the gas of a message to the repshard
// functions that consumed it: a gas meter that records, for every charge, the
// chain of repshard frames on the stack and the store operation. It finds
// where a message's gas goes (make bench-gas-profile) without instrumenting
// the keepers.
package gasprofile

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	storetypes "cosmossdk.io/store/types"
)

const repo = "github.com/repshard/repshard/"

// Meter is an infinite gas meter that remembers who consumed what.
type Meter struct {
	storetypes.GasMeter
	// Depth is how many repshard frames (innermost first) name a charge.
	Depth int
	by    map[string]uint64
	ops   map[string]uint64
}

// New returns a meter that names each charge by up to depth repshard frames.
func New(depth int) *Meter {
	return &Meter{GasMeter: storetypes.NewInfiniteGasMeter(), Depth: depth, by: map[string]uint64{}, ops: map[string]uint64{}}
}

// ConsumeGas records the charge against the repshard frames that caused it.
func (m *Meter) ConsumeGas(amount storetypes.Gas, descriptor string) {
	m.GasMeter.ConsumeGas(amount, descriptor)
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var names []string
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, repo) && !strings.Contains(f.Function, "/testutil/") && !strings.HasSuffix(f.Function, "_test") {
			name := strings.TrimPrefix(f.Function, repo)
			if len(names) == 0 || names[len(names)-1] != name {
				names = append(names, name)
			}
			if len(names) == m.Depth {
				break
			}
		}
		if !more {
			break
		}
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	key := strings.Join(names, " → ")
	if key == "" {
		key = "(outside repshard)"
	}
	m.by[key+" | "+descriptor] += amount
	m.ops[descriptor] += amount
}

// Fprint writes the charges, largest first, with their share of the total.
func (m *Meter) Fprint(w io.Writer, title string) {
	total := m.GasConsumed()
	fmt.Fprintf(w, "%s: %d gas\n", title, total)
	type row struct {
		k string
		v uint64
	}
	rows := func(src map[string]uint64) []row {
		var out []row
		for k, v := range src {
			out = append(out, row{k, v})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].v > out[j].v || out[i].v == out[j].v && out[i].k < out[j].k })
		return out
	}
	for _, r := range rows(m.ops) {
		fmt.Fprintf(w, "  %-28s %7d  %5.1f%%\n", r.k, r.v, 100*float64(r.v)/float64(total))
	}
	for _, r := range rows(m.by) {
		fmt.Fprintf(w, "  %7d  %s\n", r.v, r.k)
	}
}
