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

// Group runs the items of one per-block step with the outcome of Run for
// each, without the cost of a cached context per item: the items share one
// cached context, committed every size items (and at Flush). When an item
// fails, the group's writes and events are discarded and its earlier items
// are run again one by one through Run, then the failing one: the items are
// deterministic in the state they read, so they do again what they did in
// the group, and the failing one is rolled back alone, logged and reported
// exactly as Run would have. The state, the events (and their order) and
// the results are those of calling Run for every item.
//
// fn may be run twice, so it must depend only on the state and on values
// that do not change between its runs; what it records outside the state
// (a flag the caller reads after Run) must be the same on both runs.
//
// Use a Group only where gas is not limited (EndBlock): the writes of a group
// discarded on a failure are metered again on the replay.
type Group struct {
	ctx   sdk.Context
	size  int
	hooks GroupHooks
	cache sdk.Context
	write func()
	ran   []groupItem
}

// GroupHooks let the items keep state of their own beside the store's (an
// in-memory copy of records they write at commit time): the hooks tell it
// when writes are about to be committed and when writes were rolled back.
// Both may be nil.
type GroupHooks struct {
	// BeforeCommit runs on a context whose writes are about to be committed:
	// the group's cached context before it is written, and the context of an
	// item run alone (after a failure in its group) at the end of the item.
	// An error fails that commit: a group's items are then run again one by
	// one, an item run alone fails.
	BeforeCommit func(ctx sdk.Context) error
	// Discarded runs when writes made under ctx (a group's or an item's
	// cached context) were rolled back.
	Discarded func(ctx sdk.Context)
}

type groupItem struct {
	item   string
	fn     func(ctx sdk.Context) error
	report func(err error) proto.Message
}

// NewGroup returns a Group committing to ctx every size items (at least 1).
func NewGroup(ctx sdk.Context, size int, hooks GroupHooks) *Group {
	return &Group{ctx: ctx, size: max(size, 1), hooks: hooks}
}

// Run runs fn for item and returns what Run(ctx, item, fn, report) would.
// Its writes and events reach the group's ctx at the latest at Flush.
func (g *Group) Run(item string, fn func(ctx sdk.Context) error, report func(err error) proto.Message) error {
	if g.write == nil {
		g.cache, g.write = g.ctx.CacheContext()
	}
	if err := runRecovered(g.cache, fn); err != nil {
		g.discard()
		return g.runAlone(groupItem{item: item, fn: fn, report: report})
	}
	g.ran = append(g.ran, groupItem{item: item, fn: fn, report: report})
	if len(g.ran) >= g.size {
		g.Flush()
	}
	return nil
}

// Flush commits the items run since the last commit to the group's ctx.
func (g *Group) Flush() {
	if g.write == nil {
		return
	}
	if g.hooks.BeforeCommit != nil {
		if err := runRecovered(g.cache, g.hooks.BeforeCommit); err != nil {
			g.discard()
			return
		}
	}
	g.write()
	g.ran, g.write = g.ran[:0], nil
}

// discard drops the group's cached context and runs its items again one by
// one.
func (g *Group) discard() {
	cache, earlier := g.cache, g.ran
	g.ran, g.write = nil, nil
	if g.hooks.Discarded != nil {
		g.hooks.Discarded(cache)
	}
	for _, it := range earlier {
		// They succeeded on this very state; Run reports it should one not.
		_ = g.runAlone(it)
	}
}

// runAlone runs one item through Run, with the hooks.
func (g *Group) runAlone(it groupItem) error {
	fn := it.fn
	if g.hooks.BeforeCommit != nil {
		fn = func(c sdk.Context) error {
			if err := it.fn(c); err != nil {
				return err
			}
			return g.hooks.BeforeCommit(c)
		}
	}
	err := Run(g.ctx, it.item, fn, it.report)
	if err != nil && g.hooks.Discarded != nil {
		g.hooks.Discarded(g.ctx)
	}
	return err
}
