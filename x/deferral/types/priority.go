package types

import (
	"github.com/repshard/repshard/internal/ppm"
)

// The queue formula: pure functions of the params and a request's inputs (no
// keeper, no context), so they can be tested and reused on their own. The
// keeper calls them when a request is submitted; the queue key it stores is
// (shard, DueHeight, id).

// Priority is the queue priority of a request in ppm:
// (w_rep·reputation + w_urg·urgency value) / (w_rep + w_urg).
//
// The request's class is not a term: it chose the shard, and every entry of
// a shard's queue has the shard's class, so a class weight would add the same
// amount to each and order nothing.
func Priority(p Params, reputationPpm uint32, urgency Urgency) uint32 {
	wr, wu := uint64(p.PriorityWeightReputation), uint64(p.PriorityWeightUrgency)
	sum := wr*uint64(reputationPpm) + wu*uint64(UrgencyValue(p, urgency))
	return uint32(sum / (wr + wu))
}

// DueHeight is the queue key of a request submitted (or re-queued) at height
// with priority p: height + max_wait·(1 − p). The highest priority is due at
// once, the lowest max_wait blocks later, so no request starves.
func DueHeight(p Params, height int64, priorityPpm uint32) int64 {
	return height + int64(ppm.MulDiv(p.MaxWaitBlocks, uint64(ppm.Max-priorityPpm), ppm.Max))
}

// UrgencyValue is the governed value of an urgency, in ppm. An unspecified
// urgency counts as normal.
func UrgencyValue(p Params, u Urgency) uint32 {
	switch u {
	case UrgencyLow:
		return p.UrgencyValueLowPpm
	case UrgencyHigh:
		return p.UrgencyValueHighPpm
	case UrgencyCritical:
		return p.UrgencyValueCriticalPpm
	default:
		return p.UrgencyValueNormalPpm
	}
}
