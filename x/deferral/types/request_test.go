package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/deferral/types"
)

func TestRequestHeldBy(t *testing.T) {
	single := types.Request{Status: types.StatusAssigned, Worker: "w1"}
	require.True(t, single.HeldBy("w1"))
	require.False(t, single.HeldBy("w2"))
	require.False(t, single.HeldBy(""))
	single.Status = types.StatusCompleted
	require.False(t, single.HeldBy("w1"), "a finished request is held by nobody")

	replicated := types.Request{Status: types.StatusAssigned, Replicas: 3, ReplicaRuns: []types.ReplicaRun{
		{Worker: "w1", Status: types.ReplicaReported},
		{Worker: "w2", Status: types.ReplicaRunning},
		{Worker: "w3", Status: types.ReplicaExpired},
	}}
	require.False(t, replicated.HeldBy("w1"), "it reported already")
	require.True(t, replicated.HeldBy("w2"))
	require.False(t, replicated.HeldBy("w3"))
	require.False(t, replicated.HeldBy("w4"))
	replicated.Status = types.StatusQueued
	require.False(t, replicated.HeldBy("w2"))
}
