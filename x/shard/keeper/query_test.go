package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/x/shard/types"
)

func TestQueries(t *testing.T) {
	ch := newChain(t, 4, func(gs *types.GenesisState) { withShards(types.ClassHighPriority)(gs) })
	hp := types.ClassHighPriority
	for i := 0; i < 4; i++ {
		ch.register(t, i, uint64(10+i), hp) // 0→1, 1→5, 2→1 (10<11), 3→5
	}
	q := ch.query

	s, err := q.Shard(ch.ctx, &types.QueryShardRequest{ShardId: 5})
	require.NoError(t, err)
	require.Equal(t, ch.shard(t, 5), s.Shard)
	require.Equal(t, uint32(2), s.Shard.WorkerCount)
	_, err = q.Shard(ch.ctx, &types.QueryShardRequest{ShardId: 77})
	require.Equal(t, codes.NotFound, status.Code(err))

	all, err := q.Shards(ch.ctx, &types.QueryShardsRequest{Pagination: &query.PageRequest{Limit: 3, CountTotal: true}})
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3}, shardIDs(all.Shards))
	require.Equal(t, uint64(5), all.Pagination.Total)
	rest, err := q.Shards(ch.ctx, &types.QueryShardsRequest{Pagination: &query.PageRequest{Key: all.Pagination.NextKey}})
	require.NoError(t, err)
	require.Equal(t, []uint64{4, 5}, shardIDs(rest.Shards))

	byClass, err := q.ShardsByClass(ch.ctx, &types.QueryShardsByClassRequest{Class: hp})
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 5}, shardIDs(byClass.Shards))
	_, err = q.ShardsByClass(ch.ctx, &types.QueryShardsByClassRequest{Class: types.ClassUnspecified})
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	w, err := q.Worker(ch.ctx, &types.QueryWorkerRequest{Address: ch.addr(2).String()})
	require.NoError(t, err)
	require.Equal(t, ch.worker(t, 2), w.Worker)
	_, err = q.Worker(ch.ctx, &types.QueryWorkerRequest{Address: "rep1bad"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = q.Worker(ch.ctx, &types.QueryWorkerRequest{Address: moduleAddr().String()})
	require.Equal(t, codes.NotFound, status.Code(err))

	page, err := q.WorkersByShard(ch.ctx, &types.QueryWorkersByShardRequest{ShardId: 1, Pagination: &query.PageRequest{Limit: 1, CountTotal: true}})
	require.NoError(t, err)
	require.Len(t, page.Workers, 1)
	require.Equal(t, uint64(2), page.Pagination.Total, "only the workers of shard 1")
	next, err := q.WorkersByShard(ch.ctx, &types.QueryWorkersByShardRequest{ShardId: 1, Pagination: &query.PageRequest{Key: page.Pagination.NextKey}})
	require.NoError(t, err)
	require.Len(t, next.Workers, 1)
	got := map[string]bool{page.Workers[0].Address: true, next.Workers[0].Address: true}
	require.Equal(t, map[string]bool{ch.addr(0).String(): true, ch.addr(2).String(): true}, got)
	first, err := sdk.AccAddressFromBech32(page.Workers[0].Address)
	require.NoError(t, err)
	second, err := sdk.AccAddressFromBech32(next.Workers[0].Address)
	require.NoError(t, err)
	require.Negative(t, sdkBytesCompare(first, second), "workers come in address order")
	_, err = q.WorkersByShard(ch.ctx, &types.QueryWorkersByShardRequest{ShardId: 99})
	require.Equal(t, codes.NotFound, status.Code(err))
	empty, err := q.WorkersByShard(ch.ctx, &types.QueryWorkersByShardRequest{ShardId: 2})
	require.NoError(t, err)
	require.Empty(t, empty.Workers)

	for name, call := range map[string]func() error{
		"shard":   func() error { _, err := q.Shard(ch.ctx, nil); return err },
		"shards":  func() error { _, err := q.Shards(ch.ctx, nil); return err },
		"class":   func() error { _, err := q.ShardsByClass(ch.ctx, nil); return err },
		"worker":  func() error { _, err := q.Worker(ch.ctx, nil); return err },
		"workers": func() error { _, err := q.WorkersByShard(ch.ctx, nil); return err },
		"netload": func() error { _, err := q.NetworkLoad(ch.ctx, nil); return err },
	} {
		require.Equal(t, codes.InvalidArgument, status.Code(call()), name)
	}
}

func shardIDs(shards []types.Shard) []uint64 {
	ids := make([]uint64, len(shards))
	for i, s := range shards {
		ids[i] = s.Id
	}
	return ids
}
