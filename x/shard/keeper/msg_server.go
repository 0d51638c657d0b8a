package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/x/shard/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/shard Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// UpdateParams replaces the params; only the authority (gov) may do it.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(types.ErrUnauthorized, "expected %s, got %s", m.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := m.checkShardCountsWithin(ctx, msg.Params); err != nil {
		return nil, err
	}
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// checkShardCountsWithin refuses params whose [min_shards_per_class,
// max_shards_per_class] excludes the number of ACTIVE shards a class has now:
// splits and merges only move a class within the bounds, never back into
// them, so such params would leave it outside for good. Reads the ACTIVE
// index of the four classes (at most 4 × the current max entries).
func (m msgServer) checkShardCountsWithin(ctx context.Context, p types.Params) error {
	for _, class := range types.AllClasses {
		ids, err := m.activeShardIDsOfClass(ctx, class)
		if err != nil {
			return err
		}
		if n := uint64(len(ids)); n < uint64(p.MinShardsPerClass) || n > uint64(p.MaxShardsPerClass) {
			return errorsmod.Wrapf(types.ErrInvalidParams,
				"class %s has %d ACTIVE shards, outside the proposed [min_shards_per_class %d, max_shards_per_class %d]",
				class, n, p.MinShardsPerClass, p.MaxShardsPerClass)
		}
	}
	return nil
}

// workerAddress decodes a worker address given in a msg.
func (m msgServer) workerAddress(s string) (sdk.AccAddress, error) {
	addr, err := m.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid worker address %q: %s", s, err)
	}
	if len(addr) == 0 {
		return nil, sdkerrors.ErrInvalidAddress.Wrap("empty worker address")
	}
	return addr, nil
}

func checkCapacity(units uint64) error {
	if units == 0 || units > types.MaxWorkerCapacityUnits {
		return errorsmod.Wrapf(types.ErrInvalidCapacity, "capacity_units %d not in [1, %d]", units, types.MaxWorkerCapacityUnits)
	}
	return nil
}

// RegisterWorker registers the signer as a worker: it escrows the bond in the
// x/shard module account and joins, among the ACTIVE shards of its classes
// with fewer than max_workers_per_shard ACTIVE workers, the one with the least
// capacity (ties by lowest shard id). Everything is checked before anything
// is written or moved.
func (m msgServer) RegisterWorker(ctx context.Context, msg *types.MsgRegisterWorker) (*types.MsgRegisterWorkerResponse, error) {
	addr, err := m.workerAddress(msg.Worker)
	if err != nil {
		return nil, err
	}
	if err := types.ValidateWorkerClasses(msg.Classes); err != nil {
		return nil, err
	}
	if err := checkCapacity(msg.CapacityUnits); err != nil {
		return nil, err
	}
	if err := types.ValidateEndpoint(msg.Endpoint); err != nil {
		return nil, err
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := msg.Bond.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidBond, err.Error())
	}
	if msg.Bond.Denom != params.MinWorkerBond.Denom {
		return nil, errorsmod.Wrapf(types.ErrInvalidBond, "bond denom %q, expected %q", msg.Bond.Denom, params.MinWorkerBond.Denom)
	}
	if msg.Bond.Amount.LT(params.MinWorkerBond.Amount) {
		return nil, errorsmod.Wrapf(types.ErrBondTooSmall, "bond %s is below the minimum %s", msg.Bond, params.MinWorkerBond)
	}
	if has, err := m.Workers.Has(ctx, addr); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrWorkerExists, "worker %s", msg.Worker)
	}

	var target types.Shard
	found := false
	for _, class := range msg.Classes {
		shards, err := m.activeShardsOfClass(ctx, class)
		if err != nil {
			return nil, err
		}
		for _, s := range shards {
			if s.WorkerCount >= params.MaxWorkersPerShard {
				continue
			}
			if !found || s.CapacityUnits < target.CapacityUnits ||
				(s.CapacityUnits == target.CapacityUnits && s.Id < target.Id) {
				target, found = s, true
			}
		}
	}
	if !found {
		return nil, errorsmod.Wrapf(types.ErrNoShardAvailable, "classes %v: every ACTIVE shard has %d workers",
			msg.Classes, params.MaxWorkersPerShard)
	}
	ns := target
	if ns.CapacityUnits, err = addU64(target.CapacityUnits, msg.CapacityUnits); err != nil {
		return nil, err
	}
	ns.WorkerCount++

	if err := m.bank.SendCoinsFromAccountToModule(ctx, addr, types.ModuleName, sdk.NewCoins(msg.Bond)); err != nil {
		return nil, err
	}
	w := types.Worker{
		Address:       msg.Worker,
		Bond:          msg.Bond,
		Classes:       append([]types.ShardClass(nil), msg.Classes...),
		CapacityUnits: msg.CapacityUnits,
		StorageBytes:  msg.StorageBytes,
		Endpoint:      msg.Endpoint,
		ShardId:       target.Id,
		Status:        types.WorkerActive,
		// x/reputation tells the worker's standing at each outcome or rating
		// (SetWorkerStanding); a worker without a profile ranks as new.
		ScorePpm: params.NewWorkerScorePpm,
	}
	if m.hooks.standing != nil {
		// A worker that registers again (after leaving) keeps the score and
		// the pause it left with: leaving and coming back clears nothing.
		score, eligible, known, err := m.hooks.standing.WorkerStanding(ctx, addr)
		if err != nil {
			return nil, err
		}
		if known {
			w.ScorePpm, w.Paused = score, !eligible
		}
	}
	if err := m.setWorker(ctx, addr, nil, w); err != nil {
		return nil, err
	}
	if err := m.setShard(ctx, &target, ns); err != nil {
		return nil, err
	}
	if err := events.Emit(ctx, &types.EventWorkerRegistered{
		Worker: msg.Worker, ShardId: target.Id, Classes: w.Classes,
		CapacityUnits: w.CapacityUnits, StorageBytes: w.StorageBytes, Bond: w.Bond, Endpoint: w.Endpoint,
	}); err != nil {
		return nil, err
	}
	return &types.MsgRegisterWorkerResponse{ShardId: target.Id}, nil
}

