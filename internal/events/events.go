// Package events emits the typed events of the repshard modules.
package events

import (
	"context"

	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Direct is a typed event that builds its ABCI event itself: ABCIEvent must
// return exactly what sdk.TypedEventToEvent makes of it (a test of the event
// type checks that), without the JSON round trip. Events emitted in bulk (one
// per assignment of the queue drain) implement it.
type Direct interface {
	proto.Message
	ABCIEvent() sdk.Event
}

// Emit emits ev as a typed event on the context's event manager.
func Emit(ctx context.Context, ev proto.Message) error {
	em := sdk.UnwrapSDKContext(ctx).EventManager()
	if d, ok := ev.(Direct); ok {
		em.EmitEvent(d.ABCIEvent())
		return nil
	}
	return em.EmitTypedEvent(ev)
}
