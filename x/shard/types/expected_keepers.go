package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BankKeeper moves worker bonds in and out of the x/shard module account.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, sender sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipient sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
}

// BondReleaseHook is consulted before an unbonded worker's bond is returned:
// x/rewards settles the worker there (its last epoch's rewards and the
// failure-rate slash of that epoch), so leaving cannot dodge a slash. ready
// false postpones the release (the worker's last epoch is still open).
type BondReleaseHook interface {
	BeforeBondRelease(ctx context.Context, worker sdk.AccAddress) (ready bool, err error)
}

// StandingKeeper keeps a worker's standing (x/reputation, wired in app.go).
// RegisterWorker reads it, so that a worker that registers again starts with
// the score and pause it left with, not as a new worker (known is false for
// an address that never had a worker profile); ResumeWorker asks it to clear
// the worker's unresponsive mark (an error when the worker is not marked).
type StandingKeeper interface {
	WorkerStanding(ctx context.Context, worker sdk.AccAddress) (scorePpm uint32, eligible, known bool, err error)
	ResumeUnresponsiveWorker(ctx context.Context, worker sdk.AccAddress) error
}
