package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/reputation module.
	ModuleName = "reputation"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. Never renumber or reuse a prefix once released.
var (
	ParamsKey   = collections.NewPrefix(0)
	ProfilesKey = collections.NewPrefix(1) // requester → Profile
)
