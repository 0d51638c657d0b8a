package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

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
		if s.ParentId != 0 {
			if err := k.Children.Set(ctx, collections.Join(s.ParentId, s.Id)); err != nil {
				return err
			}
		}
	}
	for _, m := range gs.Migrations {
		if err := k.Migrations.Set(ctx, m.FromShardId, m); err != nil {
			return err
		}
	}
	var lastSeq uint64
	for _, c := range gs.TopologyChanges {
		if err := k.TopologyLog.Set(ctx, c.Seq, c); err != nil {
			return err
		}
		lastSeq = max(lastSeq, c.Seq)
	}
	if err := k.TopologyLogSeq.Set(ctx, lastSeq); err != nil {
		return err
	}
	if gs.TopologyCursor != 0 {
		if err := k.TopologyCursor.Set(ctx, gs.TopologyCursor); err != nil {
			return err
		}
	}
	for _, ct := range gs.ClassTopology {
		if err := k.ClassTopology.Set(ctx, int32(ct.Class), ct); err != nil {
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
	if err := k.ItemQuarantine.Import(ctx, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	return k.quarantineIndexEntries(ctx, gs.QuarantinedItems)
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
	cursor, err := k.TopologyCursor.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	gs.TopologyCursor = cursor
	gs.Migrations, gs.TopologyChanges, gs.ClassTopology = []types.Migration{}, []types.TopologyChange{}, []types.ClassTopology{}
	if err := k.Migrations.Walk(ctx, nil, func(_ uint64, m types.Migration) (bool, error) {
		gs.Migrations = append(gs.Migrations, m)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.TopologyLog.Walk(ctx, nil, func(_ uint64, c types.TopologyChange) (bool, error) {
		gs.TopologyChanges = append(gs.TopologyChanges, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.ClassTopology.Walk(ctx, nil, func(_ int32, ct types.ClassTopology) (bool, error) {
		gs.ClassTopology = append(gs.ClassTopology, ct)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.QuarantinedItems, gs.ItemFailures, err = k.ItemQuarantine.Export(ctx); err != nil {
		return nil, err
	}
	return gs, nil
}
