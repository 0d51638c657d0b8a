package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/shard/types"
)

// AssignQueued (the drain) must leave exactly the state RemoveQueued followed
// by AddInFlight leaves, and refuse what AddInFlight refuses, changing nothing.
func TestAssignQueuedEqualsRemoveQueuedThenAddInFlight(t *testing.T) {
	one := newChain(t, 2, nil)
	two := newChain(t, 2, nil)
	for _, ch := range []chain{one, two} {
		shardID := ch.register(t, 0, 10, types.ClassHighPriority)
		require.Equal(t, uint64(1), shardID)
		require.NoError(t, ch.k.AddQueued(ch.ctx, shardID, 4))
		require.NoError(t, ch.k.AddQueued(ch.ctx, shardID, 3))
	}
	worker := one.addr(0)
	require.NoError(t, one.k.AssignQueued(one.ctx, 1, worker, 4))
	require.NoError(t, two.k.RemoveQueued(two.ctx, 1, 4))
	require.NoError(t, two.k.AddInFlight(two.ctx, 1, two.addr(0), 4))

	require.Equal(t, two.shard(t, 1), one.shard(t, 1))
	// The two chains have different accounts; compare everything but the address.
	w1, w2 := one.worker(t, 0), two.worker(t, 0)
	w1.Address, w2.Address = "", ""
	require.Equal(t, w2, w1)
	s := one.shard(t, 1)
	require.Equal(t, uint64(4), s.InFlightUnits)
	require.Equal(t, uint64(3), s.QueuedUnits)
	require.Equal(t, uint64(1), s.QueuedCount)

	// Over capacity: refused, nothing changes.
	before := one.dump()
	require.ErrorIs(t, one.k.AssignQueued(one.ctx, 1, worker, 7), types.ErrCapacityExceeded)
	require.Equal(t, before, one.dump())
	// More than is queued: refused, nothing changes.
	require.Error(t, one.k.AssignQueued(one.ctx, 1, worker, 5))
	require.Equal(t, before, one.dump())
}
