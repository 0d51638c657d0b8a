package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/shard/types"
)

// InitGenesis validates gs and writes it to state, rebuilding every index
// (shards by class, drainable shards, workers by shard, free capacity, the
// unbonding queue) and the network totals from the shards and workers. A
// genesis that only sets params gets the default topology (one ACTIVE shard
// per class).
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if gs.HasNoTopology() {
		gs.SetDefaultTopology()
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	if err := k.ShardSeq.Set(ctx, gs.NextShardId); err != nil {
		return err
	}
	if err := k.Totals.Set(ctx, types.NetworkTotals{}); err != nil {
		return err
	}
	for _, s := range gs.Shards {
		if err := k.setShard(ctx, nil, s); err != nil {
			return err
		}
	}
	for _, w := range gs.Workers {
		addr, err := k.addressCodec.StringToBytes(w.Address)
		if err != nil {
			return err
		}
		if err := k.setWorker(ctx, addr, nil, w); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis reads the module state into a genesis state: params, shards
// in id order, workers in address order and the next shard id.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	next, err := k.ShardSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params, NextShardId: next, Shards: []types.Shard{}, Workers: []types.Worker{}}
	if err := k.Shards.Walk(ctx, nil, func(_ uint64, s types.Shard) (bool, error) {
		gs.Shards = append(gs.Shards, s)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Workers.Walk(ctx, nil, func(_ sdk.AccAddress, w types.Worker) (bool, error) {
		gs.Workers = append(gs.Workers, w)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
