package keeper

import (
	"context"
	"errors"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/ppm"
	"github.com/repshard/repshard/x/shard/types"
)

// SetWorkerStanding records what x/reputation says of a worker: its worker
// score (ppm) and whether it may get new assignments (eligible false pauses
// it). The score sets the worker's assignment tier (score / 100_000; FindWorker
// tries higher tiers first); a paused worker leaves the free-capacity index,
// like an UNBONDING one, and its work in flight finishes normally. An address
// that is not a registered worker (it never was, or its bond was returned) is
// a no-op. Writes only what changed; emits EventWorkerStandingChanged when
// the tier or the pause changes. O(1).
//
// It implements x/reputation's WorkerStandingListener (wired in app.go);
// x/shard does not import x/reputation.
func (k Keeper) SetWorkerStanding(ctx context.Context, worker sdk.AccAddress, scorePpm uint32, eligible bool) error {
	if scorePpm > ppm.Max {
		return errorsmod.Wrapf(types.ErrInvalidScore, "%d ppm", scorePpm)
	}
	w, err := k.getWorker(ctx, worker)
	if errors.Is(err, types.ErrWorkerNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	nw := w
	nw.ScorePpm, nw.Paused = scorePpm, !eligible
	if nw.ScorePpm == w.ScorePpm && nw.Paused == w.Paused {
		return nil
	}
	if err := k.setWorker(ctx, worker, &w, nw); err != nil {
		return err
	}
	if types.WorkerTier(nw.ScorePpm) == types.WorkerTier(w.ScorePpm) && nw.Paused == w.Paused {
		return nil
	}
	return events.Emit(ctx, &types.EventWorkerStandingChanged{
		Worker: w.Address, ScorePpm: nw.ScorePpm, Tier: types.WorkerTier(nw.ScorePpm), Paused: nw.Paused,
	})
}
