// Package keepertest holds the small fixture shared by the keeper unit tests
// of the repshard modules: a context over one fresh KV store, the repshard
// address codec and the gov module authority.
package keepertest

import (
	"encoding/hex"
	"testing"

	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	storetypes "cosmossdk.io/store/types"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/repshard/repshard/internal/chaincfg"
)

// Store is a context over a single fresh KV store, mounted under Key.
type Store struct {
	Ctx     sdk.Context
	Key     *storetypes.KVStoreKey
	Service corestore.KVStoreService
}

// NewStore mounts a fresh KV store named storeKey and returns a context on it.
func NewStore(tb testing.TB, storeKey string) Store {
	tb.Helper()
	key := storetypes.NewKVStoreKey(storeKey)
	tctx := testutil.DefaultContextWithDB(tb, key, storetypes.NewTransientStoreKey("transient_"+storeKey))
	return Store{Ctx: tctx.Ctx, Key: key, Service: runtime.NewKVStoreService(key)}
}

// Raw returns the bytes stored at key, bypassing any collection, or nil if
// the key is absent.
func (s Store) Raw(key []byte) []byte {
	return s.Ctx.KVStore(s.Key).Get(key)
}

// Dump returns every key/value pair of the store in key order, to compare
// the whole store before and after an operation that must change nothing.
func (s Store) Dump() [][2][]byte {
	it := s.Ctx.KVStore(s.Key).Iterator(nil, nil)
	defer it.Close()
	var out [][2][]byte
	for ; it.Valid(); it.Next() {
		out = append(out, [2][]byte{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
	}
	return out
}

// AddressCodec returns the bech32 codec of repshard account addresses.
func AddressCodec() address.Codec {
	return addresscodec.NewBech32Codec(chaincfg.Bech32Prefix)
}

// Authority returns the gov module account address with the repshard prefix,
// the authority every repshard module is built with.
func Authority() string {
	return Address(authtypes.NewModuleAddress(govtypes.ModuleName))
}

// Address encodes addr with the repshard prefix; it panics on failure.
func Address(addr sdk.AccAddress) string {
	s, err := AddressCodec().BytesToString(addr)
	if err != nil {
		panic(err)
	}
	return s
}

// AccountAddress returns a valid repshard address derived from name, never
// the authority (it is the address of the module account called name).
func AccountAddress(name string) string {
	return Address(authtypes.NewModuleAddress(name))
}

// GovAddressWithPrefix returns the gov module account address encoded with
// another bech32 prefix: the same account bytes, but not the authority string.
func GovAddressWithPrefix(prefix string) string {
	s, err := addresscodec.NewBech32Codec(prefix).BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	if err != nil {
		panic(err)
	}
	return s
}

// InvalidAddresses returns strings the repshard address codec rejects, keyed
// by what is wrong with them.
func InvalidAddresses() map[string]string {
	auth := Authority()
	last := byte('q')
	if auth[len(auth)-1] == last {
		last = 'p'
	}
	return map[string]string{
		"empty":        "",
		"not bech32":   "gov",
		"wrong prefix": GovAddressWithPrefix("cosmos"),
		"bad checksum": auth[:len(auth)-1] + string(last),
		"hex":          "0x" + hex.EncodeToString(authtypes.NewModuleAddress(govtypes.ModuleName)),
	}
}
