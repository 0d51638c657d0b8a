package types_test

import (
	"strings"
	"testing"

	"github.com/repshard/repshard/x/deferral/types"
)

func TestParamsValidateRejectsDisorderAndOutOfBounds(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(p *types.Params)
		want string
	}{
		"critical below low":    {func(p *types.Params) { p.UrgencyValueCriticalPpm, p.UrgencyValueLowPpm = 0, 1 }, "urgency values"},
		"high below normal":     {func(p *types.Params) { p.UrgencyValueHighPpm = p.UrgencyValueNormalPpm - 1 }, "urgency values"},
		"price in another coin": {func(p *types.Params) { p.PricePerDataMegabyte.Denom = "uatom" }, "price_per_data_megabyte"},
		"huge data bound":       {func(p *types.Params) { p.MaxDataBytes = types.MaxDataBytesLimit + 1 }, "max_data_bytes"},
		"urgency fee order":     {func(p *types.Params) { p.UrgencyFeeCriticalPpm = p.UrgencyFeeHighPpm - 1 }, "urgency fee multipliers"},
		"zero urgency fee":      {func(p *types.Params) { p.UrgencyFeeLowPpm = 0 }, "urgency_fee_low_ppm"},
		"huge urgency fee":      {func(p *types.Params) { p.UrgencyFeeCriticalPpm = types.MaxUrgencyFeePpm + 1 }, "urgency_fee_critical_ppm"},
		"discount of 100%":      {func(p *types.Params) { p.PreferredDiscountPpm = 1_000_000 }, "preferred_discount_ppm"},
		"zero deadline bound":   {func(p *types.Params) { p.MaxDeadlineBlocks = 0 }, "max_deadline_blocks"},
		"huge inline payload":   {func(p *types.Params) { p.MaxInlinePayloadBytes = types.MaxInlinePayloadLimit + 1 }, "max_inline_payload_bytes"},
		"huge compute units":    {func(p *types.Params) { p.MaxComputeUnits = types.MaxComputeUnitsLimit + 1 }, "max_compute_units"},
		"huge drain gas":        {func(p *types.Params) { p.GasPerDrain = types.MaxGasPerDrain + 1 }, "gas_per_drain"},
		"huge max attempts":     {func(p *types.Params) { p.MaxAttempts = types.MaxAttemptsLimit + 1 }, "max_attempts"},
	} {
		p := types.DefaultParams()
		c.edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want an error mentioning %q, got %v", name, c.want, err)
		}
	}
	p := types.DefaultParams()
	p.UrgencyValueLowPpm, p.UrgencyValueNormalPpm, p.UrgencyValueHighPpm, p.UrgencyValueCriticalPpm = 7, 7, 7, 7
	p.MaxInlinePayloadBytes, p.MaxComputeUnits, p.GasPerDrain = types.MaxInlinePayloadLimit, types.MaxComputeUnitsLimit, types.MaxGasPerDrain
	p.MaxAttempts = types.MaxAttemptsLimit
	if err := p.Validate(); err != nil {
		t.Fatalf("equal urgency values and limits exactly at the bounds must be valid: %v", err)
	}
}
