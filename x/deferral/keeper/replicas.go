package keeper

import (
	"bytes"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/deferral/types"
)

// Replicated execution (docs/trust.md). A request submitted with replicas =
// N > 1 runs on N distinct workers, never its requester. The replicas of one
// round are assigned together (all or none) with one deadline, so a request
// is QUEUED with no replica running or ASSIGNED with at least one running.
// When no replica of the round is running any more (each reported a hash,
// reported failure or expired), decide settles the request:
//
//   - a majority of N (N/2 + 1) reported the same hash: COMPLETED with that
//     hash; each agreeing replica is paid one share; a replica that reported
//     another hash is not paid and has dissent_slash_ppm of its bond slashed;
//   - else, at least max(failure_confirmations, N/2 + 1) replicas reported
//     failure: FAILED, settled on one share like a single failure;
//   - else, if the tie-break budget allows the replicas the best hash still
//     lacks, they are queued (QUEUED, first in line) for workers that have
//     not run the request;
//   - else NO_QUORUM: no result, nobody paid, the requester refunded and not
//     counted.
//
// The fee escrows one share (units × price) per possible replica; what is not
// paid out is refunded when the request ends.

// StepReplicaQuorum names the best-effort dissent penalty of a quorum
// decision in EventEndBlockItemFailed (it may run in a Msg handler).
const StepReplicaQuorum = "replica_quorum"

// isReplicated reports whether r runs on several workers.
func isReplicated(r types.Request) bool { return r.Replicas > 1 }

// quorum is the number of equal hashes that complete r.
func quorum(r types.Request) uint32 { return r.Replicas/2 + 1 }

// replicaShare is the fee of one replica: the escrow holds one per possible
// replica.
func replicaShare(r types.Request) sdk.Coin {
	return sdk.NewCoin(r.Fee.Denom, r.Fee.Amount.QuoRaw(int64(r.Replicas+r.TiebreakBudget)))
}

// runningReplicas counts the replicas of r still running.
func runningReplicas(r types.Request) uint32 {
	var n uint32
	for _, run := range r.ReplicaRuns {
		if run.Status == types.ReplicaRunning {
			n++
		}
	}
	return n
}

// replicaOf returns the index of worker's running replica of r, or -1.
func replicaOf(r types.Request, worker string) int {
	for i, run := range r.ReplicaRuns {
		if run.Worker == worker && run.Status == types.ReplicaRunning {
			return i
		}
	}
	return -1
}

// replicaExcluded are the accounts a replicated request may not go to: its
// requester, the workers excluded from it and every worker that ran one of
// its replicas (a tie-break needs workers that have not run it).
func (k Keeper) replicaExcluded(req types.Request) ([]sdk.AccAddress, error) {
	out, err := k.excludedWorkers(req)
	if err != nil {
		return nil, err
	}
	for _, run := range req.ReplicaRuns {
		addr, err := k.addressCodec.StringToBytes(run.Worker)
		if err != nil {
			return nil, err
		}
		out = append(out, addr)
	}
	return out, nil
}

// assignReplicas assigns req's replicas_pending replicas, each to a distinct
// worker of its shard that fits it and may take it. All or none: it returns
// false, having written nothing, when fewer such workers have room. O(N ·
// FindWorker).
func (k Keeper) assignReplicas(ctx sdk.Context, params types.Params, old *types.Request, req types.Request) ([]sdk.AccAddress, bool, error) {
	excluded, err := k.replicaExcluded(req)
	if err != nil {
		return nil, false, err
	}
	found := make([]sdk.AccAddress, 0, req.ReplicasPending)
	for i := uint32(0); i < req.ReplicasPending; i++ {
		w, ok, err := k.shards.FindWorker(ctx, req.ShardId, req.ComputeUnits, req.DataBytes, excluded)
		if err != nil || !ok {
			return nil, false, err
		}
		found = append(found, w)
		excluded = append(excluded, w)
	}
	height := ctx.BlockHeight()
	deadline := assignmentDeadline(params, height, req)
	runs := make([]types.ReplicaRun, 0, len(req.ReplicaRuns)+len(found))
	runs = append(runs, req.ReplicaRuns...)
	for _, w := range found {
		runs = append(runs, types.ReplicaRun{
			Worker: w.String(), Status: types.ReplicaRunning, AssignedHeight: height, DeadlineHeight: deadline,
		})
	}
	req.ReplicaRuns = runs
	req.ReplicasPending = 0
	req.Status = types.StatusAssigned
	req.AssignedHeight = height
	req.DeadlineHeight = deadline
	req.Attempts++
	if err := k.saveRequest(ctx, old, req); err != nil {
		return nil, false, err
	}
	for _, w := range found {
		if err := events.Emit(ctx, &types.EventRequestAssigned{
			RequestId: req.Id, ShardId: req.ShardId, Worker: w.String(), DeadlineHeight: deadline,
			Attempt: req.Attempts, ComputeUnits: req.ComputeUnits, WaitedBlocks: height - req.SubmitHeight,
		}); err != nil {
			return nil, false, err
		}
	}
	return found, true, nil
}

