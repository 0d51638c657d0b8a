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
	ParamsKey     = collections.NewPrefix(0)
	ProfilesKey   = collections.NewPrefix(1) // requester → Profile
	ReviewsKey    = collections.NewPrefix(2) // request id → Review (one per request)
	ScoreIndexKey = collections.NewPrefix(3) // (MaxUint32 − indexed score, requester): top profiles first
)

// MaxPowNonceBytes is the longest proof-of-work nonce a request may carry.
const MaxPowNonceBytes = 32

// Rating bounds of a review.
const (
	MinRating = 1
	MaxRating = 5
)
