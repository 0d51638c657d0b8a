package keeper

import (
	"bytes"
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// isOpen reports whether a status holds escrow and counts as open.
func isOpen(s types.RequestStatus) bool {
	return s == types.StatusQueued || s == types.StatusAssigned
}

// GetRequest returns a request record, or ErrRequestNotFound.
func (k Keeper) GetRequest(ctx context.Context, id uint64) (types.Request, error) {
	req, err := k.Requests.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return req, errorsmod.Wrapf(types.ErrRequestNotFound, "request %d", id)
	}
	return req, err
}

// saveRequest writes req and keeps everything derived from it in step: the
// query indexes, the queue, the deadline, expiry and finished indexes, the
// requester's open count, and x/shard's queued and
// in-flight accounting. old is the record as it was (nil for a new one).
// Every status change goes through here, so the accounting cannot drift.
// Index entries whose key did not change are left alone (a write costs gas).
func (k Keeper) saveRequest(ctx context.Context, old *types.Request, req types.Request) error {
	var before indexKeys
	if old != nil {
		var err error
		if before, err = k.indexKeysOf(*old); err != nil {
			return err
		}
	}
	after, err := k.indexKeysOf(req)
	if err != nil {
		return err
	}
	if err := k.applyIndexKeys(ctx, before, after); err != nil {
		return err
	}
	if err := k.updateShardAccounting(ctx, old, req); err != nil {
		return err
	}
	if err := k.updateOpenCounts(ctx, old, req); err != nil {
		return err
	}
	return k.Requests.Set(ctx, req.Id, req)
}

// indexKeys are the index entries of one record; nil pointers mean "no entry".
type indexKeys struct {
	requester, worker *collections.Pair[sdk.AccAddress, uint64]
	shard             *collections.Pair[uint64, uint64]
	queue             *collections.Triple[uint64, uint64, uint64]
	queueExpiry       *collections.Pair[uint64, uint64]
	deadline          *collections.Pair[uint64, uint64]
	finished          *collections.Pair[uint64, uint64]
}

func (k Keeper) indexKeysOf(r types.Request) (indexKeys, error) {
	requester, err := k.addressCodec.StringToBytes(r.Requester)
	if err != nil {
		return indexKeys{}, err
	}
	ks := indexKeys{
		requester: ptr(collections.Join(sdk.AccAddress(requester), r.Id)),
		shard:     ptr(collections.Join(r.ShardId, r.Id)),
	}
	if r.Worker != "" {
		worker, err := k.addressCodec.StringToBytes(r.Worker)
		if err != nil {
			return indexKeys{}, err
		}
		ks.worker = ptr(collections.Join(sdk.AccAddress(worker), r.Id))
	}
	switch r.Status {
	case types.StatusQueued:
		ks.queue = ptr(queueKey(r))
		ks.queueExpiry = ptr(collections.Join(uint64(r.QueueExpiryHeight), r.Id))
	case types.StatusAssigned:
		ks.deadline = ptr(collections.Join(uint64(r.DeadlineHeight), r.Id))
	default:
		ks.finished = ptr(collections.Join(uint64(r.FinishHeight), r.Id))
	}
	return ks, nil
}

// applyIndexKeys removes the entries of before that after lacks and adds
// those of after that before lacks.
func (k Keeper) applyIndexKeys(ctx context.Context, before, after indexKeys) error {
	return errors.Join(
		moveKey(ctx, k.ByRequester, before.requester, after.requester),
		moveKey(ctx, k.ByWorker, before.worker, after.worker),
		moveKey(ctx, k.ByShard, before.shard, after.shard),
		moveKey(ctx, k.Queue, before.queue, after.queue),
		moveKey(ctx, k.QueueExpiries, before.queueExpiry, after.queueExpiry),
		moveKey(ctx, k.Deadlines, before.deadline, after.deadline),
		moveKey(ctx, k.Finished, before.finished, after.finished),
	)
}

