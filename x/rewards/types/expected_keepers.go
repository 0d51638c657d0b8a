package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKeeper resolves module account addresses.
type AccountKeeper interface {
	GetModuleAddress(moduleName string) sdk.AccAddress
}

// BankKeeper moves fees between requesters, escrow, workers and the pool.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, sender sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipient sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
}

// DistributionKeeper receives the protocol share of fees in the community pool.
type DistributionKeeper interface {
	FundCommunityPool(ctx context.Context, amount sdk.Coins, sender sdk.AccAddress) error
}

// ShardKeeper slashes worker bonds held by x/shard.
type ShardKeeper interface {
	// SlashBond moves fractionPpm of the worker's bond to the toModule
	// account and returns the amount slashed.
	SlashBond(ctx context.Context, worker sdk.AccAddress, fractionPpm uint32, toModule string) (sdk.Coin, error)
}
