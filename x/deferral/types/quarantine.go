package types

import (
	"fmt"
	"strconv"
	"strings"
)

// The EndBlock steps of x/deferral whose items can be quarantined
// (internal/quarantine), by the names they have in events and in
// QuarantinedItem.step. Each item is a request, named "request/<id>".
const (
	// StepExpireAssignments expires assignments past their deadline (index:
	// the deadlines).
	StepExpireAssignments = "expire_assignments"
	// StepExpireQueued expires queued requests past their time to live or
	// their requester's deadline (index: the queue expiries).
	StepExpireQueued = "expire_queued"
	// StepDrainQueues assigns queued requests to workers (index: the queue).
	StepDrainQueues = "drain_queues"
	// StepShardTopology moves queued requests between the shards of a split
	// or a merge (index: the queue).
	StepShardTopology = "shard_topology"
	// StepPruneFinished deletes finished records past retention_blocks
	// (index: the finished records).
	StepPruneFinished = "prune_finished"
)

// QuarantineSteps are the steps whose items can be quarantined.
var QuarantineSteps = []string{StepExpireAssignments, StepExpireQueued, StepDrainQueues, StepShardTopology, StepPruneFinished}

// RequestItem names the item of request id in every step: "request/<id>".
func RequestItem(id uint64) string { return "request/" + strconv.FormatUint(id, 10) }

// ParseRequestItem returns the request id of an item named by RequestItem.
func ParseRequestItem(item string) (uint64, error) {
	rest, ok := strings.CutPrefix(item, "request/")
	if !ok {
		return 0, fmt.Errorf("item %q is not request/<id>", item)
	}
	id, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || id == 0 || strconv.FormatUint(id, 10) != rest {
		return 0, fmt.Errorf("item %q is not request/<id>", item)
	}
	return id, nil
}
