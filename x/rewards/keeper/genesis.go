package keeper

import (
	"context"
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/rewards/types"
)

// InitGenesis validates gs and writes it to state. TotalOwed is derived from
// the owed entries. It writes nothing when gs is invalid.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	decode := func(s string) (sdk.AccAddress, error) {
		a, err := k.addressCodec.StringToBytes(s)
		if err != nil {
			return nil, fmt.Errorf("invalid worker address %q: %w", s, err)
		}
		return a, nil
	}
	// Decode every address before the first write.
	owed := make([]sdk.AccAddress, len(gs.Owed))
	slashed := make([]sdk.AccAddress, len(gs.Slashed))
	contrib := make([]sdk.AccAddress, len(gs.Contributions))
	for i, e := range gs.Owed {
		a, err := decode(e.Worker)
		if err != nil {
			return err
		}
		owed[i] = a
	}
	for i, e := range gs.Slashed {
		a, err := decode(e.Worker)
		if err != nil {
			return err
		}
		slashed[i] = a
	}
	for i, c := range gs.Contributions {
		a, err := decode(c.Worker)
		if err != nil {
			return err
		}
		contrib[i] = a
	}
	workerEpochs := make([]sdk.AccAddress, len(gs.WorkerEpochs))
	for i, w := range gs.WorkerEpochs {
		a, err := decode(w.Worker)
		if err != nil {
			return err
		}
		workerEpochs[i] = a
	}

	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	total := sdkmath.ZeroInt()
	for i, e := range gs.Owed {
		total = total.Add(e.Amount)
		if err := k.Owed.Set(ctx, owed[i], e.Amount); err != nil {
			return err
		}
	}
	if err := k.TotalOwed.Set(ctx, total); err != nil {
		return err
	}
	pool := gs.Pool
	if pool.IsNil() {
		pool = sdkmath.ZeroInt()
	}
	if err := k.Pool.Set(ctx, pool); err != nil {
		return err
	}
	for i, e := range gs.Slashed {
		if err := k.Slashed.Set(ctx, slashed[i], e.Amount); err != nil {
			return err
		}
	}
	for i, c := range gs.Contributions {
		if err := k.Contributions.Set(ctx, contrib[i], c); err != nil {
			return err
		}
	}
	open := gs.Epoch
	open.TotalPoints = zeroIfNil(open.TotalPoints)
	if open.Number == 0 {
		open = types.EpochState{Number: 1, TotalPoints: sdkmath.ZeroInt()}
	}
	if open.StartHeight < 1 {
		open.StartHeight = max(sdk.UnwrapSDKContext(ctx).BlockHeight(), 1)
	}
	if err := k.OpenEpoch.Set(ctx, open); err != nil {
		return err
	}
	for _, r := range gs.Epochs {
		if err := k.EpochRecords.Set(ctx, r.Number, normalizeRecord(r)); err != nil {
			return err
		}
	}
	for i, w := range gs.WorkerEpochs {
		if err := k.WorkerEpochs.Set(ctx, workerEpochs[i], normalizeWorkerEpoch(w)); err != nil {
			return err
		}
	}
	ledger := normalizeLedger(gs.Ledger)
	if ledger.Funded.IsZero() {
		ledger.Funded = pool
	}
	if err := k.Ledger.Set(ctx, ledger); err != nil {
		return err
	}
	return k.ItemQuarantine.Import(ctx, gs.QuarantinedItems, gs.ItemFailures)
}

// ExportGenesis reads the module state into a genesis state, in address order.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if gs.Pool, err = k.GetPool(ctx); err != nil {
		return nil, err
	}
	if gs.Owed, err = k.exportAmounts(ctx, "owed"); err != nil {
		return nil, err
	}
	if gs.Slashed, err = k.exportAmounts(ctx, "slashed"); err != nil {
		return nil, err
	}
	err = k.Contributions.Walk(ctx, nil, func(_ sdk.AccAddress, c types.Contribution) (bool, error) {
		gs.Contributions = append(gs.Contributions, c)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if gs.Epoch, err = k.GetOpenEpoch(ctx); err != nil {
		return nil, err
	}
	if err := k.EpochRecords.Walk(ctx, nil, func(_ uint64, r types.EpochRecord) (bool, error) {
		gs.Epochs = append(gs.Epochs, normalizeRecord(r))
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.WorkerEpochs.Walk(ctx, nil, func(_ sdk.AccAddress, w types.WorkerEpoch) (bool, error) {
		gs.WorkerEpochs = append(gs.WorkerEpochs, normalizeWorkerEpoch(w))
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.Ledger, err = k.GetLedger(ctx); err != nil {
		return nil, err
	}
	if gs.QuarantinedItems, gs.ItemFailures, err = k.ItemQuarantine.Export(ctx); err != nil {
		return nil, err
	}
	return gs, nil
}

func (k Keeper) exportAmounts(ctx context.Context, which string) ([]types.WorkerAmount, error) {
	m := k.Owed
	if which == "slashed" {
		m = k.Slashed
	}
	var out []types.WorkerAmount
	err := m.Walk(ctx, nil, func(a sdk.AccAddress, v sdkmath.Int) (bool, error) {
		s, err := k.addressCodec.BytesToString(a)
		if err != nil {
			return true, err
		}
		out = append(out, types.WorkerAmount{Worker: s, Amount: v})
		return false, nil
	})
	return out, err
}
