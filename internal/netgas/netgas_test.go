package netgas_test

import (
	"errors"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log"
	"cosmossdk.io/store"
	"cosmossdk.io/store/metrics"
	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/netgas"
)

var key = storetypes.NewKVStoreKey("test")

// newCtx returns a context on a fresh store holding "a" = 10 bytes.
func newCtx(t *testing.T) sdk.Context {
	t.Helper()
	cms := store.NewCommitMultiStore(dbm.NewMemDB(), log.NewNopLogger(), metrics.NewNoOpMetrics())
	cms.MountStoreWithDB(key, storetypes.StoreTypeIAVL, nil)
	require.NoError(t, cms.LoadLatestVersion())
	ctx := sdk.NewContext(cms.CacheMultiStore(), cmtproto.Header{}, false, log.NewNopLogger())
	ctx.KVStore(key).Set([]byte("a"), make([]byte, 10))
	return ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
}

// gasOf runs fn metered by net effect and returns the gas it used.
func gasOf(t *testing.T, fn func(storetypes.KVStore)) uint64 {
	t.Helper()
	ctx := newCtx(t)
	require.NoError(t, netgas.Run(ctx, func(ctx sdk.Context) error {
		fn(ctx.KVStore(key))
		return nil
	}))
	return ctx.GasMeter().GasConsumed()
}

// sdkGasOf runs fn metered the SDK's way.
func sdkGasOf(t *testing.T, fn func(storetypes.KVStore)) uint64 {
	t.Helper()
	ctx := newCtx(t)
	fn(ctx.KVStore(key))
	return ctx.GasMeter().GasConsumed()
}

func TestOneAccessCostsWhatTheSDKCharges(t *testing.T) {
	for name, fn := range map[string]func(storetypes.KVStore){
		"read":   func(s storetypes.KVStore) { s.Get([]byte("a")) },
		"has":    func(s storetypes.KVStore) { s.Has([]byte("a")) },
		"write":  func(s storetypes.KVStore) { s.Set([]byte("b"), make([]byte, 20)) },
		"delete": func(s storetypes.KVStore) { s.Delete([]byte("a")) },
		"read then write": func(s storetypes.KVStore) {
			s.Get([]byte("a"))
			s.Set([]byte("a"), make([]byte, 5))
		},
		"iterate": func(s storetypes.KVStore) {
			it := s.Iterator(nil, nil)
			for ; it.Valid(); it.Next() {
			}
			it.Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, sdkGasOf(t, fn), gasOf(t, fn))
		})
	}
}

func TestRepeatedAccessIsChargedOnce(t *testing.T) {
	kv := storetypes.KVGasConfig()
	cached := storetypes.TransientGasConfig()
	once := gasOf(t, func(s storetypes.KVStore) { s.Get([]byte("a")) })
	thrice := gasOf(t, func(s storetypes.KVStore) {
		for i := 0; i < 3; i++ {
			s.Get([]byte("a"))
		}
	})
	require.Equal(t, once+2*cached.ReadCostFlat, thrice, "later reads of a key cost a cache hit")
	require.Less(t, thrice, sdkGasOf(t, func(s storetypes.KVStore) {
		for i := 0; i < 3; i++ {
			s.Get([]byte("a"))
		}
	}))

	// A key written three times pays one write, of its final value, plus
	// two cached rewrites.
	written := gasOf(t, func(s storetypes.KVStore) {
		s.Set([]byte("b"), make([]byte, 50))
		s.Set([]byte("b"), make([]byte, 50))
		s.Set([]byte("b"), make([]byte, 7))
	})
	final := kv.WriteCostFlat + kv.WriteCostPerByte*(1+7)
	rewrites := 2*cached.WriteCostFlat + cached.WriteCostPerByte*(1+50+1+7)
	require.Equal(t, final+rewrites, written)

	// Written, then deleted: the final state is a delete.
	deleted := gasOf(t, func(s storetypes.KVStore) {
		s.Set([]byte("c"), make([]byte, 50))
		s.Delete([]byte("c"))
	})
	require.Equal(t, kv.DeleteCost+cached.DeleteCost, deleted)
}

func TestFailureStillPaysAndBranchesAreMetered(t *testing.T) {
	ctx := newCtx(t)
	boom := errors.New("boom")
	err := netgas.Run(ctx, func(ctx sdk.Context) error {
		ctx.KVStore(key).Set([]byte("b"), make([]byte, 10))
		// A cache context inside is metered too: its writes are not free.
		branch, _ := ctx.CacheContext()
		branch.KVStore(key).Set([]byte("d"), make([]byte, 10))
		return boom
	})
	require.ErrorIs(t, err, boom)
	kv := storetypes.KVGasConfig()
	require.Equal(t, 2*(kv.WriteCostFlat+kv.WriteCostPerByte*11), ctx.GasMeter().GasConsumed())
}

func TestOutOfGasStillPanics(t *testing.T) {
	ctx := newCtx(t).WithGasMeter(storetypes.NewGasMeter(1_500))
	require.Panics(t, func() {
		_ = netgas.Run(ctx, func(ctx sdk.Context) error {
			ctx.KVStore(key).Get([]byte("a")) // 1,000 + 3 × 11
			ctx.KVStore(key).Set([]byte("b"), make([]byte, 10))
			return nil
		})
	})
}
