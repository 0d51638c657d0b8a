package types

import (
	"fmt"
	"strconv"
	"strings"
)

// StepCloseEpoch is the EndBlock close of the open epoch, the one x/rewards
// step whose items can be quarantined (internal/quarantine): item
// "epoch/<number>", no index (the close is quarantined by closing the epoch
// without emission, so the next one opens).
const StepCloseEpoch = "close_epoch"

// QuarantineSteps are the steps whose items can be quarantined.
var QuarantineSteps = []string{StepCloseEpoch}

// EpochItem names an epoch's item: "epoch/<number>".
func EpochItem(number uint64) string { return "epoch/" + strconv.FormatUint(number, 10) }

// ParseEpochItem returns the epoch number of an item named by EpochItem.
func ParseEpochItem(item string) (uint64, error) {
	rest, ok := strings.CutPrefix(item, "epoch/")
	if !ok {
		return 0, fmt.Errorf("item %q is not epoch/<number>", item)
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != rest {
		return 0, fmt.Errorf("item %q is not epoch/<number>", item)
	}
	return n, nil
}
