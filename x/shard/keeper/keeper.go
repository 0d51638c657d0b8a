package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	storetypes "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/quarantine"
	"github.com/repshard/repshard/x/shard/types"
)

// FreeKey is a FreeCapacity key: (shard id, inverted tier, free units,
// worker address), inverted tier = MaxWorkerTier − score_ppm / 100_000 so
// that the highest tier sorts first.
type FreeKey = collections.Quad[uint64, uint32, uint64, sdk.AccAddress]

// Keeper keeps workers and the shard topology in consensus state.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService storetypes.KVStoreService
	addressCodec address.Codec
	authority    string
	bank         types.BankKeeper
	// hooks is shared by every copy of the keeper (set once by the app).
	hooks *keeperHooks

	Schema collections.Schema
	Params collections.Item[types.Params]

	// Shards holds every shard by id (ACTIVE, DRAINING and RETIRED).
	Shards collections.Map[uint64, types.Shard]
	// ShardSeq is the id of the next new shard.
	ShardSeq collections.Sequence
	// ShardsByClass indexes the ACTIVE shards: (class, shard id).
	ShardsByClass collections.KeySet[collections.Pair[int32, uint64]]
	// DrainableShards holds the ids of ACTIVE and DRAINING shards.
	DrainableShards collections.KeySet[uint64]

	// Workers holds every registered worker (ACTIVE and UNBONDING) by address.
	Workers collections.Map[sdk.AccAddress, types.Worker]
	// WorkersByShard indexes the workers attached to a shard: (shard id, address).
	WorkersByShard collections.KeySet[collections.Pair[uint64, sdk.AccAddress]]
	// FreeCapacity maps (shard id, inverted tier, free units, address) to the
	// worker's storage_bytes, for every ACTIVE worker that is not paused and
	// has free units > 0. Within a shard the keys run from the highest score
	// tier down and, within a tier, from the smallest free capacity up: the
	// best fit of a tier is the first key at or after (shard, tier, units).
	// The value lets FindWorker check storage without reading the worker.
	FreeCapacity collections.Map[FreeKey, uint64]
	// UnbondingQueue holds (release height, address) of UNBONDING workers
	// whose bond release is scheduled.
	UnbondingQueue collections.KeySet[collections.Pair[int64, sdk.AccAddress]]
	// Totals sums capacity and load units of ACTIVE shards.
	Totals collections.Item[types.NetworkTotals]

	// Migrations holds the migrations under way by from-shard id: at most
	// one per shard, at most one per class at a time in practice (cooldown).
	Migrations collections.Map[uint64, types.Migration]
	// Children indexes splits: (parent id, child id).
	Children collections.KeySet[collections.Pair[uint64, uint64]]
	// TopologyLog keeps the last TopologyLogSize topology changes by seq.
	TopologyLog collections.Map[uint64, types.TopologyChange]
	// TopologyLogSeq is the seq of the next topology change.
	TopologyLogSeq collections.Sequence
	// ClassTopology holds each class's last split/merge height.
	ClassTopology collections.Map[int32, types.ClassTopology]
	// TopologyCursor is the shard id the next block's topology checks start
	// from (round robin over ACTIVE and DRAINING shards).
	TopologyCursor collections.Item[uint64]
	// ItemQuarantine holds the failure counts of EndBlock items that keep
	// failing and the items quarantined (quarantine.go).
	ItemQuarantine quarantine.Store
}

