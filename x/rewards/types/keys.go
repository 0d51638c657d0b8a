package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/rewards module.
	ModuleName = "rewards"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
	// EscrowAccountName is the module account holding the fees of open
	// (QUEUED and ASSIGNED) requests; nothing else is ever in it.
	EscrowAccountName = ModuleName + "_escrow"
)

// Collection prefixes. Never renumber or reuse a prefix once released.
var (
	ParamsKey        = collections.NewPrefix(0)
	OwedKey          = collections.NewPrefix(1) // worker → fee earnings owed
	TotalOwedKey     = collections.NewPrefix(2) // Σ OwedKey
	PoolKey          = collections.NewPrefix(3) // undistributed reward pool
	ContributionsKey = collections.NewPrefix(4) // worker → cumulative contribution
	SlashedKey       = collections.NewPrefix(5) // worker → cumulative slashed amount
	EpochKey         = collections.NewPrefix(6) // the open epoch
	EpochRecordsKey  = collections.NewPrefix(7) // closed epoch number → record
	WorkerEpochsKey  = collections.NewPrefix(8) // worker → last-epoch record
	LedgerKey        = collections.NewPrefix(9) // the pool's book

	// ItemFailuresKey and QuarantinedItemsKey hold the EndBlock quarantine
	// (internal/quarantine): the consecutive failures of failing items, by
	// (step, item), and the quarantined items. Every module with EndBlock
	// items keeps its quarantine under this same pair of prefixes.
	ItemFailuresKey     = collections.NewPrefix(64)
	QuarantinedItemsKey = collections.NewPrefix(65)
)
