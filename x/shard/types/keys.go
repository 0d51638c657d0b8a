package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/shard module. Its module account holds
	// the worker bonds.
	ModuleName = "shard"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. Never renumber or reuse a prefix once released.
var (
	// ParamsKey holds the module params.
	ParamsKey = collections.NewPrefix(0)
	// ShardsKey holds Map[shardID]Shard.
	ShardsKey = collections.NewPrefix(1)
	// ShardSeqKey holds the next shard id.
	ShardSeqKey = collections.NewPrefix(2)
	// ShardsByClassKey holds KeySet[(class, shardID)] of ACTIVE shards.
	ShardsByClassKey = collections.NewPrefix(3)
	// DrainableShardsKey holds KeySet[shardID] of ACTIVE and DRAINING shards.
	DrainableShardsKey = collections.NewPrefix(4)
	// WorkersKey holds Map[address]Worker.
	WorkersKey = collections.NewPrefix(5)
	// WorkersByShardKey holds KeySet[(shardID, address)] of attached workers.
	WorkersByShardKey = collections.NewPrefix(6)
	// Prefix 7 held the first free-capacity index, KeySet[(shardID,
	// freeUnits, address)], before assignment was ordered by worker score;
	// it is retired (FreeCapacityKey below replaces it) and never reused.
	// UnbondingQueueKey holds KeySet[(releaseHeight, address)].
	UnbondingQueueKey = collections.NewPrefix(8)
	// NetworkTotalsKey holds the NetworkTotals of ACTIVE shards.
	NetworkTotalsKey = collections.NewPrefix(9)
	// MigrationsKey holds Map[fromShardID]Migration of the migrations under way.
	MigrationsKey = collections.NewPrefix(10)
	// ChildrenKey holds KeySet[(parentID, childID)] of splits.
	ChildrenKey = collections.NewPrefix(11)
	// TopologyLogKey holds Map[seq]TopologyChange, the recent changes.
	TopologyLogKey = collections.NewPrefix(12)
	// TopologyLogSeqKey holds the seq of the next topology change.
	TopologyLogSeqKey = collections.NewPrefix(13)
	// ClassTopologyKey holds Map[class]ClassTopology (last change height).
	ClassTopologyKey = collections.NewPrefix(14)
	// TopologyCursorKey holds the shard id the next topology check starts from.
	TopologyCursorKey = collections.NewPrefix(15)
	// FreeCapacityKey holds Map[(shardID, inverted tier, freeUnits,
	// address)]storageBytes of the ACTIVE, unpaused workers with free
	// capacity (see the Keeper's FreeCapacity).
	FreeCapacityKey = collections.NewPrefix(16)

	// ItemFailuresKey and QuarantinedItemsKey hold the EndBlock quarantine
	// (internal/quarantine): the consecutive failures of failing items, by
	// (step, item), and the quarantined items. Every module with EndBlock
	// items keeps its quarantine under this same pair of prefixes.
	ItemFailuresKey     = collections.NewPrefix(64)
	QuarantinedItemsKey = collections.NewPrefix(65)
)

// Worker score tiers: assignment tries the workers of the highest tier,
// score_ppm / WorkerTierWidthPpm, first (0..MaxWorkerTier).
const (
	WorkerTierWidthPpm = 100_000
	MaxWorkerTier      = 1_000_000 / WorkerTierWidthPpm
)

// WorkerTier is the assignment tier of a worker score (0..MaxWorkerTier).
func WorkerTier(scorePpm uint32) uint32 { return min(scorePpm, 1_000_000) / WorkerTierWidthPpm }

// TopologyLogSize is how many recent topology changes the log keeps; each
// new entry past it deletes the oldest one.
const TopologyLogSize = 256
