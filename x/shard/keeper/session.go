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
//     FlushDrainSession, the last value of each record once. Everything else
//     those writes do — the index entries (free capacity, workers by shard,
//     unbonding queue, shards by class, drainable shards), the checks that
//     can fail — is done at once, as without a session.
//
// So the store's records lag until the flush, and nothing may read them but
// through getWorker, getShard and getTotals (every x/shard function does)
// in the meantime. The caller flushes before its writes are committed, and
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

type sessionWorker struct {
	addr sdk.AccAddress
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
		if r.dirty {
			if err := k.Workers.Set(ctx, r.addr, r.cur); err != nil {
				return err
			}
			r.dirty = false
		}
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
	r := &sessionWorker{addr: append(sdk.AccAddress(nil), addr...), sessionRecord: sessionRecord[types.Worker]{cur: w}}
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
