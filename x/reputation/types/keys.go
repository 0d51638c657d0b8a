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

	WorkerProfilesKey    = collections.NewPrefix(4) // worker → WorkerProfile
	WorkerScoreIndexKey  = collections.NewPrefix(5) // (MaxUint32 − indexed score, worker): top workers first
	WorkerRatingsKey     = collections.NewPrefix(6) // request id → WorkerRating (one per request)
	WorkerResumeQueueKey = collections.NewPrefix(7) // (resume height, worker) of paused workers

	// ItemFailuresKey and QuarantinedItemsKey hold the EndBlock quarantine
	// (internal/quarantine): the consecutive failures of failing items, by
	// (step, item), and the quarantined items. Every module with EndBlock
	// items keeps its quarantine under this same pair of prefixes.
	ItemFailuresKey     = collections.NewPrefix(64)
	QuarantinedItemsKey = collections.NewPrefix(65)
)

// WorkerTierWidthPpm is the width of one assignment tier of x/shard (tier =
// score / 100_000): min_worker_score_ppm is a multiple of it, so the pause
// threshold is a tier boundary.
const WorkerTierWidthPpm = 100_000

// MaxPowNonceBytes is the longest proof-of-work nonce a request may carry.
const MaxPowNonceBytes = 32

// Rating bounds of a review.
const (
	MinRating = 1
	MaxRating = 5
)
