package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/types"
)

// A queue-TTL expiry that the per-block expiry cap delays past the
// requester's deadline is still the chain's failure to serve: a full refund,
// no exit fee. Only a queue expiry set by the requester's own deadline pays it.
func TestDelayedTTLExpiryPastTheDeadlineRefundsAll(t *testing.T) {
	p := types.DefaultParams()
	p.MaxWaitBlocks, p.QueueTtlBlocks, p.MaxExpirationsPerBlock = 1, 2, 1
	c := newDChain(t, 2, p)
	rq := c.acc(1)
	first := submitMsg(rq, low, types.UrgencyNormal, 1) // no worker serves low-priority: both wait
	withDeadline := submitMsg(rq, low, types.UrgencyNormal, 1)
	withDeadline.Payload = []byte("the second")
	withDeadline.DeadlineBlocks = 3 // after the TTL (2): the TTL sets its queue expiry
	h := c.next()
	c.block(c.tx(rq, first, withDeadline))
	require.Equal(t, h+2, c.request(2).QueueExpiryHeight)
	var expired []*types.EventRequestExpired
	for c.next() <= h+4 {
		c.block()
		expired = append(expired, apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents)...)
	}
	require.Len(t, expired, 2)
	second := expired[1]
	require.Equal(t, uint64(2), second.RequestId)
	require.Equal(t, h+3, c.request(2).FinishHeight, "the cap delayed its expiry to its deadline height")
	require.True(t, second.ExitFee.IsZero(), "a TTL expiry pays no exit fee: %s", second.ExitFee)
	require.Equal(t, c.request(2).Fee, second.Refund, "the whole fee is refunded")
}