// UpdateWorker changes an ACTIVE worker's capacity and storage; the capacity
// may not drop below the units in flight.
func (m msgServer) UpdateWorker(ctx context.Context, msg *types.MsgUpdateWorker) (*types.MsgUpdateWorkerResponse, error) {
	addr, err := m.workerAddress(msg.Worker)
	if err != nil {
		return nil, err
	}
	if err := checkCapacity(msg.CapacityUnits); err != nil {
		return nil, err
	}
	if msg.ClearEndpoint && msg.Endpoint != "" {
		return nil, errorsmod.Wrap(types.ErrInvalidEndpoint, "set an endpoint or clear it, not both")
	}
	if err := types.ValidateEndpoint(msg.Endpoint); err != nil {
		return nil, err
	}
	w, err := m.getWorker(ctx, addr)
	if err != nil {
		return nil, err
	}
	if w.Status != types.WorkerActive {
		return nil, errorsmod.Wrapf(types.ErrWorkerNotActive, "worker %s is %s", msg.Worker, w.Status)
	}
	if msg.CapacityUnits < w.InFlightUnits {
		return nil, errorsmod.Wrapf(types.ErrCapacityBelowInFlight, "capacity %d < %d units in flight", msg.CapacityUnits, w.InFlightUnits)
	}
	s, err := m.getShard(ctx, w.ShardId)
	if err != nil {
		return nil, err
	}
	ns := s
	if ns.CapacityUnits, err = subU64(s.CapacityUnits, w.CapacityUnits, "shard capacity"); err != nil {
		return nil, err
	}
	if ns.CapacityUnits, err = addU64(ns.CapacityUnits, msg.CapacityUnits); err != nil {
		return nil, err
	}
	nw := w
	nw.CapacityUnits, nw.StorageBytes = msg.CapacityUnits, msg.StorageBytes
	switch {
	case msg.ClearEndpoint:
		nw.Endpoint = ""
	case msg.Endpoint != "":
		nw.Endpoint = msg.Endpoint
	}
	if err := m.setWorker(ctx, addr, &w, nw); err != nil {
		return nil, err
	}
	if err := m.setShard(ctx, &s, ns); err != nil {
		return nil, err
	}
	return &types.MsgUpdateWorkerResponse{}, events.Emit(ctx, &types.EventWorkerUpdated{
		Worker: msg.Worker, ShardId: w.ShardId, CapacityUnits: nw.CapacityUnits, StorageBytes: nw.StorageBytes,
		PreviousCapacityUnits: w.CapacityUnits, Endpoint: nw.Endpoint,
	})
}

