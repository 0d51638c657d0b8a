package keeper

import (
	"errors"

	"cosmossdk.io/collections"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

func isNotFound(err error) bool { return errors.Is(err, collections.ErrNotFound) }

// emit emits a typed event.
func emit(ctx sdk.Context, ev proto.Message) error {
	return ctx.EventManager().EmitTypedEvent(ev)
}

// collectionsShardRange ranges over one shard's queue.
func collectionsShardRange(shardID uint64) collections.Ranger[collections.Triple[uint64, uint64, uint64]] {
	return collections.NewPrefixedTripleRange[uint64, uint64, uint64](shardID)
}
