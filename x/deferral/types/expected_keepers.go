package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/outcome"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// ReputationKeeper is what x/deferral needs of x/reputation.
type ReputationKeeper interface {
	// Score returns the requester's score in ppm; the default score when the
	// requester has no profile.
	Score(ctx context.Context, requester sdk.AccAddress) (uint32, error)
	// RecordSubmission creates the profile at the first submission and
	// updates the request-rate EMA. O(1).
	RecordSubmission(ctx context.Context, requester sdk.AccAddress) error
	// RecordOutcome counts a finished request and updates the score. O(1).
	RecordOutcome(ctx context.Context, requester sdk.AccAddress, o outcome.Outcome) error
	// RecordProofOfWork checks the submission's optional proof-of-work nonce
	// (typed error when below the minimum difficulty) and updates the
	// requester's proof-of-work credit. After RecordSubmission. O(1).
	RecordProofOfWork(ctx context.Context, requester sdk.AccAddress, payloadHash, nonce []byte) error
	// RecordWorkerOutcome counts what one assignment says about the worker
	// on its worker profile and updates its worker score (which orders and
	// gates assignment in x/shard). O(1).
	RecordWorkerOutcome(ctx context.Context, worker sdk.AccAddress, o outcome.WorkerOutcome) error
}

// ShardKeeper is what x/deferral needs of x/shard.
type ShardKeeper interface {
	// Route picks the ACTIVE shard of class for a request (x/shard/README.md,
	// "Routing").
	Route(ctx context.Context, class shardtypes.ShardClass, reputationPpm uint32, requestID uint64) (shardtypes.RoutedShard, error)
	// GetShard returns a shard by id.
	GetShard(ctx context.Context, shardID uint64) (shardtypes.Shard, error)
	// DrainableShardIDs returns the ids of ACTIVE and DRAINING shards, in id
	// order (bounded by the shard caps of x/shard params).
	DrainableShardIDs(ctx context.Context) ([]uint64, error)
	// NetworkLoadPpm is the utilisation across all ACTIVE shards in ppm.
	NetworkLoadPpm(ctx context.Context) (uint32, error)
	// FindWorker returns an ACTIVE, unpaused worker of the shard, other than
	// the excluded ones, whose free capacity fits units and whose storage
	// covers dataBytes: from the highest worker-score tier down, best fit
	// within a tier (ties by address). It passes over at most
	// max_assignment_candidates workers (excluded or short of storage) and
	// then reports none: O(tiers · log n + that bound).
	FindWorker(ctx context.Context, shardID, units, dataBytes uint64, excluded []sdk.AccAddress) (sdk.AccAddress, bool, error)
	// WithDrainSession returns ctx carrying a drain session of the shard:
	// FindWorker on the shard reads an in-memory copy of its free-capacity
	// index, and x/shard keeps the worker, shard and totals records it reads
	// and writes in memory until FlushDrainSession writes them to the store.
	// FlushDrainSession must run before writes made under it are committed,
	// ResetDrainSession after they are rolled back.
	WithDrainSession(ctx sdk.Context, shardID uint64) sdk.Context
	FlushDrainSession(ctx context.Context) error
	ResetDrainSession(ctx context.Context)
	// MaxFreeCapacity returns the largest free capacity of an ACTIVE,
	// unpaused worker of the shard (0: nobody can take anything there).
	MaxFreeCapacity(ctx context.Context, shardID uint64) (uint64, error)
	// AssignQueued moves a queued request's units onto a worker of the shard
	// (the drain): RemoveQueued + AddInFlight in one shard write.
	AssignQueued(ctx context.Context, shardID uint64, worker sdk.AccAddress, units uint64) error
	// AddInFlight moves units onto a worker of the shard (assignment).
	AddInFlight(ctx context.Context, shardID uint64, worker sdk.AccAddress, units uint64) error
	// RemoveInFlight takes units off a worker and counts the outcome on the worker.
	RemoveInFlight(ctx context.Context, shardID uint64, worker sdk.AccAddress, units uint64, o outcome.Outcome) error
	// AddQueued and RemoveQueued keep the shard's queue counters.
	AddQueued(ctx context.Context, shardID, units uint64) error
	RemoveQueued(ctx context.Context, shardID, units uint64) error
	// PlanTopology runs x/shard's part of the topology step (load EMA,
	// split/merge, worker moves, all capped by x/shard params) and returns
	// the queue moves x/deferral carries out in this block.
	PlanTopology(ctx context.Context) ([]shardtypes.QueueMove, error)
	// QueueMoved reports how many queued requests a planned move moved.
	QueueMoved(ctx context.Context, fromShardID, moved uint64) error
}

// RewardsKeeper is what x/deferral needs of x/rewards.
type RewardsKeeper interface {
	// EscrowFee moves the fee from the requester into escrow.
	EscrowFee(ctx context.Context, requester sdk.AccAddress, fee sdk.Coin) error
	// Refund returns an escrowed fee to the requester.
	Refund(ctx context.Context, requester sdk.AccAddress, fee sdk.Coin) error
	// PayCompletion releases the escrowed fee of a completed request: the
	// protocol share to the community pool, the rest owed to the worker.
	PayCompletion(ctx context.Context, worker sdk.AccAddress, fee sdk.Coin, computeUnits, dataBytes uint64) error
	// SettleFailure splits the escrowed fee of a request that ended FAILED:
	// refundPpm back to the requester, the rest owed in equal parts to the
	// workers whose reports confirmed the failure.
	SettleFailure(ctx context.Context, requester sdk.AccAddress, workers []sdk.AccAddress, fee sdk.Coin, refundPpm uint32) error
	// PayCancellation settles the escrowed fee of a request cancelled while
	// workers held it: each worker is owed ⌊workerFee·sharePpm/1e6⌋ (no
	// points, no protocol share), the rest goes back to the requester. It
	// returns the total paid to the workers and the refund (their sum is fee).
	PayCancellation(ctx context.Context, requester sdk.AccAddress, workers []sdk.AccAddress, fee, workerFee sdk.Coin, sharePpm uint32) (paid, refunded sdk.Coin, err error)
	// RefundLessExitFee settles the fee of a request that left its queue
	// unserved by its requester's choice: exitFeePpm of it to the community
	// pool, the rest back to the requester.
	RefundLessExitFee(ctx context.Context, requester sdk.AccAddress, fee sdk.Coin, exitFeePpm uint32) (exitFee, refunded sdk.Coin, err error)
	// PenalizeDissent slashes slashPpm of the worker's bond: its replica
	// reported a hash other than the majority's.
	PenalizeDissent(ctx context.Context, worker sdk.AccAddress, slashPpm uint32) error
	// PenalizeExpiry slashes the worker's bond for an expired assignment.
	PenalizeExpiry(ctx context.Context, worker sdk.AccAddress) error
}
