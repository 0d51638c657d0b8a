// Package isolate runs one item of a per-block step on its own, so that an
// item that fails cannot halt the chain or leave half its writes behind.
//
// Every EndBlock step of the repshard modules (expiries, queue drain, topology
// checks and migrations, bond releases, epoch closes, failure-rate slashes)
// handles its items through Run: the item's writes and events are committed
// when it succeeds; when it returns an error or panics they are discarded, the
// failure is logged and reported with one typed event, and the step moves on
// to its next item. See docs/architecture.md ("A block").
package isolate

import (
	"fmt"

	"github.com/cosmos/gogoproto/proto"

	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Run runs fn in a cached context branched from ctx.
//
// When fn returns nil, its writes and events are committed to ctx and Run
// returns nil. When fn returns an error or panics, everything it wrote is
// discarded, the failure is logged with item, the event that report builds
// from the error is emitted on ctx (report may be nil, or return nil, to emit
// nothing), and the error (a panic becomes an error) is returned so the
// caller can react to it, e.g. reschedule the item.
func Run(ctx sdk.Context, item string, fn func(ctx sdk.Context) error, report func(err error) proto.Message) error {
	cacheCtx, write := ctx.CacheContext()
	if err := runRecovered(cacheCtx, fn); err != nil {
		ctx.Logger().Error("end block item failed; rolled back", "item", item, "err", err)
		if report != nil {
			if ev := report(err); ev != nil {
				if emitErr := ctx.EventManager().EmitTypedEvent(ev); emitErr != nil {
					ctx.Logger().Error("emit end block item failure", "item", item, "err", emitErr)
				}
			}
		}
		return err
	}
	write()
	return nil
}

// runRecovered calls fn and turns a panic into an error — except running out
// of gas: an item that runs inside a transaction (a settlement reached from
// a message) must fail the transaction as the SDK's gas meter intends, so
// ErrorOutOfGas and ErrorGasOverflow panic on. (EndBlock's gas meter is
// infinite, so they never arise there.)
func runRecovered(ctx sdk.Context, fn func(sdk.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch r.(type) {
			case storetypes.ErrorOutOfGas, storetypes.ErrorGasOverflow:
				panic(r)
			}
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx)
}
