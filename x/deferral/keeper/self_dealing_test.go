package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/deferral/types"
)

// A request is never assigned to its requester's own account — neither at
// submission nor by the drain — so nobody serves, and is paid for, their own
// work. A requester that is the only worker of its class waits in the queue
// until another worker joins; then that worker gets the request.
func TestRequestIsNeverAssignedToItsRequester(t *testing.T) {
	c := newDChain(t, 3, types.DefaultParams())
	self, stranger, other := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{self, high, 10})

	res := c.block(
		c.tx(stranger, submitMsg(stranger, high, types.UrgencyNormal, 2)),
		c.tx(self, submitMsg(self, high, types.UrgencyNormal, 2)),
	)
	// The same submission from someone else is assigned to the worker at
	// once: only the requester's own account is refused.
	assigned := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, assigned.Status)
	require.Equal(t, self.Address.String(), assigned.Worker)
	own := c.submitResponse(res[1])
	require.Equal(t, types.StatusQueued, own.Status, "the requester's own worker has room but must not take it")
	require.Equal(t, types.DeferNoCapacity, own.DeferReason)

	c.blocks(5)
	req := c.request(own.RequestId)
	require.Equal(t, types.StatusQueued, req.Status, "the drain does not assign it to its requester either")
	require.Empty(t, req.Worker)
	require.Equal(t, uint64(2), c.shardWorker(self.Address).InFlightUnits, "only the stranger's request is on the worker")

	c.register(workerSpec{other, high, 10})
	req = c.request(own.RequestId)
	require.Equal(t, types.StatusAssigned, req.Status)
	require.Equal(t, other.Address.String(), req.Worker)
}
