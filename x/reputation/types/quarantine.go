package types

import (
	"fmt"
	"strings"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// StepResumeWorker is the EndBlock check of a paused worker at its resume
// height, the one x/reputation step whose items can be quarantined
// (internal/quarantine): index the resume queue, item "worker/<address>".
const StepResumeWorker = "resume_worker"

// QuarantineSteps are the steps whose items can be quarantined.
var QuarantineSteps = []string{StepResumeWorker}

// WorkerItem names a worker's item: "worker/<address>".
func WorkerItem(addr sdk.AccAddress) string { return "worker/" + addr.String() }

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
