package types

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// FinishedRequest is what a review needs to know of a request: who asked,
// who processed it and whether it finished with a processed outcome. Plain
// values only, so x/reputation does not import x/deferral.
type FinishedRequest struct {
	// Requester is the address that submitted the request.
	Requester string
	// Worker is the last worker assigned to the request ("" if none).
	Worker string
	// Status is the request's status name, e.g. "REQUEST_STATUS_COMPLETED".
	Status string
	// Processed is true when a worker finished the request: completed, or
	// reported it failed. Queued, assigned, expired and cancelled requests
	// are not processed.
	Processed bool
	// Completed is true when Worker completed the request (status
	// COMPLETED): only then may the requester rate the worker.
	Completed bool
}

// RequestReader reads requests (implemented by x/deferral, wired in app.go).
type RequestReader interface {
	// ReviewableRequest returns the request with the id, and false when none exists.
	ReviewableRequest(ctx context.Context, requestID uint64) (FinishedRequest, bool, error)
}

// WorkerBondReader reads worker bonds (implemented by x/shard, wired in app.go).
type WorkerBondReader interface {
	// WorkerBond returns the bond a worker has escrowed (zero when the
	// address is not a worker), in the bond denom.
	WorkerBond(ctx context.Context, worker sdk.AccAddress) (sdkmath.Int, error)
}

// WorkerStandingListener is told each worker's standing whenever
// x/reputation writes the worker's profile (an outcome, a rating, a resume
// check): x/shard, which orders assignment by the score and gives a worker
// that is not eligible no new work. Passed to NewKeeper; x/reputation does not
// import x/shard.
type WorkerStandingListener interface {
	// SetWorkerStanding records the worker's score (ppm, 0..1_000_000) and
	// whether it may receive new assignments (false while paused). An address
	// that is not a registered worker (any more) is a no-op, not an error.
	SetWorkerStanding(ctx context.Context, worker sdk.AccAddress, scorePpm uint32, eligible bool) error
}

// StakingKeeper is the read-only part of x/staking the stake credit needs.
type StakingKeeper interface {
	// GetDelegatorBonded returns the tokens the delegator has bonded.
	GetDelegatorBonded(ctx context.Context, delegator sdk.AccAddress) (sdkmath.Int, error)
}
