package types

import (
	"fmt"
	"strconv"
	"strings"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// The EndBlock steps of x/shard whose items can be quarantined
// (internal/quarantine), by the names they have in QuarantinedItem.step.
const (
	// StepReleaseBond returns the bonds of unbonded workers (index: the
	// unbonding queue; item "worker/<address>").
	StepReleaseBond = "release_bond"
	// StepMoveWorker moves a worker between the shards of a split or a
	// merge (no index: a quarantined worker is passed over; item
	// "worker/<address>").
	StepMoveWorker = "move_worker"
	// StepCheckShard is a shard's topology check (no index: a quarantined
	// shard is passed over by the rotation; item "shard/<id>").
	StepCheckShard = "check_shard"
)

// QuarantineSteps are the steps whose items can be quarantined.
var QuarantineSteps = []string{StepReleaseBond, StepMoveWorker, StepCheckShard}

// WorkerItem names a worker's item: "worker/<address>".
func WorkerItem(addr sdk.AccAddress) string { return "worker/" + addr.String() }

// ShardItem names a shard's item: "shard/<id>".
func ShardItem(id uint64) string { return "shard/" + strconv.FormatUint(id, 10) }

// ParseWorkerItem returns the address of an item named by WorkerItem.
func ParseWorkerItem(item string) (sdk.AccAddress, error) {
	rest, ok := strings.CutPrefix(item, "worker/")
	if !ok {
		return nil, fmt.Errorf("item %q is not worker/<address>", item)
	}
	addr, err := sdk.AccAddressFromBech32(rest)
	if err != nil {
		return nil, fmt.Errorf("item %q is not worker/<address>: %w", item, err)
	}
	return addr, nil
}

// ParseShardItem returns the id of an item named by ShardItem.
func ParseShardItem(item string) (uint64, error) {
	rest, ok := strings.CutPrefix(item, "shard/")
	if !ok {
		return 0, fmt.Errorf("item %q is not shard/<id>", item)
	}
	id, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || strconv.FormatUint(id, 10) != rest {
		return 0, fmt.Errorf("item %q is not shard/<id>", item)
	}
	return id, nil
}

// validateQuarantineItem checks that an item is named as its step names them.
func validateQuarantineItem(step, item string) error {
	var err error
	if step == StepCheckShard {
		_, err = ParseShardItem(item)
	} else {
		_, err = ParseWorkerItem(item)
	}
	return err
}
