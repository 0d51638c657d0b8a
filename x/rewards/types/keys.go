package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/rewards module.
	ModuleName = "rewards"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. Never renumber or reuse a prefix once released.
var (
	ParamsKey = collections.NewPrefix(0)
)
