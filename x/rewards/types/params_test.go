package types_test

import (
	"math"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/x/rewards/types"
)

func TestDefaultParamsValid(t *testing.T) {
	if err := types.DefaultParams().Validate(); err != nil {
		t.Fatalf("default params must be valid: %v", err)
	}
}

// with returns the default params changed by edit.
func with(edit func(*types.Params)) types.Params {
	p := types.DefaultParams()
	edit(&p)
	return p
}

func TestParamsValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		params types.Params
		field  string // the error must mention it
	}{
		{"protocol fee share above one", with(func(p *types.Params) { p.ProtocolFeeSharePpm = 1_000_001 }), "protocol_fee_share_ppm"},
		{"emission fraction above one", with(func(p *types.Params) { p.EpochEmissionFractionPpm = 1_000_001 }), "epoch_emission_fraction_ppm"},
		{"expiry slash above one", with(func(p *types.Params) { p.ExpirySlashPpm = 1_000_001 }), "expiry_slash_ppm"},
		{"failure rate threshold above one", with(func(p *types.Params) { p.FailureRateThresholdPpm = math.MaxUint32 }), "failure_rate_threshold_ppm"},
		{"failure slash above one", with(func(p *types.Params) { p.FailureSlashPpm = 1_000_001 }), "failure_slash_ppm"},
		{"zero epoch length", with(func(p *types.Params) { p.EpochLengthBlocks = 0 }), "epoch_length_blocks"},
		{"emission with invalid denom", with(func(p *types.Params) {
			p.EpochEmissionFixed = sdk.Coin{Denom: "1x", Amount: sdkmath.NewInt(5)}
		}), "epoch_emission_fixed"},
		{"emission with empty denom", with(func(p *types.Params) { p.EpochEmissionFixed = sdk.Coin{Amount: sdkmath.NewInt(5)} }), "epoch_emission_fixed"},
		{"emission with nil amount", with(func(p *types.Params) { p.EpochEmissionFixed = sdk.Coin{Denom: chaincfg.BondDenom} }), "epoch_emission_fixed"},
		{"negative emission", with(func(p *types.Params) {
			p.EpochEmissionFixed = sdk.Coin{Denom: chaincfg.BondDenom, Amount: sdkmath.NewInt(-1)}
		}), "epoch_emission_fixed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.params.Validate()
			if err == nil {
				t.Fatal("Validate must reject these params")
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %q must mention %q", err, c.field)
			}
		})
	}
}

// TestParamsValidateAcceptsBounds pins the inclusive bounds, so an off-by-one
// tightening of Validate is caught too.
func TestParamsValidateRejectsAmbiguousOrForeignCoins(t *testing.T) {
	both := with(func(p *types.Params) { p.EpochEmissionFractionPpm = 10_000 })
	if err := both.Validate(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("a fixed and a fractional emission together must be rejected, got %v", err)
	}
	foreign := with(func(p *types.Params) { p.EpochEmissionFixed.Denom = "uatom" })
	if err := foreign.Validate(); err == nil || !strings.Contains(err.Error(), "urep") {
		t.Fatalf("an emission in another denom must be rejected, got %v", err)
	}
}

func TestParamsValidateAcceptsBounds(t *testing.T) {
	cases := map[string]types.Params{
		"ppm exactly one": with(func(p *types.Params) {
			p.ProtocolFeeSharePpm, p.EpochEmissionFractionPpm, p.ExpirySlashPpm = 1_000_000, 1_000_000, 1_000_000
			p.FailureRateThresholdPpm, p.FailureSlashPpm = 1_000_000, 1_000_000
			p.EpochEmissionFixed.Amount = sdkmath.ZeroInt()
		}),
		"epoch of one block":  with(func(p *types.Params) { p.EpochLengthBlocks = 1 }),
		"no emission":         with(func(p *types.Params) { p.EpochEmissionFixed.Amount = sdkmath.ZeroInt() }),
		"huge fixed emission": with(func(p *types.Params) { p.EpochEmissionFixed.Amount = sdkmath.NewIntWithDecimal(1, 70) }),
		"fractional emission": with(func(p *types.Params) {
			p.EpochEmissionFractionPpm, p.EpochEmissionFixed.Amount = 10_000, sdkmath.ZeroInt()
		}),
		"no fees to the protocol": with(func(p *types.Params) { p.ProtocolFeeSharePpm = 0 }),
	}
	for name, p := range cases {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: must be valid: %v", name, err)
		}
	}
}

func TestGenesisValidate(t *testing.T) {
	if err := types.DefaultGenesis().Validate(); err != nil {
		t.Fatalf("default genesis must be valid: %v", err)
	}
	gs, def := types.DefaultGenesis(), types.DefaultParams()
	if got, want := gs.Params.String(), def.String(); got != want {
		t.Fatalf("default genesis must carry the default params:\n got %s\nwant %s", got, want)
	}
	if err := (types.GenesisState{}).Validate(); err == nil {
		t.Fatal("a zero genesis (zero params) must be rejected")
	}
	bad := types.GenesisState{Params: with(func(p *types.Params) { p.EpochLengthBlocks = 0 })}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "epoch_length_blocks") {
		t.Fatalf("genesis with invalid params must be rejected naming the field, got %v", err)
	}
}
