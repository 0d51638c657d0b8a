package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"unicode/utf8"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/internal/netgas"
	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The Msg service: the handlers and their own checks of a msg
// (checkSubmission, assignedRequest); the request lifecycle transitions they
// apply are in lifecycle.go.

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/deferral Msg service.
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
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// SubmitRequest records the request, then either assigns it now to a worker
// of its shard or defers it into the shard's queue (deferralReason decides).
// The stateless checks run first; a request rejected later (e.g. the fee
// cannot be paid) fails the tx, which rolls back every write: no state and
// no balance changes.
//
// Store access is metered by its net effect (internal/netgas): a record the
// submission reads several times or writes twice pays once.
func (m msgServer) SubmitRequest(goCtx context.Context, msg *types.MsgSubmitRequest) (*types.MsgSubmitRequestResponse, error) {
	requester, err := m.addressCodec.StringToBytes(msg.Requester)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid requester address: %s", err)
	}
	var out *types.MsgSubmitRequestResponse
	err = netgas.Run(sdk.UnwrapSDKContext(goCtx), func(ctx sdk.Context) error {
		params, err := m.Params.Get(ctx)
		if err != nil {
			return err
		}
		out, err = m.submit(ctx, params, requester, msg)
		return err
	})
	return out, err
}

// SubmitRequests submits the entries of a batch in order, each exactly as
// SubmitRequest would (submit is the one decision path for both). One bad
// entry fails the whole transaction, with the entry's index in the error;
// the failed tx rolls every entry back. A batch shares one signature check
// and one fee deduction, and pays for its store access by net effect: the
// requester's balance, profile and open count and the shard and worker
// records that every entry touches are written once.
func (m msgServer) SubmitRequests(goCtx context.Context, msg *types.MsgSubmitRequests) (*types.MsgSubmitRequestsResponse, error) {
	requester, err := m.addressCodec.StringToBytes(msg.Requester)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid requester address: %s", err)
	}
	if len(msg.Requests) == 0 {
		return nil, errorsmod.Wrap(types.ErrInvalidBatch, "a batch needs at least one request")
	}
	out := &types.MsgSubmitRequestsResponse{Results: make([]types.MsgSubmitRequestResponse, 0, len(msg.Requests))}
	err = netgas.Run(sdk.UnwrapSDKContext(goCtx), func(ctx sdk.Context) error {
		params, err := m.Params.Get(ctx)
		if err != nil {
			return err
		}
		if uint64(len(msg.Requests)) > uint64(params.MaxBatchRequests) {
			return errorsmod.Wrapf(types.ErrInvalidBatch, "%d requests, the limit (max_batch_requests) is %d", len(msg.Requests), params.MaxBatchRequests)
		}
		for i := range msg.Requests {
			res, err := m.submit(ctx, params, requester, msg.Requests[i].Msg(msg.Requester))
			if err != nil {
				return errorsmod.Wrapf(err, "request %d of the batch (counting from 0)", i)
			}
			out.Results = append(out.Results, *res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// submit decides one submission of requester (msg.Requester, decoded).
func (m msgServer) submit(ctx sdk.Context, params types.Params, requester sdk.AccAddress, msg *types.MsgSubmitRequest) (*types.MsgSubmitRequestResponse, error) {
	payloadHash, dataBytes, err := checkSubmission(params, msg)
	if err != nil {
		return nil, err
	}
	open, err := m.OpenRequests.Get(ctx, requester)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	if open >= uint64(params.MaxOpenRequestsPerRequester) {
		return nil, errorsmod.Wrapf(types.ErrTooManyOpen, "%d open requests, the limit is %d", open, params.MaxOpenRequestsPerRequester)
	}

	reputation, err := m.reputation.Score(ctx, requester)
	if err != nil {
		return nil, err
	}
	// Taking the id now is safe: a failed tx rolls the sequence back too.
	id, err := m.RequestSeq.Next(ctx)
	if err != nil {
		return nil, err
	}
	routed, quote, err := m.priceRequest(ctx, params, msg.Class, reputation, id, feeAsk{
		units: msg.ComputeUnits, dataBytes: pricedDataBytes(msg, dataBytes), urgency: msg.Urgency, replicas: msg.Replicas,
	})
	if err != nil {
		return nil, err
	}
	if err := checkMaxFee(msg.MaxFee, quote); err != nil {
		return nil, err
	}
	shard, fee := routed.Shard, quote.Fee
	if err := m.rewards.EscrowFee(ctx, requester, fee); err != nil {
		return nil, err
	}
	if err := m.reputation.RecordSubmission(ctx, requester); err != nil {
		return nil, err
	}
	if err := m.reputation.RecordProofOfWork(ctx, requester, payloadHash, msg.PowNonce); err != nil {
		return nil, err
	}

	height := ctx.BlockHeight()
	priority := types.Priority(params, reputation, msg.Urgency)
	req := types.Request{
		Id:                id,
		Requester:         msg.Requester,
		Class:             msg.Class,
		Urgency:           msg.Urgency,
		ComputeUnits:      msg.ComputeUnits,
		DataBytes:         dataBytes,
		Payload:           msg.Payload,
		PayloadHash:       payloadHash,
		PayloadUri:        msg.PayloadUri,
		Fee:               fee,
		ShardId:           shard.Id,
		PriorityPpm:       priority,
		SubmitHeight:      height,
		DueHeight:         types.DueHeight(params, height, priority),
		QueueExpiryHeight: height + int64(params.QueueTtlBlocks),
	}
	if msg.DeadlineBlocks > 0 {
		req.RequesterDeadlineHeight = height + int64(msg.DeadlineBlocks)
		req.QueueExpiryHeight = min(req.QueueExpiryHeight, req.RequesterDeadlineHeight)
	}
	if msg.Replicas > 1 {
		req.Replicas, req.TiebreakBudget, req.ReplicasPending = msg.Replicas, params.MaxTiebreakReplicas, msg.Replicas
	}
	if err := events.Emit(ctx, &types.EventRequestSubmitted{
		RequestId: id, Requester: msg.Requester, Class: msg.Class, Urgency: msg.Urgency,
		ShardId: shard.Id, ComputeUnits: msg.ComputeUnits, Fee: fee, ReputationPpm: reputation,
	}); err != nil {
		return nil, err
	}

	reason, err := m.deferralReason(ctx, params, reputation, shard)
	if err != nil {
		return nil, err
	}
	if reason == types.DeferNone && isReplicated(req) {
		workers, found, err := m.assignReplicas(ctx, params, nil, req)
		if err != nil {
			return nil, err
		}
		if found {
			out := &types.MsgSubmitRequestResponse{
				RequestId: id, ShardId: shard.Id, Status: types.StatusAssigned,
				Worker: workers[0].String(), EstimatedDueHeight: height, Fee: fee, FeeQuote: quote,
			}
			for _, w := range workers {
				out.ReplicaWorkers = append(out.ReplicaWorkers, w.String())
			}
			return out, nil
		}
		reason = types.DeferNoCapacity
	}
	if reason == types.DeferNone {
		worker, found, err := m.shards.FindWorker(ctx, shard.Id, msg.ComputeUnits, dataBytes, []sdk.AccAddress{requester})
		if err != nil {
			return nil, err
		}
		if found {
			if err := m.assign(ctx, params, nil, req, worker); err != nil {
				return nil, err
			}
			return &types.MsgSubmitRequestResponse{
				RequestId: id, ShardId: shard.Id, Status: types.StatusAssigned,
				Worker: worker.String(), EstimatedDueHeight: height, Fee: fee, FeeQuote: quote,
			}, nil
		}
		reason = types.DeferNoCapacity
	}

	// The drain happens in EndBlock, where gas is not metered: it is paid for
	// now, so spam costs what it makes the chain do.
	ctx.GasMeter().ConsumeGas(params.GasPerDrain*uint64(max(1, req.ReplicasPending)), "repshard: later drain of a deferred request")
	req.Deferred = true
	req.DeferReason = reason
	if err := m.enqueue(ctx, nil, req, false); err != nil {
		return nil, err
	}
	position, capped, err := m.queuePosition(ctx, req)
	if err != nil {
		return nil, err
	}
	return &types.MsgSubmitRequestResponse{
		RequestId: id, ShardId: shard.Id, Status: types.StatusQueued, Deferred: true, DeferReason: reason,
		QueuePosition: position, QueuePositionCapped: capped, EstimatedDueHeight: req.DueHeight, Fee: fee, FeeQuote: quote,
	}, nil
}

// checkSubmission validates a submission against params without touching
// state and returns the payload hash and the data size. The fee depends on
// the shard the request is routed to (priceRequest).
func checkSubmission(params types.Params, msg *types.MsgSubmitRequest) ([]byte, uint64, error) {
	if _, ok := shardtypes.ShardClass_name[int32(msg.Class)]; !ok || msg.Class == shardtypes.ClassUnspecified {
		return nil, 0, errorsmod.Wrapf(types.ErrInvalidClass, "%d; use high-priority, low-priority, data-intensive or compute-intensive", msg.Class)
	}
	if _, ok := types.Urgency_name[int32(msg.Urgency)]; !ok || msg.Urgency == types.UrgencyUnspecified {
		return nil, 0, errorsmod.Wrapf(types.ErrInvalidUrgency, "%d; use low, normal, high or critical", msg.Urgency)
	}
	if msg.ComputeUnits == 0 || msg.ComputeUnits > params.MaxComputeUnits {
		return nil, 0, errorsmod.Wrapf(types.ErrInvalidUnits, "%d; must be 1..%d", msg.ComputeUnits, params.MaxComputeUnits)
	}
	var payloadHash []byte
	dataBytes := msg.DataBytes
	switch {
	case len(msg.Payload) > int(params.MaxInlinePayloadBytes):
		return nil, 0, errorsmod.Wrapf(types.ErrPayloadTooLarge,
			"%d bytes inline, the limit is %d; hold larger data elsewhere and send its hash and URI", len(msg.Payload), params.MaxInlinePayloadBytes)
	case len(msg.Payload) > 0:
		sum := sha256.Sum256(msg.Payload)
		if len(msg.PayloadHash) > 0 && !bytes.Equal(msg.PayloadHash, sum[:]) {
			return nil, 0, errorsmod.Wrap(types.ErrInvalidPayload, "payload_hash does not match the inline payload")
		}
		if msg.DataBytes != 0 && msg.DataBytes != uint64(len(msg.Payload)) {
			return nil, 0, errorsmod.Wrap(types.ErrInvalidPayload, "data_bytes must be empty or the payload size for an inline payload")
		}
		payloadHash, dataBytes = sum[:], uint64(len(msg.Payload))
	case len(msg.PayloadHash) == types.ResultHashBytes:
		payloadHash = msg.PayloadHash
	default:
		return nil, 0, errorsmod.Wrap(types.ErrInvalidPayload,
			"give an inline payload, or the 32-byte sha256 payload_hash of data held elsewhere")
	}
	if len(msg.PayloadUri) > types.MaxPayloadURIBytes || !utf8.ValidString(msg.PayloadUri) {
		return nil, 0, errorsmod.Wrapf(types.ErrInvalidPayload, "payload_uri must be UTF-8 of at most %d bytes", types.MaxPayloadURIBytes)
	}
	if msg.Replicas > params.MaxReplicas {
		return nil, 0, errorsmod.Wrapf(types.ErrInvalidReplicas, "%d; ask for 1..%d (max_replicas)", msg.Replicas, params.MaxReplicas)
	}
	if dataBytes > params.MaxDataBytes {
		return nil, 0, errorsmod.Wrapf(types.ErrDataTooLarge, "%d data bytes declared, the limit is %d (max_data_bytes)", dataBytes, params.MaxDataBytes)
	}
	if msg.DeadlineBlocks > params.MaxDeadlineBlocks {
		return nil, 0, errorsmod.Wrapf(types.ErrInvalidDeadline, "%d blocks; at most %d (max_deadline_blocks), or 0 for none", msg.DeadlineBlocks, params.MaxDeadlineBlocks)
	}
	if err := msg.MaxFee.Validate(); err != nil {
		return nil, 0, errorsmod.Wrapf(types.ErrMaxFeeTooLow, "invalid max fee: %s", err)
	}
	return payloadHash, dataBytes, nil
}

// pricedDataBytes is the data a submission pays the data price for: the
// declared data_bytes of a payload held elsewhere. An inline payload is
// carried in the transaction, whose gas already pays for each byte.
func pricedDataBytes(msg *types.MsgSubmitRequest, dataBytes uint64) uint64 {
	if len(msg.Payload) > 0 {
		return 0
	}
	return dataBytes
}

// feeAsk is what a request asks for that its fee depends on.
type feeAsk struct {
	units, dataBytes uint64
	urgency          types.Urgency
	replicas         uint32
}

// priceRequest routes a request with this id and requester reputation and
// prices it (types.ComputeFee at the routed shard's price). Query/Quote and
// SubmitRequest both call it, so a quote is the fee of a submission in the
// same block.
func (k Keeper) priceRequest(ctx context.Context, params types.Params, class shardtypes.ShardClass, reputation uint32, id uint64, ask feeAsk) (shardtypes.RoutedShard, types.FeeQuote, error) {
	routed, err := k.shards.Route(ctx, class, reputation, id)
	if err != nil {
		return routed, types.FeeQuote{}, err
	}
	return routed, types.ComputeFee(params, types.FeeInputs{
		ShardID: routed.Shard.Id, UnitPrice: routed.UnitPrice, Preferred: routed.Preferred, ReputationPpm: reputation,
		ComputeUnits: ask.units, DataBytes: ask.dataBytes, Urgency: ask.urgency, Replicas: ask.replicas,
	}), nil
}

// checkMaxFee refuses a submission whose max fee is below the fee, naming
// the fee and its parts.
func checkMaxFee(maxFee sdk.Coin, q types.FeeQuote) error {
	if maxFee.Denom == q.Fee.Denom && maxFee.Amount.GTE(q.Fee.Amount) {
		return nil
	}
	return errorsmod.Wrapf(types.ErrMaxFeeTooLow,
		"max fee %s, the fee is %s: (compute %s [units × %s/unit at shard %d × urgency %s] + data %s) × %d shares − discount %s",
		maxFee, q.Fee, q.ComputeFee, q.UnitPrice, q.ShardId, ppmMultiplier(q.UrgencyMultiplierPpm), q.DataFee, q.Shares, q.Discount)
}

// ppmMultiplier formats a ppm multiplier as "1.5×".
func ppmMultiplier(v uint32) string {
	return sdkmath.LegacyNewDecWithPrec(int64(v), 6).String() + "×"
}

// assignedRequest loads a request a worker reports on and checks the worker
// may report now.
func (k Keeper) assignedRequest(ctx sdk.Context, workerAddr string, id uint64) (types.Request, sdk.AccAddress, error) {
	worker, err := k.addressCodec.StringToBytes(workerAddr)
	if err != nil {
		return types.Request{}, nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid worker address: %s", err)
	}
	req, err := k.GetRequest(ctx, id)
	if err != nil {
		return req, nil, err
	}
	if req.Status != types.StatusAssigned {
		return req, nil, errorsmod.Wrapf(types.ErrRequestNotAssigned, "request %d is %s", id, req.Status)
	}
	if isReplicated(req) {
		if replicaOf(req, workerAddr) < 0 {
			return req, nil, errorsmod.Wrapf(types.ErrNotAssignedWorker, "%s runs no replica of request %d", workerAddr, id)
		}
	} else if req.Worker != workerAddr {
		return req, nil, errorsmod.Wrapf(types.ErrNotAssignedWorker, "request %d is assigned to %s", id, req.Worker)
	}
	if ctx.BlockHeight() > req.DeadlineHeight {
		return req, nil, errorsmod.Wrapf(types.ErrDeadlinePassed, "deadline was height %d, now %d", req.DeadlineHeight, ctx.BlockHeight())
	}
	if req.RequesterDeadlineHeight > 0 && ctx.BlockHeight() > req.RequesterDeadlineHeight {
		// Never reached while assignments end by the requester's deadline
		// (assignmentDeadline); kept so no record can outlive it.
		return req, nil, errorsmod.Wrapf(types.ErrDeadlinePassed, "the requester's deadline was height %d, now %d", req.RequesterDeadlineHeight, ctx.BlockHeight())
	}
	return req, worker, nil
}

// CompleteRequest records the worker's result: the fee pays the worker, the
// requester's reputation counts a completion, the worker's a completion, and
// every earlier failure report of the request is contradicted (it counts
// against the worker that made it, which earned nothing for it).
func (m msgServer) CompleteRequest(goCtx context.Context, msg *types.MsgCompleteRequest) (*types.MsgCompleteRequestResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if len(msg.ResultHash) != types.ResultHashBytes {
		return nil, errorsmod.Wrapf(types.ErrInvalidResultHash, "%d bytes; a sha256 hash has 32", len(msg.ResultHash))
	}
	req, worker, err := m.assignedRequest(ctx, msg.Worker, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if isReplicated(req) {
		params, err := m.Params.Get(ctx)
		if err != nil {
			return nil, err
		}
		run := req.ReplicaRuns[replicaOf(req, msg.Worker)]
		run.Status, run.ResultHash = types.ReplicaReported, msg.ResultHash
		_, err = m.reportReplica(ctx, params, req, replicaOf(req, msg.Worker), run)
		return &types.MsgCompleteRequestResponse{}, err
	}
	req.ResultHash = msg.ResultHash
	done, err := m.finish(ctx, req, types.StatusCompleted, true)
	if err != nil {
		return nil, err
	}
	if err := m.rewards.PayCompletion(ctx, worker, done.Fee, done.ComputeUnits, done.DataBytes); err != nil {
		return nil, err
	}
	if err := m.reputation.RecordWorkerOutcome(ctx, worker, outcome.WorkerCompleted); err != nil {
		return nil, err
	}
	for _, report := range done.FailureReports {
		reporter, err := m.addressCodec.StringToBytes(report.Worker)
		if err != nil {
			return nil, err
		}
		if err := m.reputation.RecordWorkerOutcome(ctx, reporter, outcome.WorkerFailureContradicted); err != nil {
			return nil, err
		}
	}
	return &types.MsgCompleteRequestResponse{}, events.Emit(ctx, &types.EventRequestCompleted{
		RequestId: done.Id, Worker: msg.Worker, ResultHash: msg.ResultHash,
	})
}

// FailRequest records a failure report by the assigned worker. One report is
// not final: it is attributed before it counts (docs/trust.md). The report
// joins the request's failure_reports, the worker is excluded from the
// request, and the request goes back to its shard's queue, first in line, for
// a worker that has not tried it. Only when failure_confirmations distinct
// workers have reported failure does the request end FAILED: the requester's
// reputation counts a failure, the fee is split (failure_refund_ppm back to the
// requester, the rest to the reporting workers) and each report counts as
// confirmed on its worker's reputation. A request with no attempt or queue
// time left for another report ends EXPIRED instead: full refund, counted
// against nobody. The worker earns nothing for a report until it is confirmed.
func (m msgServer) FailRequest(goCtx context.Context, msg *types.MsgFailRequest) (*types.MsgFailRequestResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	if len(msg.Reason) > types.MaxFailureReasonBytes || !utf8.ValidString(msg.Reason) {
		return nil, errorsmod.Wrapf(types.ErrInvalidReason, "must be UTF-8 of at most %d bytes", types.MaxFailureReasonBytes)
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	req, _, err := m.assignedRequest(ctx, msg.Worker, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if isReplicated(req) {
		idx := replicaOf(req, msg.Worker)
		run := req.ReplicaRuns[idx]
		run.Status, run.Reason = types.ReplicaFailed, msg.Reason
		status, err := m.reportReplica(ctx, params, req, idx, run)
		if err != nil {
			return nil, err
		}
		var failed uint32
		for _, r := range req.ReplicaRuns {
			if r.Status == types.ReplicaFailed {
				failed++
			}
		}
		return &types.MsgFailRequestResponse{Status: status, FailureReports: failed + 1}, nil
	}
	requester, err := m.addressCodec.StringToBytes(req.Requester)
	if err != nil {
		return nil, err
	}
	height := ctx.BlockHeight()
	reported := req
	reported.FailureReason = msg.Reason
	reported.FailureReports = append(append([]types.FailureReport(nil), req.FailureReports...),
		types.FailureReport{Worker: msg.Worker, Reason: msg.Reason, Height: height})
	count := uint32(len(reported.FailureReports))

	var status types.RequestStatus
	switch {
	case count >= params.FailureConfirmations:
		status, err = m.confirmFailure(ctx, params, reported, requester)
	case req.Attempts < params.MaxAttempts && height < req.QueueExpiryHeight:
		status = types.StatusQueued
		// The drain that assigns it again runs in EndBlock: paid for now,
		// by the reporting worker, like a deferred submission.
		ctx.GasMeter().ConsumeGas(params.GasPerDrain, "repshard: later drain of a re-queued request")
		err = m.requeue(ctx, req, reported)
	default:
		status = types.StatusExpired
		var done types.Request
		if done, err = m.finish(ctx, reported, types.StatusExpired, false); err == nil {
			err = m.refundExpired(ctx, done, false, 0)
		}
	}
	if err != nil {
		return nil, err
	}
	return &types.MsgFailRequestResponse{Status: status, FailureReports: count}, events.Emit(ctx, &types.EventFailureReported{
		RequestId: req.Id, Worker: msg.Worker, Reason: msg.Reason, FailureReports: count,
		ConfirmationsNeeded: params.FailureConfirmations, Status: status.String(),
	})
}

// confirmFailure ends a request FAILED once its reports confirm the failure:
// the requester's reputation counts it, the fee is split between the refund
// and the reporting workers, and each report counts as confirmed.
func (m msgServer) confirmFailure(ctx sdk.Context, params types.Params, reported types.Request, requester sdk.AccAddress) (types.RequestStatus, error) {
	done, err := m.finish(ctx, reported, types.StatusFailed, true)
	if err != nil {
		return 0, err
	}
	reporters := make([]sdk.AccAddress, len(done.FailureReports))
	for i, report := range done.FailureReports {
		if reporters[i], err = m.addressCodec.StringToBytes(report.Worker); err != nil {
			return 0, err
		}
	}
	if err := m.rewards.SettleFailure(ctx, requester, reporters, done.Fee, params.FailureRefundPpm); err != nil {
		return 0, err
	}
	for _, reporter := range reporters {
		if err := m.reputation.RecordWorkerOutcome(ctx, reporter, outcome.WorkerFailureConfirmed); err != nil {
			return 0, err
		}
	}
	return types.StatusFailed, events.Emit(ctx, &types.EventRequestFailed{
		RequestId: done.Id, Worker: done.Worker, Reason: done.FailureReason,
	})
}

// CancelRequest cancels a QUEUED or ASSIGNED request of the signer's.
//
//   - QUEUED and never assigned: queue_exit_fee_ppm of the fee goes to the
//     community pool (it raised its shard's load and price while it waited),
//     the rest back to the requester; QUEUED again after an attempt: the
//     whole fee goes back. Nobody is paid.
//   - ASSIGNED: each worker holding the request (its worker, or the worker of
//     each running replica) is owed ⌊its fee share × cancel_worker_share_ppm
//     / 1e6⌋ (the whole fee, or one replica share), through the same earnings
//     as a completion but without points or protocol share; the rest goes
//     back to the requester. The workers' capacity is freed and nothing is
//     counted on them or on the requester; a report they send afterwards is
//     refused (ErrRequestNotAssigned).
//
// Refused, with nothing changed: a finished request, a replicated request
// one of whose replicas has reported (a hash or a failure: that work is on
// the record, and cancelling would take back the shares the quorum may owe
// it; this covers a request waiting for tie-break replicas), and an
// assignment whose deadline has passed (it is being expired, and its
// workers penalised, by EndBlock: a cancel must neither pay them nor spare
// them the penalty).
func (m msgServer) CancelRequest(goCtx context.Context, msg *types.MsgCancelRequest) (*types.MsgCancelRequestResponse, error) {
	ctx := sdk.UnwrapSDKContext(goCtx)
	requester, err := m.addressCodec.StringToBytes(msg.Requester)
	if err != nil {
		return nil, sdkerrors.ErrInvalidAddress.Wrapf("invalid requester address: %s", err)
	}
	req, err := m.GetRequest(ctx, msg.RequestId)
	if err != nil {
		return nil, err
	}
	if req.Requester != msg.Requester {
		return nil, errorsmod.Wrapf(types.ErrNotRequester, "request %d belongs to %s", req.Id, req.Requester)
	}
	if !isOpen(req.Status) {
		return nil, errorsmod.Wrapf(types.ErrNotCancellable, "request %d is %s; only queued or assigned requests can be cancelled", req.Id, req.Status)
	}
	if replicasReported(req) {
		return nil, errorsmod.Wrapf(types.ErrNotCancellable,
			"request %d: replicas have reported; it can no longer be cancelled (set --deadline-blocks to bound the wait)", req.Id)
	}
	if req.Status == types.StatusAssigned && ctx.BlockHeight() > req.DeadlineHeight {
		return nil, errorsmod.Wrapf(types.ErrDeadlinePassed,
			"request %d: its assignment deadline was height %d; EndBlock takes it back from its workers first", req.Id, req.DeadlineHeight)
	}
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	workers, workerFee, err := m.holders(req)
	if err != nil {
		return nil, err
	}
	done, err := m.release(ctx, req, types.StatusCancelled)
	if err != nil {
		return nil, err
	}
	var paid, refund, exitFee sdk.Coin
	if neverAssigned(req) {
		// It only ever sat in the queue, raising its shard's load and price:
		// leaving costs the queue exit fee.
		exitFee, refund, err = m.rewards.RefundLessExitFee(ctx, requester, done.Fee, params.QueueExitFeePpm)
		paid = sdk.NewCoin(done.Fee.Denom, sdkmath.ZeroInt())
	} else {
		paid, refund, err = m.rewards.PayCancellation(ctx, requester, workers, done.Fee, workerFee, params.CancelWorkerSharePpm)
		exitFee = sdk.NewCoin(done.Fee.Denom, sdkmath.ZeroInt())
	}
	if err != nil {
		return nil, err
	}
	return &types.MsgCancelRequestResponse{Refund: refund, PaidToWorkers: paid, ExitFee: exitFee}, events.Emit(ctx, &types.EventRequestCancelled{
		RequestId: done.Id, Requester: msg.Requester, WasAssigned: req.Status == types.StatusAssigned,
		Refund: refund, PaidToWorkers: paid, ExitFee: exitFee,
	})
}

// neverAssigned reports whether r is QUEUED and no worker ever held it (no
// attempt, no replica): a request that only ever sat in the queue.
func neverAssigned(r types.Request) bool {
	return r.Status == types.StatusQueued && r.Attempts == 0 && len(r.ReplicaRuns) == 0
}

// replicasReported reports whether a replica of r has reported a hash or a
// failure.
func replicasReported(r types.Request) bool {
	for _, run := range r.ReplicaRuns {
		if run.Status == types.ReplicaReported || run.Status == types.ReplicaFailed {
			return true
		}
	}
	return false
}