// NewKeeper builds the x/shard keeper. authority is the account allowed
// to change params (the gov module account); it must be a valid address.
func NewKeeper(cdc codec.BinaryCodec, storeService storetypes.KVStoreService, addressCodec address.Codec, authority string, bank types.BankKeeper) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Sprintf("x/%s: invalid authority address %q: %v", types.ModuleName, authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		authority:    authority,
		bank:         bank,
		hooks:        &keeperHooks{},
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Shards: collections.NewMap(sb, types.ShardsKey, "shards",
			collections.Uint64Key, codec.CollValue[types.Shard](cdc)),
		ShardSeq: collections.NewSequence(sb, types.ShardSeqKey, "shard_seq"),
		ShardsByClass: collections.NewKeySet(sb, types.ShardsByClassKey, "shards_by_class",
			collections.NamedPairKeyCodec("class", collections.Int32Key, "shard_id", collections.Uint64Key)),
		DrainableShards: collections.NewKeySet(sb, types.DrainableShardsKey, "drainable_shards", collections.Uint64Key),
		Workers: collections.NewMap(sb, types.WorkersKey, "workers",
			sdk.AccAddressKey, codec.CollValue[types.Worker](cdc)),
		WorkersByShard: collections.NewKeySet(sb, types.WorkersByShardKey, "workers_by_shard",
			collections.NamedPairKeyCodec("shard_id", collections.Uint64Key, "worker", sdk.AccAddressKey)),
		FreeCapacity: collections.NewMap(sb, types.FreeCapacityKey, "free_capacity",
			collections.NamedQuadKeyCodec("shard_id", collections.Uint64Key, "inverted_tier", collections.Uint32Key,
				"free_units", collections.Uint64Key, "worker", sdk.AccAddressKey),
			collections.Uint64Value),
		UnbondingQueue: collections.NewKeySet(sb, types.UnbondingQueueKey, "unbonding_queue",
			collections.NamedPairKeyCodec("release_height", collections.Int64Key, "worker", sdk.AccAddressKey)),
		Totals: collections.NewItem(sb, types.NetworkTotalsKey, "network_totals", codec.CollValue[types.NetworkTotals](cdc)),
		Migrations: collections.NewMap(sb, types.MigrationsKey, "migrations",
			collections.Uint64Key, codec.CollValue[types.Migration](cdc)),
		Children: collections.NewKeySet(sb, types.ChildrenKey, "children",
			collections.NamedPairKeyCodec("parent", collections.Uint64Key, "child", collections.Uint64Key)),
		TopologyLog: collections.NewMap(sb, types.TopologyLogKey, "topology_log",
			collections.Uint64Key, codec.CollValue[types.TopologyChange](cdc)),
		TopologyLogSeq: collections.NewSequence(sb, types.TopologyLogSeqKey, "topology_log_seq"),
		ClassTopology: collections.NewMap(sb, types.ClassTopologyKey, "class_topology",
			collections.Int32Key, codec.CollValue[types.ClassTopology](cdc)),
		TopologyCursor: collections.NewItem(sb, types.TopologyCursorKey, "topology_cursor", collections.Uint64Value),
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

// keeperHooks holds the callbacks the app wires after construction.
type keeperHooks struct {
	bondRelease types.BondReleaseHook
	standing    types.StandingKeeper
}

// SetStandingKeeper registers where RegisterWorker reads the standing of a
// worker that registers (x/reputation, which is built after x/shard). Every
// copy of the keeper sees it. It must be called exactly once, at wiring: it
// panics on nil or on a second call.
func (k Keeper) SetStandingKeeper(r types.StandingKeeper) {
	if r == nil {
		panic(fmt.Sprintf("x/%s: SetStandingKeeper(nil)", types.ModuleName))
	}
	if k.hooks.standing != nil {
		panic(fmt.Sprintf("x/%s: the standing keeper is already set", types.ModuleName))
	}
	k.hooks.standing = r
}

// SetBondReleaseHook registers the hook consulted before a bond is returned
// (x/rewards, which itself calls x/shard, so it is wired after both exist).
// Every copy of the keeper sees it. It must be called exactly once, at
// wiring: it panics on nil or on a second call.
func (k Keeper) SetBondReleaseHook(h types.BondReleaseHook) {
	if h == nil {
		panic(fmt.Sprintf("x/%s: SetBondReleaseHook(nil)", types.ModuleName))
	}
	if k.hooks.bondRelease != nil {
		panic(fmt.Sprintf("x/%s: the bond-release hook is already set", types.ModuleName))
	}
	k.hooks.bondRelease = h
}