// reportReplica records what one replica reported (REPORTED with its hash,
// FAILED with its reason) and decides the request once no replica runs.
func (k Keeper) reportReplica(ctx sdk.Context, params types.Params, stored types.Request, idx int, run types.ReplicaRun) (types.RequestStatus, error) {
	req := stored
	req.ReplicaRuns = append([]types.ReplicaRun(nil), stored.ReplicaRuns...)
	req.ReplicaRuns[idx] = run
	running := runningReplicas(req)
	if err := events.Emit(ctx, &types.EventReplicaReported{
		RequestId: req.Id, Worker: run.Worker, Status: run.Status.String(), ResultHash: run.ResultHash, Running: running,
	}); err != nil {
		return 0, err
	}
	if running > 0 {
		return req.Status, k.saveRequest(ctx, &stored, req)
	}
	return k.decide(ctx, params, stored, req)
}

// expireReplicas expires the running replicas of an overdue replicated
// request (they share the round's deadline): each worker is penalised like
// any expired assignment, then the request is decided.
func (k Keeper) expireReplicas(ctx sdk.Context, params types.Params, stored types.Request) error {
	req := stored
	req.ReplicaRuns = append([]types.ReplicaRun(nil), stored.ReplicaRuns...)
	for i, run := range req.ReplicaRuns {
		if run.Status != types.ReplicaRunning {
			continue
		}
		worker, err := k.addressCodec.StringToBytes(run.Worker)
		if err != nil {
			return err
		}
		k.penalizeExpiry(ctx, req.Id, worker)
		req.ReplicaRuns[i].Status = types.ReplicaExpired
		if err := events.Emit(ctx, &types.EventAssignmentExpired{
			RequestId: req.Id, Worker: run.Worker, DeadlineHeight: run.DeadlineHeight,
		}); err != nil {
			return err
		}
	}
	_, err := k.decide(ctx, params, stored, req)
	return err
}

// hashVotes counts the replicas per reported hash, in first-reported order.
type hashVotes struct {
	hash  []byte
	votes uint32
}

// tally counts r's replicas: the hashes reported (and the one with most
// votes, the earliest on a tie), and the failures.
func tally(r types.Request) (best hashVotes, failed uint32) {
	var votes []hashVotes
	for _, run := range r.ReplicaRuns {
		switch run.Status {
		case types.ReplicaFailed:
			failed++
		case types.ReplicaReported:
			i := 0
			for i < len(votes) && !bytes.Equal(votes[i].hash, run.ResultHash) {
				i++
			}
			if i == len(votes) {
				votes = append(votes, hashVotes{hash: run.ResultHash})
			}
			votes[i].votes++
		}
	}
	for _, v := range votes {
		if v.votes > best.votes {
			best = v
		}
	}
	return best, failed
}