// UnregisterWorker makes an ACTIVE worker UNBONDING: it leaves the free
// capacity index (no new assignments) and its capacity leaves the shard. Its
// bond is returned unbonding_period_blocks after its in-flight units reach 0:
// now if nothing is in flight, otherwise when the last assignment finishes.
// ResumeWorker clears an ACTIVE worker's unresponsive mark where its standing
// is kept (x/reputation); x/shard is told the new standing there and hands the
// worker work again unless its score keeps it paused. Only the worker itself
// can send it, so nobody can put another's stopped worker back in line.
func (m msgServer) ResumeWorker(ctx context.Context, msg *types.MsgResumeWorker) (*types.MsgResumeWorkerResponse, error) {
	addr, err := m.workerAddress(msg.Worker)
	if err != nil {
		return nil, err
	}
	w, err := m.getWorker(ctx, addr)
	if err != nil {
		return nil, err
	}
	if w.Status != types.WorkerActive {
		return nil, errorsmod.Wrapf(types.ErrWorkerNotActive, "worker %s is %s", msg.Worker, w.Status)
	}
	if m.hooks.standing == nil {
		return nil, errorsmod.Wrap(types.ErrWorkerNotActive, "no standing keeper is wired")
	}
	if err := m.hooks.standing.ResumeUnresponsiveWorker(ctx, addr); err != nil {
		return nil, err
	}
	if w, err = m.getWorker(ctx, addr); err != nil {
		return nil, err
	}
	return &types.MsgResumeWorkerResponse{Eligible: !w.Paused}, nil
}

func (m msgServer) UnregisterWorker(ctx context.Context, msg *types.MsgUnregisterWorker) (*types.MsgUnregisterWorkerResponse, error) {
	addr, err := m.workerAddress(msg.Worker)
	if err != nil {
		return nil, err
	}
	w, err := m.getWorker(ctx, addr)
	if err != nil {
		return nil, err
	}
	if w.Status != types.WorkerActive {
		return nil, errorsmod.Wrapf(types.ErrWorkerNotActive, "worker %s is already %s", msg.Worker, w.Status)
	}
	release, err := m.unregister(ctx, addr, w)
	if err != nil {
		return nil, err
	}
	return &types.MsgUnregisterWorkerResponse{ReleaseHeight: release}, nil
}

// unregister puts ACTIVE worker w into UNBONDING: its capacity leaves its
// shard, and its bond is released unbonding_period_blocks after its last
// assignment finishes (now, when it has none in flight). It returns the
// release height (0 while assignments are in flight) and emits
// EventWorkerUnbonding.
func (k Keeper) unregister(ctx context.Context, addr sdk.AccAddress, w types.Worker) (int64, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	s, err := k.getShard(ctx, w.ShardId)
	if err != nil {
		return 0, err
	}
	ns := s
	if ns.CapacityUnits, err = subU64(s.CapacityUnits, w.CapacityUnits, "shard capacity"); err != nil {
		return 0, err
	}
	if ns.WorkerCount == 0 {
		return 0, errorsmod.Wrapf(types.ErrCounterUnderflow, "shard %d worker count", s.Id)
	}
	ns.WorkerCount--

	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	nw := w
	nw.Status = types.WorkerUnbonding
	nw.UnbondingHeight = height
	if w.InFlightUnits == 0 {
		nw.ReleaseHeight = releaseHeight(ctx, params)
	}
	if err := k.setWorker(ctx, addr, &w, nw); err != nil {
		return 0, err
	}
	if err := k.setShard(ctx, &s, ns); err != nil {
		return 0, err
	}
	return nw.ReleaseHeight, events.Emit(ctx, &types.EventWorkerUnbonding{
		Worker: w.Address, ShardId: w.ShardId, UnbondingHeight: height,
		InFlightUnits: w.InFlightUnits, ReleaseHeight: nw.ReleaseHeight,
	})
}
