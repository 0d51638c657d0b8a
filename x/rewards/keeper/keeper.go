package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/repshard/repshard/x/rewards/types"
)

// Keeper keeps escrow, worker earnings and the reward pool in consensus state.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService storetypes.KVStoreService
	authority    string
	accounts     types.AccountKeeper
	bank         types.BankKeeper
	distr        types.DistributionKeeper
	shards       types.ShardKeeper

	Schema collections.Schema
	Params collections.Item[types.Params]
}

// NewKeeper builds the x/rewards keeper. authority is the account allowed
// to change params (the gov module account); it must be a valid address.
func NewKeeper(
	cdc codec.BinaryCodec, storeService storetypes.KVStoreService, addressCodec address.Codec, authority string,
	accounts types.AccountKeeper, bank types.BankKeeper, distr types.DistributionKeeper, shards types.ShardKeeper,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("x/%s: invalid authority address %q: %v", types.ModuleName, authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		authority:    authority,
		accounts:     accounts,
		bank:         bank,
		distr:        distr,
		shards:       shards,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the address allowed to change params.
func (k Keeper) Authority() string { return k.authority }

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}
