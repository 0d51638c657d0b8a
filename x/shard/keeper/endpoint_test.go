package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/shard/types"
)

// A worker publishes its data-plane endpoint at registration, replaces it
// or clears it with MsgUpdateWorker, and the events and queries show it.
// An update without an endpoint leaves it as it is.
func TestWorkerEndpointLifecycle(t *testing.T) {
	ch := newChain(t, 1, nil)
	worker := ch.addr(0).String()
	_, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
		Worker: worker, Classes: []types.ShardClass{types.ClassHighPriority}, CapacityUnits: 10, Bond: minBond,
		Endpoint: "https://worker0.example.org:8443",
	})
	require.NoError(t, err)
	require.Equal(t, "https://worker0.example.org:8443", ch.worker(t, 0).Endpoint)
	reg := typedEvents[*types.EventWorkerRegistered](t, ch.ctx)
	require.Equal(t, "https://worker0.example.org:8443", reg[len(reg)-1].Endpoint)

	_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: worker, CapacityUnits: 12})
	require.NoError(t, err)
	require.Equal(t, "https://worker0.example.org:8443", ch.worker(t, 0).Endpoint, "no endpoint in the update: kept")

	_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: worker, CapacityUnits: 12, Endpoint: "http://10.0.0.7:9000/repshard"})
	require.NoError(t, err)
	require.Equal(t, "http://10.0.0.7:9000/repshard", ch.worker(t, 0).Endpoint)
	upd := typedEvents[*types.EventWorkerUpdated](t, ch.ctx)
	require.Equal(t, "http://10.0.0.7:9000/repshard", upd[len(upd)-1].Endpoint)
	res, err := ch.query.Worker(ch.ctx, &types.QueryWorkerRequest{Address: worker})
	require.NoError(t, err)
	require.Equal(t, "http://10.0.0.7:9000/repshard", res.Worker.Endpoint)

	_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: worker, CapacityUnits: 12, ClearEndpoint: true})
	require.NoError(t, err)
	require.Empty(t, ch.worker(t, 0).Endpoint)
}

// A malformed endpoint is refused with ErrInvalidEndpoint, at registration
// and at update, and changes nothing in the store.
func TestWorkerEndpointRefused(t *testing.T) {
	ch := newChain(t, 2, nil)
	ch.register(t, 1, 10, types.ClassHighPriority)
	bad := map[string]string{
		"ftp scheme":       "ftp://worker.example.org",
		"relative":         "/v1/results",
		"no host":          "https://:8443",
		"user info":        "https://alice:secret@worker.example.org",
		"query":            "https://worker.example.org/?token=x",
		"fragment":         "https://worker.example.org/#top",
		"space":            "https://worker.example.org/a b",
		"control byte":     "https://worker.example.org/\x00",
		"too long":         "https://worker.example.org/" + strings.Repeat("a", types.MaxEndpointBytes),
		"javascript":       "javascript:alert(1)",
		"scheme-less host": "worker.example.org:8443",
	}
	for name, endpoint := range bad {
		t.Run(name, func(t *testing.T) {
			snap := ch.dump()
			_, err := ch.msgs.RegisterWorker(ch.ctx, &types.MsgRegisterWorker{
				Worker: ch.addr(0).String(), Classes: []types.ShardClass{types.ClassHighPriority}, CapacityUnits: 10, Bond: minBond,
				Endpoint: endpoint,
			})
			require.ErrorIs(t, err, types.ErrInvalidEndpoint)
			_, err = ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{Worker: ch.addr(1).String(), CapacityUnits: 10, Endpoint: endpoint})
			require.ErrorIs(t, err, types.ErrInvalidEndpoint)
			require.Equal(t, snap, ch.dump())
		})
	}
	snap := ch.dump()
	_, err := ch.msgs.UpdateWorker(ch.ctx, &types.MsgUpdateWorker{
		Worker: ch.addr(1).String(), CapacityUnits: 10, Endpoint: "https://w.example.org", ClearEndpoint: true,
	})
	require.ErrorIs(t, err, types.ErrInvalidEndpoint, "set and clear at once")
	require.Equal(t, snap, ch.dump())
}