// moveKey replaces the entry from with to in set; nothing when they are
// equal. Keys are compared encoded: Pair and Triple hold pointers, so == on
// them compares identities, not values.
func moveKey[K any](ctx context.Context, set collections.KeySet[K], from, to *K) error {
	if from != nil && to != nil {
		a, err := collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), *from)
		if err != nil {
			return err
		}
		b, err := collections.EncodeKeyWithPrefix(nil, set.KeyCodec(), *to)
		if err != nil {
			return err
		}
		if bytes.Equal(a, b) {
			return nil
		}
	}
	if from != nil {
		if err := set.Remove(ctx, *from); err != nil {
			return err
		}
	}
	if to != nil {
		return set.Set(ctx, *to)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// index writes every index entry of a record (genesis import).
func (k Keeper) index(ctx context.Context, r types.Request) error {
	keys, err := k.indexKeysOf(r)
	if err != nil {
		return err
	}
	return k.applyIndexKeys(ctx, indexKeys{}, keys)
}

// unindex removes every index entry of a record (pruning).
func (k Keeper) unindex(ctx context.Context, r types.Request) error {
	keys, err := k.indexKeysOf(r)
	if err != nil {
		return err
	}
	return k.applyIndexKeys(ctx, keys, indexKeys{})
}

func queueKey(r types.Request) collections.Triple[uint64, uint64, uint64] {
	return collections.Join3(r.ShardId, uint64(r.DueHeight), r.Id)
}

// updateShardAccounting tells x/shard about units entering or leaving the
// shard's queue and a worker's in-flight work.
func (k Keeper) updateShardAccounting(ctx context.Context, old *types.Request, req types.Request) error {
	var oldStatus types.RequestStatus
	if old != nil {
		oldStatus = old.Status
	}
	if oldStatus == types.StatusQueued && req.Status == types.StatusAssigned && old.ShardId == req.ShardId {
		worker, err := k.addressCodec.StringToBytes(req.Worker)
		if err != nil {
			return err
		}
		return k.shards.AssignQueued(ctx, req.ShardId, worker, req.ComputeUnits)
	}
	if oldStatus == types.StatusQueued && req.Status == types.StatusQueued && old.ShardId != req.ShardId {
		// A queued request migrating to another shard (split or merge).
		if err := k.shards.RemoveQueued(ctx, old.ShardId, old.ComputeUnits); err != nil {
			return err
		}
		return k.shards.AddQueued(ctx, req.ShardId, req.ComputeUnits)
	}
	if oldStatus == types.StatusQueued && req.Status != types.StatusQueued {
		if err := k.shards.RemoveQueued(ctx, old.ShardId, old.ComputeUnits); err != nil {
			return err
		}
	}
	if oldStatus == types.StatusAssigned && req.Status != types.StatusAssigned {
		worker, err := k.addressCodec.StringToBytes(old.Worker)
		if err != nil {
			return err
		}
		outcome := reputationtypes.OutcomeExpired // back to the queue or expired
		switch req.Status {
		case types.StatusCompleted:
			outcome = reputationtypes.OutcomeCompleted
		case types.StatusFailed:
			outcome = reputationtypes.OutcomeFailed
		}
		if err := k.shards.RemoveInFlight(ctx, old.ShardId, worker, old.ComputeUnits, outcome); err != nil {
			return err
		}
	}
	if req.Status == types.StatusQueued && oldStatus != types.StatusQueued {
		if err := k.shards.AddQueued(ctx, req.ShardId, req.ComputeUnits); err != nil {
			return err
		}
	}
	if req.Status == types.StatusAssigned && oldStatus != types.StatusAssigned {
		worker, err := k.addressCodec.StringToBytes(req.Worker)
		if err != nil {
			return err
		}
		if err := k.shards.AddInFlight(ctx, req.ShardId, worker, req.ComputeUnits); err != nil {
			return err
		}
	}
	return nil
}

// updateOpenCounts keeps the requester's count of open requests. (The fees of
// open requests need no total: the x/rewards escrow account holds exactly them.)
func (k Keeper) updateOpenCounts(ctx context.Context, old *types.Request, req types.Request) error {
	wasOpen := old != nil && isOpen(old.Status)
	nowOpen := isOpen(req.Status)
	if wasOpen == nowOpen {
		return nil
	}
	requester, err := k.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return err
	}
	count, err := k.OpenRequests.Get(ctx, requester)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	if nowOpen {
		count++
	} else {
		count--
	}
	if count == 0 {
		return k.OpenRequests.Remove(ctx, requester)
	}
	return k.OpenRequests.Set(ctx, requester, count)
}

// Priority is the queue priority of a request in ppm:
// (w_rep·reputation + w_urg·urgency value + w_class·class value) / Σw.
func Priority(p types.Params, reputationPpm uint32, class shardtypes.ShardClass, urgency types.Urgency) uint32 {
	wr, wu, wc := uint64(p.PriorityWeightReputation), uint64(p.PriorityWeightUrgency), uint64(p.PriorityWeightClass)
	sum := wr*uint64(reputationPpm) + wu*uint64(UrgencyValue(p, urgency)) + wc*uint64(ClassValue(p, class))
	return uint32(sum / (wr + wu + wc))
}

// DueHeight is the queue key of a request submitted (or re-queued) at height
// with priority p: height + max_wait·(1 − p). The highest priority is due at
// once, the lowest max_wait blocks later, so no request starves.
func DueHeight(p types.Params, height int64, priorityPpm uint32) int64 {
	return height + int64(ppm.MulDiv(p.MaxWaitBlocks, uint64(ppm.Max-priorityPpm), ppm.Max))
}

// UrgencyValue is the governed value of an urgency, in ppm.
func UrgencyValue(p types.Params, u types.Urgency) uint32 {
	switch u {
	case types.UrgencyLow:
		return p.UrgencyValueLowPpm
	case types.UrgencyHigh:
		return p.UrgencyValueHighPpm
	case types.UrgencyCritical:
		return p.UrgencyValueCriticalPpm
	default:
		return p.UrgencyValueNormalPpm
	}
}

// ClassValue is the governed value of a request class, in ppm.
func ClassValue(p types.Params, c shardtypes.ShardClass) uint32 {
	switch c {
	case shardtypes.ClassHighPriority:
		return p.ClassWeightHighPriorityPpm
	case shardtypes.ClassLowPriority:
		return p.ClassWeightLowPriorityPpm
	case shardtypes.ClassDataIntensive:
		return p.ClassWeightDataIntensivePpm
	case shardtypes.ClassComputeIntensive:
		return p.ClassWeightComputeIntensivePpm
	default:
		return 0
	}
}
