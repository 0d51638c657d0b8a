package events_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// Emit emits the same event as EmitTypedEvent, through ABCIEvent for a
// Direct event and through the JSON encoding for any other.
func TestEmitMatchesEmitTypedEvent(t *testing.T) {
	key := storetypes.NewKVStoreKey("events")
	newCtx := func() sdk.Context {
		return testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("events_t")).Ctx.
			WithEventManager(sdk.NewEventManager())
	}
	evs := []proto.Message{
		&deferraltypes.EventRequestAssigned{RequestId: 9, ShardId: 1, Worker: "rep1xyz", DeadlineHeight: 30, Attempt: 2, ComputeUnits: 5, WaitedBlocks: 3},
		&deferraltypes.EventEndBlockItemFailed{Step: "s", Item: "i", Error: "e"},
	}
	_, direct := evs[0].(events.Direct)
	require.True(t, direct)
	got, want := newCtx(), newCtx()
	for _, ev := range evs {
		require.NoError(t, events.Emit(got, ev))
		require.NoError(t, want.EventManager().EmitTypedEvent(ev))
	}
	require.Equal(t, want.EventManager().Events(), got.EventManager().Events())
}