// decide settles a replicated request none of whose replicas runs any more
// (see the top of this file). stored is the record as saved, req the record
// with the latest replica outcomes.
func (k Keeper) decide(ctx sdk.Context, params types.Params, stored, req types.Request) (types.RequestStatus, error) {
	requester, err := k.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return 0, err
	}
	best, failed := tally(req)
	q := quorum(req)
	share := replicaShare(req)
	decided := &types.EventQuorumDecided{RequestId: req.Id, Failed: failed, Agreeing: best.votes, Refunded: sdk.NewCoin(req.Fee.Denom, sdkmath.ZeroInt())}

	switch {
	case best.votes >= q:
		req.ResultHash = best.hash
		for _, run := range req.ReplicaRuns {
			if run.Status == types.ReplicaReported && bytes.Equal(run.ResultHash, best.hash) {
				req.Worker = run.Worker // the first agreeing replica: the request's worker for reviews
				break
			}
		}
		done, err := k.finishChanged(ctx, stored, req, types.StatusCompleted, true)
		if err != nil {
			return 0, err
		}
		paid := sdkmath.ZeroInt()
		for _, run := range done.ReplicaRuns {
			worker, err := k.addressCodec.StringToBytes(run.Worker)
			if err != nil {
				return 0, err
			}
			switch {
			case run.Status == types.ReplicaReported && bytes.Equal(run.ResultHash, best.hash):
				if err := k.rewards.PayCompletion(ctx, worker, share, done.ComputeUnits, done.DataBytes); err != nil {
					return 0, err
				}
				paid = paid.Add(share.Amount)
				err = k.reputation.RecordWorkerOutcome(ctx, worker, outcome.WorkerQuorumAgreed)
			case run.Status == types.ReplicaReported:
				decided.Dissenting++
				// Best effort: a worker without bond left must not keep the
				// request from completing.
				k.RunIsolated(ctx, StepReplicaQuorum, requestItem(done.Id)+"/dissent", func(c sdk.Context) error {
					return k.rewards.PenalizeDissent(c, worker, params.DissentSlashPpm)
				})
				err = k.reputation.RecordWorkerOutcome(ctx, worker, outcome.WorkerQuorumDisagreed)
			case run.Status == types.ReplicaFailed:
				err = k.reputation.RecordWorkerOutcome(ctx, worker, outcome.WorkerFailureContradicted)
			}
			if err != nil {
				return 0, err
			}
		}
		if decided.Refunded, err = k.refundRest(ctx, requester, done.Fee, paid); err != nil {
			return 0, err
		}
		decided.Status, decided.ResultHash = done.Status.String(), best.hash
		if err := events.Emit(ctx, decided); err != nil {
			return 0, err
		}
		return done.Status, events.Emit(ctx, &types.EventRequestCompleted{RequestId: done.Id, Worker: done.Worker, ResultHash: best.hash})

	case failed >= max(params.FailureConfirmations, q):
		var reporters []sdk.AccAddress
		for _, run := range req.ReplicaRuns {
			if run.Status == types.ReplicaFailed {
				worker, err := k.addressCodec.StringToBytes(run.Worker)
				if err != nil {
					return 0, err
				}
				reporters = append(reporters, worker)
				req.Worker, req.FailureReason = run.Worker, run.Reason // the last reporter
			}
		}
		done, err := k.finishChanged(ctx, stored, req, types.StatusFailed, true)
		if err != nil {
			return 0, err
		}
		if err := k.rewards.SettleFailure(ctx, requester, reporters, share, params.FailureRefundPpm); err != nil {
			return 0, err
		}
		for _, reporter := range reporters {
			if err := k.reputation.RecordWorkerOutcome(ctx, reporter, outcome.WorkerFailureConfirmed); err != nil {
				return 0, err
			}
		}
		if decided.Refunded, err = k.refundRest(ctx, requester, done.Fee, share.Amount); err != nil {
			return 0, err
		}
		decided.Status = done.Status.String()
		if err := events.Emit(ctx, decided); err != nil {
			return 0, err
		}
		return done.Status, events.Emit(ctx, &types.EventRequestFailed{RequestId: done.Id, Worker: done.Worker, Reason: done.FailureReason})
	}

	if needed := q - best.votes; req.TiebreakUsed+needed <= req.TiebreakBudget && ctx.BlockHeight() < req.QueueExpiryHeight {
		req.TiebreakUsed += needed
		req.ReplicasPending = needed
		req.Deferred = true
		req.DueHeight = ctx.BlockHeight() // it has waited already: serve it first
		// The drain of the tie-break replicas runs in EndBlock: paid for
		// now, by the tx whose report made it necessary (if any).
		ctx.GasMeter().ConsumeGas(params.GasPerDrain*uint64(needed), "repshard: later drain of tie-break replicas")
		decided.Status = types.StatusQueued.String()
		if err := events.Emit(ctx, decided); err != nil {
			return 0, err
		}
		return types.StatusQueued, k.enqueue(ctx, &stored, req, true)
	}

	done, err := k.finishChanged(ctx, stored, req, types.StatusNoQuorum, false)
	if err != nil {
		return 0, err
	}
	if decided.Refunded, err = k.refundRest(ctx, requester, done.Fee, sdkmath.ZeroInt()); err != nil {
		return 0, err
	}
	decided.Status = done.Status.String()
	return done.Status, events.Emit(ctx, decided)
}

// refundRest refunds what is left of fee after paid went out.
func (k Keeper) refundRest(ctx sdk.Context, requester sdk.AccAddress, fee sdk.Coin, paid sdkmath.Int) (sdk.Coin, error) {
	rest := sdk.NewCoin(fee.Denom, fee.Amount.Sub(paid))
	if !rest.IsPositive() {
		return rest, nil
	}
	return rest, k.rewards.Refund(ctx, requester, rest)
}
