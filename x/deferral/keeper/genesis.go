package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/deferral/types"
)

// InitGenesis validates gs and writes it to state. The indexes, queue entries
// and open counts are rebuilt from the records (Requests.Set writes the
// RequestIndexes entries, index the others), less the entries of the
// quarantined items, which were out of their steps; x/shard's and x/rewards'
// own genesis carry their side of the accounting.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, req := range gs.Requests {
		if err := k.index(ctx, req); err != nil {
			return err
		}
		if err := k.updateOpenCounts(ctx, nil, req); err != nil {
			return err
		}
		if err := k.Requests.Set(ctx, req.Id, req); err != nil {
			return err
		}
	}
	if err := k.ItemQuarantine.Import(ctx, gs.QuarantinedItems, gs.ItemFailures); err != nil {
		return err
	}
	if err := k.quarantineIndexEntries(ctx, gs.QuarantinedItems); err != nil {
		return err
	}
	for _, d := range gs.ResultDelegates {
		requester, err := k.addressCodec.StringToBytes(d.Requester)
		if err != nil {
			return err
		}
		delegate, err := k.addressCodec.StringToBytes(d.Delegate)
		if err != nil {
			return err
		}
		if err := k.ResultDelegates.Set(ctx, requester, delegate); err != nil {
			return err
		}
	}
	if err := k.RequestSeq.Set(ctx, gs.NextRequestId); err != nil {
		return err
	}
	return k.DrainCursor.Set(ctx, gs.DrainCursor)
}

// ExportGenesis reads the module state into a genesis state (records in id order).
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	var requests []types.Request
	if err := k.Requests.Walk(ctx, nil, func(_ uint64, r types.Request) (bool, error) {
		requests = append(requests, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	next, err := k.RequestSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	cursor, err := k.DrainCursor.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	items, failures, err := k.ItemQuarantine.Export(ctx)
	if err != nil {
		return nil, err
	}
	var delegates []types.ResultDelegate
	if err := k.ResultDelegates.Walk(ctx, nil, func(requester sdk.AccAddress, delegate []byte) (bool, error) {
		r, err := k.addressCodec.BytesToString(requester)
		if err != nil {
			return true, err
		}
		d, err := k.addressCodec.BytesToString(delegate)
		if err != nil {
			return true, err
		}
		delegates = append(delegates, types.ResultDelegate{Requester: r, Delegate: d})
		return false, nil
	}); err != nil {
		return nil, err
	}
	return &types.GenesisState{
		Params: params, Requests: requests, NextRequestId: next, DrainCursor: cursor,
		QuarantinedItems: items, ItemFailures: failures, ResultDelegates: delegates,
	}, nil
}
