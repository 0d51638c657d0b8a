package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/shard/types"
)

// A drain session serves x/deferral's queue drain of one shard: thousands of
// assignments a block, each of which reads and rewrites the same worker
// record, the same shard record and the network totals (AssignQueued), and
// seeks the shard's free-capacity index (FindWorker).
//
// Under a context from WithDrainSession:
//
//   - FindWorker on the session's shard reads an in-memory copy of the
//     shard's free-capacity index (freeCache);
//   - the Workers, Shards and Totals records are read from the store once
//     and kept decoded (getWorker, getShard, getTotals), and their writes
//     (setWorker, setShard) are kept in memory and written to the store at
//     FlushDrainSession, the last value of each record once, with the
//     worker's free-capacity entry. Everything else those writes do — the
//     other index entries (workers by shard, unbonding queue, shards by
//     class, drainable shards), the checks that can fail — is done at once,
//     as without a session.
//
// So the store's records and free-capacity entries lag until the flush:
// the records are read only through getWorker, getShard and getTotals
// (every x/shard function does), and whatever reads FreeCapacity from the
// store (FindWorker on another shard, MaxFreeCapacity, filling the copy)
// flushes first. The caller flushes before its writes are committed, and
// resets the session (ResetDrainSession) whenever writes made under it are
// rolled back: the records and the index copy are then read again from the
// store. x/deferral's drain does both through isolate.Group's hooks.
type drainSession struct {
	free freeCache
	// The records read under the session, in the order first read (the
	// order of the flush), and by key.
	workers []*sessionWorker
	workerI map[string]*sessionWorker
	shards  []*sessionRecord[types.Shard]
	shardI  map[uint64]*sessionRecord[types.Shard]
	// totals is nil until read.
	totals *sessionRecord[types.NetworkTotals]
}

// sessionRecord is a record as it is now (cur); dirty says it differs from
// the store's and is written at the flush.
type sessionRecord[T any] struct {
	cur   T
	dirty bool
}

// sessionWorker is a worker's record; stored is the record as the store has
// it, whose free-capacity entry the store has too.
type sessionWorker struct {
	addr   sdk.AccAddress
	stored types.Worker
	sessionRecord[types.Worker]
}

type sessionKey struct{}

// WithDrainSession returns ctx carrying a drain session for shardID (see
// drainSession).
func (k Keeper) WithDrainSession(ctx sdk.Context, shardID uint64) sdk.Context {
	return ctx.WithValue(sessionKey{}, &drainSession{
		free:    freeCache{shardID: shardID},
		workerI: map[string]*sessionWorker{},
		shardI:  map[uint64]*sessionRecord[types.Shard]{},
	})
}

// FlushDrainSession writes the records changed under the session ctx carries
// (if any) to ctx's store.
func (k Keeper) FlushDrainSession(ctx context.Context) error {
	s := sessionOf(ctx)
	if s == nil {
		return nil
	}
	for _, r := range s.workers {
		if !r.dirty {
			continue
		}
		was, wasOK := freeKey(r.addr, r.stored)
		is, isOK := freeKey(r.addr, r.cur)
		if !was.same(wasOK, is, isOK) {
			if wasOK {
				if err := k.FreeCapacity.Remove(ctx, was.key); err != nil {
					return err
				}
			}
			if isOK {
				if err := k.FreeCapacity.Set(ctx, is.key, is.storage); err != nil {
					return err
				}
			}
		}
		if err := k.Workers.Set(ctx, r.addr, r.cur); err != nil {
			return err
		}
		r.stored, r.dirty = copyWorker(r.cur), false
	}
	for _, r := range s.shards {
		if r.dirty {
			if err := k.Shards.Set(ctx, r.cur.Id, r.cur); err != nil {
				return err
			}
			r.dirty = false
		}
	}
	if r := s.totals; r != nil && r.dirty {
		if err := k.Totals.Set(ctx, r.cur); err != nil {
			return err
		}
		r.dirty = false
	}
	return nil
}

// ResetDrainSession forgets what the session ctx carries (if any) holds —
// the records, written or not, and the index copy — after writes made under
// it were rolled back: everything is read again from the store.
func (k Keeper) ResetDrainSession(ctx context.Context) {
	s := sessionOf(ctx)
	if s == nil {
		return
	}
	s.free.reset()
	s.workers, s.shards, s.totals = nil, nil, nil
	clear(s.workerI)
	clear(s.shardI)
}

func sessionOf(ctx context.Context) *drainSession {
	s, _ := ctx.Value(sessionKey{}).(*drainSession)
	return s
}

// sessionWorkerOf returns the session's record of the worker at addr,
// reading it from the store the first time; nil, with the store's error,
// when the store has none.
func (k Keeper) sessionWorkerOf(ctx context.Context, s *drainSession, addr sdk.AccAddress) (*sessionWorker, error) {
	if r, ok := s.workerI[string(addr)]; ok {
		return r, nil
	}
	w, err := k.Workers.Get(ctx, addr)
	if err != nil {
		return nil, err
	}
	r := &sessionWorker{addr: append(sdk.AccAddress(nil), addr...), stored: copyWorker(w), sessionRecord: sessionRecord[types.Worker]{cur: w}}
	s.workers = append(s.workers, r)
	s.workerI[string(addr)] = r
	return r, nil
}

// sessionShardOf is sessionWorkerOf for a shard.
func (k Keeper) sessionShardOf(ctx context.Context, s *drainSession, id uint64) (*sessionRecord[types.Shard], error) {
	if r, ok := s.shardI[id]; ok {
		return r, nil
	}
	sh, err := k.Shards.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &sessionRecord[types.Shard]{cur: sh}
	s.shards = append(s.shards, r)
	s.shardI[id] = r
	return r, nil
}

// sessionTotalsOf is sessionWorkerOf for the network totals (zero when the
// store has none).
func (k Keeper) sessionTotalsOf(ctx context.Context, s *drainSession) (*sessionRecord[types.NetworkTotals], error) {
	if s.totals != nil {
		return s.totals, nil
	}
	t, err := k.Totals.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	s.totals = &sessionRecord[types.NetworkTotals]{cur: t}
	return s.totals, nil
}

// copyWorker returns w with its own classes slice: a record handed out of
// the session must not share memory the session keeps.
func copyWorker(w types.Worker) types.Worker {
	w.Classes = append([]types.ShardClass(nil), w.Classes...)
	return w
}

// forgetWorker drops the session's record of a worker whose record is
// removed from the store.
func (s *drainSession) forgetWorker(addr sdk.AccAddress) {
	if _, ok := s.workerI[string(addr)]; !ok {
		return
	}
	delete(s.workerI, string(addr))
	for i, r := range s.workers {
		if r.addr.Equals(addr) {
			s.workers = append(s.workers[:i], s.workers[i+1:]...)
			return
		}
	}
}
