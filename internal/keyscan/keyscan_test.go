package keyscan_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/colltest"

	"github.com/repshard/repshard/internal/keyscan"
)

func TestFirst(t *testing.T) {
	ss, ctx := colltest.MockStore()
	set := collections.NewKeySet(collections.NewSchemaBuilder(ss), collections.NewPrefix(1), "set", collections.Uint64Key)
	for _, k := range []uint64{5, 1, 9, 3, 7} {
		require.NoError(t, set.Set(ctx, k))
	}
	all := new(collections.Range[uint64])

	got, err := keyscan.First(ctx, set, all, 3)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 3, 5}, got, "the first keys, in order, at most limit")

	got, err = keyscan.First(ctx, set, all, 100)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 3, 5, 7, 9}, got, "fewer keys than the limit: all of them")

	got, err = keyscan.First(ctx, set, new(collections.Range[uint64]).StartInclusive(4).EndExclusive(9), 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{5, 7}, got, "only the range")

	got, err = keyscan.First(ctx, set, all, 0)
	require.NoError(t, err)
	require.Empty(t, got, "a zero limit reads nothing")
}
