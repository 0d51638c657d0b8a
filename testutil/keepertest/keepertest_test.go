package keepertest_test

import (
	"bytes"
	"strings"
	"testing"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/repshard/repshard/testutil/keepertest"
)

func TestAuthorityIsGovModuleAccount(t *testing.T) {
	auth := keepertest.Authority()
	if !strings.HasPrefix(auth, "rep1") {
		t.Fatalf("authority %q must use the rep bech32 prefix", auth)
	}
	bz, err := keepertest.AddressCodec().StringToBytes(auth)
	if err != nil {
		t.Fatalf("authority %q does not decode: %v", auth, err)
	}
	if !bytes.Equal(bz, authtypes.NewModuleAddress(govtypes.ModuleName)) {
		t.Fatalf("authority %q is not the gov module account", auth)
	}
	if _, err := addresscodec.NewBech32Codec("cosmos").StringToBytes(auth); err == nil {
		t.Fatal("a cosmos-prefix codec must reject the rep authority")
	}
}

func TestAccountAddress(t *testing.T) {
	a, b := keepertest.AccountAddress("alice"), keepertest.AccountAddress("bob")
	if a == b || a == keepertest.Authority() || b == keepertest.Authority() {
		t.Fatalf("addresses must be distinct from each other and from the authority: %s %s", a, b)
	}
	if _, err := keepertest.AddressCodec().StringToBytes(a); err != nil {
		t.Fatalf("AccountAddress must be valid: %v", err)
	}
}

func TestStoreRaw(t *testing.T) {
	s := keepertest.NewStore(t, "kt")
	if got := s.Raw([]byte{0}); got != nil {
		t.Fatalf("fresh store must be empty, got %x", got)
	}
	s.Ctx.KVStore(s.Key).Set([]byte{0}, []byte("v"))
	if got := s.Raw([]byte{0}); string(got) != "v" {
		t.Fatalf("Raw must read the store, got %q", got)
	}
	// The store service must address the same store as Key.
	if got, err := s.Service.OpenKVStore(s.Ctx).Get([]byte{0}); err != nil || string(got) != "v" {
		t.Fatalf("Service must open the same store: %q, %v", got, err)
	}
}

func TestInvalidAddresses(t *testing.T) {
	for name, addr := range keepertest.InvalidAddresses() {
		if _, err := keepertest.AddressCodec().StringToBytes(addr); err == nil {
			t.Errorf("%s: %q must be rejected by the rep codec", name, addr)
		}
	}
	if got := keepertest.GovAddressWithPrefix("rep"); got != keepertest.Authority() {
		t.Fatalf("GovAddressWithPrefix(rep) = %s, want the authority %s", got, keepertest.Authority())
	}
}
