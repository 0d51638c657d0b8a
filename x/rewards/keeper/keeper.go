package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/rewards/types"
)

// Keeper keeps escrow, worker earnings and the reward pool in consensus state.
//
// Coins live in two module accounts:
//   - rewards_escrow holds the fees of open requests and nothing else;
//   - rewards holds what workers are owed (Owed, summed in TotalOwed) and the
//     undistributed reward pool (Pool).
//
// All amounts are in the bond denom and are integers; every split floors the
// share computed with ppm and gives the remainder to the other side, so no
// coin is ever minted or lost.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService storetypes.KVStoreService
	addressCodec address.Codec
	authority    string
	accounts     types.AccountKeeper
	bank         types.BankKeeper
	distr        types.DistributionKeeper
	shards       types.ShardKeeper

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Owed: worker → fee earnings owed (always positive; absent means zero).
	Owed collections.Map[sdk.AccAddress, sdkmath.Int]
	// TotalOwed = Σ Owed, kept so solvency is checked in O(1).
	TotalOwed collections.Item[sdkmath.Int]
	// Pool is the undistributed reward pool (slashed bonds, later funding).
	Pool collections.Item[sdkmath.Int]
	// Contributions: worker → cumulative contribution points.
	Contributions collections.Map[sdk.AccAddress, types.Contribution]
	// Slashed: worker → cumulative amount slashed from its bond.
	Slashed collections.Map[sdk.AccAddress, sdkmath.Int]
	// OpenEpoch is the open reward epoch and its points so far.
	OpenEpoch collections.Item[types.EpochState]
	// EpochRecords: closed epoch number → emission and reward per point.
	EpochRecords collections.Map[uint64, types.EpochRecord]
	// WorkerEpochs: worker → its last-epoch record (points not yet settled,
	// attempts and failures, settled epoch rewards not yet claimed).
	WorkerEpochs collections.Map[sdk.AccAddress, types.WorkerEpoch]
	// Ledger is the reward pool's book.
	Ledger collections.Item[types.Ledger]
	// ItemQuarantine holds the failure count of an epoch close that keeps
	// failing and the closes quarantined (quarantine.go).
	ItemQuarantine quarantine.Store
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
		cdc:            cdc,
		storeService:   storeService,
		addressCodec:   addressCodec,
		authority:      authority,
		accounts:       accounts,
		bank:           bank,
		distr:          distr,
		shards:         shards,
		Params:         collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Owed:           collections.NewMap(sb, types.OwedKey, "owed", sdk.AccAddressKey, sdk.IntValue),
		TotalOwed:      collections.NewItem(sb, types.TotalOwedKey, "total_owed", sdk.IntValue),
		Pool:           collections.NewItem(sb, types.PoolKey, "pool", sdk.IntValue),
		Contributions:  collections.NewMap(sb, types.ContributionsKey, "contributions", sdk.AccAddressKey, codec.CollValue[types.Contribution](cdc)),
		Slashed:        collections.NewMap(sb, types.SlashedKey, "slashed", sdk.AccAddressKey, sdk.IntValue),
		OpenEpoch:      collections.NewItem(sb, types.EpochKey, "open_epoch", codec.CollValue[types.EpochState](cdc)),
		EpochRecords:   collections.NewMap(sb, types.EpochRecordsKey, "epoch_records", collections.Uint64Key, codec.CollValue[types.EpochRecord](cdc)),
		WorkerEpochs:   collections.NewMap(sb, types.WorkerEpochsKey, "worker_epochs", sdk.AccAddressKey, codec.CollValue[types.WorkerEpoch](cdc)),
		Ledger:         collections.NewItem(sb, types.LedgerKey, "ledger", codec.CollValue[types.Ledger](cdc)),
		ItemQuarantine: quarantine.NewStore(sb, types.ItemFailuresKey, types.QuarantinedItemsKey, cdc, types.ModuleName),
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

// getInt reads an Int item, zero when unset.
func getInt(ctx context.Context, item collections.Item[sdkmath.Int]) (sdkmath.Int, error) {
	v, err := item.Get(ctx)
	if err != nil {
		if errorsIsNotFound(err) {
			return sdkmath.ZeroInt(), nil
		}
		return sdkmath.Int{}, err
	}
	return v, nil
}

// getMapInt reads an Int map entry, zero when absent.
func getMapInt(ctx context.Context, m collections.Map[sdk.AccAddress, sdkmath.Int], addr sdk.AccAddress) (sdkmath.Int, error) {
	v, err := m.Get(ctx, addr)
	if err != nil {
		if errorsIsNotFound(err) {
			return sdkmath.ZeroInt(), nil
		}
		return sdkmath.Int{}, err
	}
	return v, nil
}

// zeroIfNil returns v, or zero when v is nil (an unset Int field).
func zeroIfNil(v sdkmath.Int) sdkmath.Int {
	if v.IsNil() {
		return sdkmath.ZeroInt()
	}
	return v
}

// OwedTo returns the fee earnings owed to worker.
func (k Keeper) OwedTo(ctx context.Context, worker sdk.AccAddress) (sdkmath.Int, error) {
	return getMapInt(ctx, k.Owed, worker)
}

// SlashedFrom returns the total ever slashed from worker's bond.
func (k Keeper) SlashedFrom(ctx context.Context, worker sdk.AccAddress) (sdkmath.Int, error) {
	return getMapInt(ctx, k.Slashed, worker)
}

// GetTotalOwed returns Σ of what workers are owed.
func (k Keeper) GetTotalOwed(ctx context.Context) (sdkmath.Int, error) {
	return getInt(ctx, k.TotalOwed)
}

// GetPool returns the undistributed reward pool.
func (k Keeper) GetPool(ctx context.Context) (sdkmath.Int, error) { return getInt(ctx, k.Pool) }

// GetContribution returns worker's cumulative contribution (all zero when it
// never completed a request).
func (k Keeper) GetContribution(ctx context.Context, worker sdk.AccAddress) (types.Contribution, error) {
	c, err := k.Contributions.Get(ctx, worker)
	if err != nil {
		if errorsIsNotFound(err) {
			addr, err := k.addressCodec.BytesToString(worker)
			if err != nil {
				return types.Contribution{}, err
			}
			return types.Contribution{Worker: addr, TotalPoints: sdkmath.ZeroInt()}, nil
		}
		return types.Contribution{}, err
	}
	return c, nil
}

// EscrowAddress is the address of the escrow module account.
func (k Keeper) EscrowAddress() sdk.AccAddress {
	return k.accounts.GetModuleAddress(types.EscrowAccountName)
}

// RewardsAddress is the address of the rewards module account.
func (k Keeper) RewardsAddress() sdk.AccAddress { return k.accounts.GetModuleAddress(types.ModuleName) }

// EscrowBalance is the bank balance of the escrow account in the bond denom;
// it equals Σ fees of QUEUED and ASSIGNED requests (x/deferral checks that).
func (k Keeper) EscrowBalance(ctx context.Context) sdkmath.Int {
	return k.bank.GetBalance(ctx, k.EscrowAddress(), types.Denom).Amount
}

// RewardsBalance is the bank balance of the rewards account in the bond denom.
func (k Keeper) RewardsBalance(ctx context.Context) sdkmath.Int {
	return k.bank.GetBalance(ctx, k.RewardsAddress(), types.Denom).Amount
}
