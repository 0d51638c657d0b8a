package simulation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// WeightedOperations registers x/deferral's operations, and those of
// x/reputation's checks that need x/deferral's msgs or records: submissions
// carrying a proof of work, and reviews of finished requests. Adding one is a
// factory below plus one line here; the weight can be overridden from the sim
// params file by its key.
func WeightedOperations(weights simsx.WeightSource, reg simsx.Registry, k keeper.Keeper) {
	reg.Add(weights.Get("msg_submit_request", 100), MsgSubmitRequestFactory(k))
	reg.Add(weights.Get("msg_submit_request_invalid", 10), MsgSubmitRequestInvalidFactory(k))
	reg.Add(weights.Get("msg_submit_requests", 20), MsgSubmitRequestsFactory(k))
	reg.Add(weights.Get("msg_submit_requests_invalid", 5), MsgSubmitRequestsInvalidFactory(k))
	reg.Add(weights.Get("msg_complete_request", 50), MsgCompleteRequestFactory(k))
	reg.Add(weights.Get("msg_complete_request_invalid", 5), MsgCompleteRequestInvalidFactory(k))
	reg.Add(weights.Get("msg_fail_request", 12), MsgFailRequestFactory(k))
	reg.Add(weights.Get("msg_fail_request_invalid", 5), MsgFailRequestInvalidFactory(k))
	reg.Add(weights.Get("msg_cancel_request", 10), MsgCancelRequestFactory(k))
	reg.Add(weights.Get("msg_cancel_request_invalid", 5), MsgCancelRequestInvalidFactory(k))
	reg.Add(weights.Get("msg_set_result_delegate", 3), MsgSetResultDelegateFactory(k))
	reg.Add(weights.Get("msg_set_result_delegate_invalid", 2), MsgSetResultDelegateInvalidFactory(k))
	reg.Add(weights.Get("msg_submit_review", 15), MsgSubmitReviewFactory(k))
	reg.Add(weights.Get("msg_submit_review_invalid", 5), MsgSubmitReviewInvalidFactory(k))
	reg.Add(weights.Get("msg_submit_request_with_proof", 15), MsgSubmitRequestWithProofFactory(k))
	reg.Add(weights.Get("msg_submit_request_bad_proof", 5), MsgSubmitRequestBadProofFactory(k))
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory())
	reg.Add(weights.Get("msg_retry_quarantined_unauthorized", 1), MsgRetryQuarantinedUnauthorizedFactory())
	reg.Add(weights.Get("msg_drop_quarantined_unauthorized", 1), MsgDropQuarantinedUnauthorizedFactory())
}

// finishedRequests returns requests a worker completed or failed that are
// not pruned yet (from the finished index, latest first).
func finishedRequests(ctx context.Context, k keeper.Keeper) []types.Request {
	var out []types.Request
	rng := new(collections.Range[collections.Pair[uint64, uint64]]).Descending()
	_ = k.Finished.Walk(ctx, rng, func(key collections.Pair[uint64, uint64]) (bool, error) {
		req, err := k.Requests.Get(ctx, key.K2())
		if err == nil && (req.Status == types.StatusCompleted || req.Status == types.StatusFailed) && req.Worker != req.Requester {
			out = append(out, req)
		}
		return len(out) >= scanLimit, nil
	})
	return out
}

// MsgSubmitReviewFactory (x/reputation's msg, registered here where the
// finished requests are) rates the requester of a request the signing worker
// completed or failed. The request may have been reviewed already, or the
// worker's bond released since: both are refused, as they must be.
func MsgSubmitReviewFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *reputationtypes.MsgSubmitReview, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		req, ok := simsutil.Pick(r, finishedRequests(ctx, k))
		if !ok {
			reporter.Skip("no finished request")
			return nil, nil, nil
		}
		worker := testData.GetAccount(reporter, req.Worker)
		msg := &reputationtypes.MsgSubmitReview{Reviewer: req.Worker, RequestId: req.Id, Rating: uint32(1 + r.Intn(5))}
		return []simsx.SimAccount{worker}, msg, simsutil.ExpectSuccessOr(reputationtypes.ErrDuplicateReview, reputationtypes.ErrNoBond)
	})
}

// MsgSubmitReviewInvalidFactory sends a review x/reputation must refuse: a
// rating outside 1..5, a reviewer that did not process the request, a
// request not finished, or an unknown request.
func MsgSubmitReviewInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *reputationtypes.MsgSubmitReview, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		switch r.Intn(4) {
		case 0:
			if req, ok := simsutil.Pick(r, finishedRequests(ctx, k)); ok {
				worker := testData.GetAccount(reporter, req.Worker)
				rating := []uint32{0, 6, 100}[r.Intn(3)]
				return []simsx.SimAccount{worker}, &reputationtypes.MsgSubmitReview{Reviewer: req.Worker, RequestId: req.Id, Rating: rating},
					simsutil.ExpectError(reputationtypes.ErrInvalidRating)
			}
		case 1:
			if req, ok := simsutil.Pick(r, finishedRequests(ctx, k)); ok {
				other := testData.AnyAccount(reporter, simsx.ExcludeAddresses(req.Worker, req.Requester))
				return []simsx.SimAccount{other}, &reputationtypes.MsgSubmitReview{Reviewer: other.AddressBech32, RequestId: req.Id, Rating: 3},
					simsutil.ExpectError(reputationtypes.ErrNotParty)
			}
		case 2:
			reqs := requestsFrom(ctx, k, r, func(req types.Request) bool {
				return req.Status == types.StatusQueued || req.Status == types.StatusAssigned
			})
			if req, ok := simsutil.Pick(r, reqs); ok {
				acc := testData.AnyAccount(reporter)
				return []simsx.SimAccount{acc}, &reputationtypes.MsgSubmitReview{Reviewer: acc.AddressBech32, RequestId: req.Id, Rating: 3},
					simsutil.ExpectError(reputationtypes.ErrRequestNotFinished)
			}
		}
		next, _ := k.RequestSeq.Peek(ctx)
		acc := testData.AnyAccount(reporter)
		return []simsx.SimAccount{acc}, &reputationtypes.MsgSubmitReview{Reviewer: acc.AddressBech32, RequestId: next + uint64(r.Intn(1_000)), Rating: 3},
			simsutil.ExpectError(reputationtypes.ErrRequestNotFound)
	})
}

// ProposalMsgs registers the governance proposals (x/gov submits each with
// a 25th of its weight) of x/deferral.
func ProposalMsgs(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), MsgUpdateParamsFactory())
}

// scanLimit bounds how many index entries one operation reads.
const scanLimit = 64

// requestsFrom returns up to scanLimit requests with id ≥ a random start
// (wrapping to the first id) that keep says to keep.
func requestsFrom(ctx context.Context, k keeper.Keeper, r *simsx.XRand, keep func(types.Request) bool) []types.Request {
	next, err := k.RequestSeq.Peek(ctx)
	if err != nil || next <= 1 {
		return nil
	}
	start := 1 + uint64(r.Int63n(int64(next-1)))
	var out []types.Request
	walk := func(rng *collections.Range[uint64]) {
		seen := 0
		_ = k.Requests.Walk(ctx, rng, func(_ uint64, req types.Request) (bool, error) {
			seen++
			if keep(req) {
				out = append(out, req)
			}
			return seen >= scanLimit, nil
		})
	}
	walk(new(collections.Range[uint64]).StartInclusive(start))
	if len(out) == 0 {
		walk(new(collections.Range[uint64]).EndExclusive(start))
	}
	return out
}

// assignedRequests returns ASSIGNED requests whose deadline has not passed
// (from the deadline index, earliest deadline first).
func assignedRequests(ctx context.Context, k keeper.Keeper) []types.Request {
	height := uint64(sdk.UnwrapSDKContext(ctx).BlockHeight())
	var out []types.Request
	rng := new(collections.Range[collections.Pair[uint64, uint64]]).StartInclusive(collections.Join(height, uint64(0)))
	_ = k.Deadlines.Walk(ctx, rng, func(key collections.Pair[uint64, uint64]) (bool, error) {
		if req, err := k.Requests.Get(ctx, key.K2()); err == nil && req.Status == types.StatusAssigned {
			out = append(out, req)
		}
		return len(out) >= scanLimit, nil
	})
	return out
}

func randomPayload(r *simsx.XRand, params types.Params, msg *types.MsgSubmitRequest) {
	if r.Intn(2) == 0 {
		n := 1 + r.Intn(int(min(params.MaxInlinePayloadBytes, 512)))
		msg.Payload = make([]byte, n)
		_, _ = r.Read(msg.Payload)
		if r.Intn(2) == 0 {
			sum := sha256.Sum256(msg.Payload)
			msg.PayloadHash = sum[:]
		}
		return
	}
	sum := sha256.Sum256([]byte(r.StringN(16)))
	msg.PayloadHash = sum[:]
	msg.PayloadUri = "ipfs://" + r.StringN(20)
	msg.DataBytes = uint64(r.Int63n(1 << 24))
}

func validSubmission(r *simsx.XRand, params types.Params, requester string) *types.MsgSubmitRequest {
	msg := &types.MsgSubmitRequest{
		Requester:    requester,
		Class:        shardtypes.AllClasses[r.Intn(len(shardtypes.AllClasses))],
		Urgency:      types.Urgency(1 + r.Intn(4)),
		ComputeUnits: 1 + uint64(r.Int63n(int64(min(params.MaxComputeUnits, 200)))),
	}
	randomPayload(r, params, msg)
	if params.MaxReplicas >= 2 && r.Intn(4) == 0 {
		msg.Replicas = 2 + uint32(r.Intn(int(min(params.MaxReplicas, 3)-1)))
	}
	if r.Intn(4) == 0 {
		msg.DeadlineBlocks = 1 + uint64(r.Int63n(int64(params.MaxDeadlineBlocks)))
	}
	return msg
}

// withMaxFee sets a max fee at or above the fee the submission escrows now
// (Query/Quote of this block), up to 999 urep more; it reports false when the
// request cannot be quoted (e.g. its class has no ACTIVE shard).
func withMaxFee(ctx context.Context, r *simsx.XRand, k keeper.Keeper, msg *types.MsgSubmitRequest) (sdk.Coin, bool) {
	fee, ok := submissionFee(ctx, k, msg)
	if ok {
		msg.MaxFee = sdk.NewCoin(fee.Denom, fee.Amount.Add(sdkmath.NewInt(r.Int63n(1_000))))
	}
	return fee, ok
}

// submissionFee is the fee a valid submission escrows in this block, from
// Query/Quote.
func submissionFee(ctx context.Context, k keeper.Keeper, msg *types.MsgSubmitRequest) (sdk.Coin, bool) {
	res, err := keeper.NewQueryServerImpl(k).Quote(ctx, &types.QueryQuoteRequest{
		Class: msg.Class, ComputeUnits: msg.ComputeUnits, Urgency: msg.Urgency, DataBytes: msg.DataBytes,
		Replicas: msg.Replicas, Requester: msg.Requester,
	})
	if err != nil {
		return sdk.Coin{}, false
	}
	return res.Quote.Fee, true
}

// runningWorkers are the workers that may report on an ASSIGNED request: its
// worker, or the workers of its running replicas.
func runningWorkers(req types.Request) []string {
	if req.Replicas <= 1 {
		return []string{req.Worker}
	}
	var out []string
	for _, run := range req.ReplicaRuns {
		if run.Status == types.ReplicaRunning {
			out = append(out, run.Worker)
		}
	}
	return out
}

// resultFor is the result hash a worker reports: mostly the hash every
// honest replica of the request reports, sometimes another one, so that the
// simulation reaches agreement, dissent and tie-breaks.
func resultFor(r *simsx.XRand, id uint64) []byte {
	if r.Intn(4) == 0 {
		sum := sha256.Sum256([]byte(r.StringN(32)))
		return sum[:]
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("result of request %d", id)))
	return sum[:]
}

// MsgSubmitRequestFactory submits a valid request from an account under its
// open-request limit that can pay the fee; it is assigned at once or queued.
func MsgSubmitRequestFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			open, err := k.OpenRequests.Get(ctx, a.Address)
			return err != nil || open < uint64(params.MaxOpenRequestsPerRequester)
		}))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := validSubmission(r, params, acc.AddressBech32)
		fee, ok := withMaxFee(ctx, r, k, msg)
		if !ok {
			reporter.Skip("no quote")
			return nil, nil, nil
		}
		if !acc.LiquidBalance().BlockAmount(fee) {
			reporter.Skip("balance below the fee")
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, msg, nil
	})
}

// MsgSubmitRequestInvalidFactory submits a request the msg server must
// refuse: no or too many compute units, a max fee below the price, no
// payload, a payload over the inline limit, an unknown class or urgency.
func MsgSubmitRequestInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := validSubmission(r, params, acc.AddressBech32)
		fee, ok := withMaxFee(ctx, r, k, msg)
		if !ok {
			reporter.Skip("no quote")
			return nil, nil, nil
		}
		var expect simsx.SimDeliveryResultHandler
		switch r.Intn(6) {
		case 0:
			msg.ComputeUnits = 0
			expect = simsutil.ExpectError(types.ErrInvalidUnits)
		case 1:
			msg.ComputeUnits = params.MaxComputeUnits + 1 + uint64(r.Intn(1_000))
			expect = simsutil.ExpectError(types.ErrInvalidUnits)
		case 2:
			if r.Intn(3) == 0 {
				msg.Replicas = params.MaxReplicas + 1 + uint32(r.Intn(10))
				expect = simsutil.ExpectError(types.ErrInvalidReplicas)
				break
			}
			msg.MaxFee = sdk.NewCoin(msg.MaxFee.Denom, fee.Amount.SubRaw(1))
			expect = simsutil.ExpectError(types.ErrMaxFeeTooLow)
		case 3:
			msg.Payload, msg.PayloadHash = nil, nil
			expect = simsutil.ExpectError(types.ErrInvalidPayload)
		case 4:
			msg.Payload = make([]byte, params.MaxInlinePayloadBytes+1)
			msg.PayloadHash, msg.DataBytes = nil, 0
			expect = simsutil.ExpectError(types.ErrPayloadTooLarge)
		default:
			if r.Intn(2) == 0 {
				msg.Class = shardtypes.ShardClass(5 + r.Intn(100))
				expect = simsutil.ExpectError(types.ErrInvalidClass)
			} else {
				msg.Urgency = types.UrgencyUnspecified
				expect = simsutil.ExpectError(types.ErrInvalidUrgency)
			}
		}
		return []simsx.SimAccount{acc}, msg, expect
	})
}

// MsgSubmitRequestsFactory submits a batch of 2..5 valid requests from an
// account whose open requests leave room for all of them and that can pay
// every fee.
func MsgSubmitRequestsFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitRequests, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		n := min(2+r.Intn(4), int(params.MaxBatchRequests))
		acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			open, err := k.OpenRequests.Get(ctx, a.Address)
			return err != nil || open+uint64(n) <= uint64(params.MaxOpenRequestsPerRequester)
		}))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		// Each entry is priced from the state the entries before it leave (an
		// earlier entry can move the load, so the routing and the price, of a
		// later one): the batch is run on a scratch branch first, each entry
		// with an unbounded max fee, and each max fee set from its fee there.
		msg := &types.MsgSubmitRequests{Requester: acc.AddressBech32}
		scratch, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		server := keeper.NewMsgServerImpl(k)
		total := sdk.NewCoin(chaincfg.BondDenom, sdkmath.ZeroInt())
		for i := 0; i < n; i++ {
			single := validSubmission(r, params, acc.AddressBech32)
			single.MaxFee = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewIntWithDecimal(1, 30))
			res, err := server.SubmitRequest(scratch, single)
			if err != nil {
				reporter.Skip("entry " + err.Error())
				return nil, nil, nil
			}
			single.MaxFee = sdk.NewCoin(res.Fee.Denom, res.Fee.Amount.Add(sdkmath.NewInt(r.Int63n(1_000))))
			total = sdk.NewCoin(res.Fee.Denom, total.Amount.Add(single.MaxFee.Amount))
			msg.Requests = append(msg.Requests, single.Spec())
		}
		if !acc.LiquidBalance().BlockAmount(total) {
			reporter.Skip("balance below the fees")
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, msg, nil
	})
}

// MsgSubmitRequestsInvalidFactory submits a batch the msg server must
// refuse as a whole: empty, above max_batch_requests, or with one entry
// whose max fee is below its fee.
func MsgSubmitRequestsInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitRequests, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgSubmitRequests{Requester: acc.AddressBech32}
		switch r.Intn(3) {
		case 0:
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInvalidBatch)
		case 1:
			if params.MaxBatchRequests > 200 {
				reporter.Skip("max_batch_requests too large to exceed cheaply")
				return nil, nil, nil
			}
			one := validSubmission(r, params, acc.AddressBech32).Spec()
			for i := uint32(0); i <= params.MaxBatchRequests; i++ {
				msg.Requests = append(msg.Requests, one)
			}
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInvalidBatch)
		default:
			single := validSubmission(r, params, acc.AddressBech32)
			fee, ok := withMaxFee(ctx, r, k, single)
			if !ok {
				reporter.Skip("no quote")
				return nil, nil, nil
			}
			single.MaxFee = sdk.NewCoin(fee.Denom, fee.Amount.SubRaw(1))
			msg.Requests = append(msg.Requests, single.Spec())
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrMaxFeeTooLow)
		}
	})
}

// maxSimPowBits bounds the proof of work the simulation searches (2^14
// hashes on average at most).
const maxSimPowBits = 14

// reputationParams reads x/reputation's params (the proof-of-work minimum)
// through the x/reputation keeper x/deferral was built with.
func reputationParams(ctx context.Context, k keeper.Keeper) (reputationtypes.Params, error) {
	src, ok := k.ReputationKeeper().(interface {
		GetParams(context.Context) (reputationtypes.Params, error)
	})
	if !ok {
		return reputationtypes.Params{}, fmt.Errorf("x/reputation keeper %T has no GetParams", k.ReputationKeeper())
	}
	return src.GetParams(ctx)
}

// nextPowSubmission reads the number the requester's next submission will
// carry, which its proof of work binds, through the x/reputation keeper
// x/deferral was built with.
func nextPowSubmission(ctx context.Context, k keeper.Keeper, requester sdk.AccAddress) (uint64, error) {
	src, ok := k.ReputationKeeper().(interface {
		NextPowSubmission(context.Context, sdk.AccAddress) (uint64, error)
	})
	if !ok {
		return 0, fmt.Errorf("x/reputation keeper %T has no NextPowSubmission", k.ReputationKeeper())
	}
	return src.NextPowSubmission(ctx, requester)
}

// proofSubmission is a one-unit MsgSubmitRequest to carry a proof of work;
// its max fee is the quoted fee (plus a random margin), which the
// requester's balance covers (it is skipped otherwise).
func proofSubmission(ctx context.Context, r *simsx.XRand, k keeper.Keeper, requester simsx.SimAccount, reporter simsx.SimulationReporter) (*types.MsgSubmitRequest, bool) {
	sum := sha256.Sum256([]byte(r.StringN(16)))
	msg := &types.MsgSubmitRequest{
		Requester: requester.AddressBech32, Class: shardtypes.AllClasses[r.Intn(len(shardtypes.AllClasses))],
		Urgency: types.UrgencyNormal, ComputeUnits: 1, PayloadHash: sum[:],
	}
	// The max fee covers the shard's price of the moment, which congestion
	// moves far from the floor: only the proof may decide the outcome.
	fee, ok := withMaxFee(ctx, r, k, msg)
	if !ok {
		reporter.Skip("no quote")
		return nil, false
	}
	if !requester.LiquidBalance().BlockAmount(fee) {
		reporter.Skip("balance below the fee")
		return nil, false
	}
	return msg, true
}

// findNonce searches an 8-byte nonce whose digest has at least bits leading
// zero bits.
func findNonce(requester sdk.AccAddress, payloadHash []byte, submission uint64, bits uint32) []byte {
	nonce := make([]byte, 8)
	for i := uint64(0); ; i++ {
		binary.BigEndian.PutUint64(nonce, i)
		if reputationtypes.LeadingZeroBits(reputationtypes.PowDigest(requester, payloadHash, submission, nonce)) >= bits {
			return nonce
		}
	}
}

// MsgSubmitRequestWithProofFactory submits a request carrying a valid proof
// of work (at least x/reputation's pow_min_difficulty_bits), which moves the
// requester's validation credit. The requester may be at its open-request
// limit.
func MsgSubmitRequestWithProofFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := reputationParams(ctx, k)
		if err != nil || params.PowMinDifficultyBits > maxSimPowBits {
			reporter.Skip("proof of work too hard for the simulation")
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(sdk.NewInt64Coin(chaincfg.BondDenom, 10_000)))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		submission, err := nextPowSubmission(ctx, k, acc.Address)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		msg, ok := proofSubmission(ctx, r, k, acc, reporter)
		if !ok {
			return nil, nil, nil
		}
		bits := params.PowMinDifficultyBits + uint32(r.Intn(int(maxSimPowBits-params.PowMinDifficultyBits)+1))
		msg.PowNonce = findNonce(acc.Address, msg.PayloadHash, submission, bits)
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectSuccessOr(types.ErrTooManyOpen)
	})
}

// MsgSubmitRequestBadProofFactory submits a request whose proof of work is
// below x/reputation's pow_min_difficulty_bits, or whose nonce is too long.
func MsgSubmitRequestBadProofFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := reputationParams(ctx, k)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(sdk.NewInt64Coin(chaincfg.BondDenom, 10_000)))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		submission, err := nextPowSubmission(ctx, k, acc.Address)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		msg, ok := proofSubmission(ctx, r, k, acc, reporter)
		if !ok {
			return nil, nil, nil
		}
		if params.PowMinDifficultyBits == 0 || r.Intn(2) == 0 {
			msg.PowNonce = make([]byte, reputationtypes.MaxPowNonceBytes+1+r.Intn(16))
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(reputationtypes.ErrInvalidNonce, types.ErrTooManyOpen)
		}
		// A nonce whose digest falls short of the minimum.
		nonce := make([]byte, 8)
		for i := uint64(0); ; i++ {
			binary.BigEndian.PutUint64(nonce, i)
			if reputationtypes.LeadingZeroBits(reputationtypes.PowDigest(acc.Address, msg.PayloadHash, submission, nonce)) < params.PowMinDifficultyBits {
				break
			}
		}
		msg.PowNonce = nonce
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(reputationtypes.ErrInsufficientWork, types.ErrTooManyOpen)
	})
}

// MsgCompleteRequestFactory completes an ASSIGNED request before its
// deadline, signed by its worker.
func MsgCompleteRequestFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCompleteRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		req, ok := simsutil.Pick(r, assignedRequests(ctx, k))
		if !ok {
			reporter.Skip("no assigned request")
			return nil, nil, nil
		}
		addr, _ := simsutil.Pick(r, runningWorkers(req))
		worker := testData.GetAccount(reporter, addr)
		return []simsx.SimAccount{worker}, &types.MsgCompleteRequest{Worker: addr, RequestId: req.Id, ResultHash: resultFor(r, req.Id)}, nil
	})
}

// MsgCompleteRequestInvalidFactory completes a request the signer may not:
// assigned to another worker, not assigned, unknown, or with a result hash
// that is not 32 bytes.
func MsgCompleteRequestInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCompleteRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		sum := sha256.Sum256([]byte(r.StringN(32)))
		signer, msg, expect := invalidReport(ctx, k, testData, reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		m := &types.MsgCompleteRequest{Worker: signer.AddressBech32, RequestId: msg.RequestId, ResultHash: sum[:]}
		if msg.badHash {
			m.ResultHash = m.ResultHash[:r.Intn(32)]
			expect = simsutil.ExpectError(types.ErrInvalidResultHash)
		}
		return []simsx.SimAccount{signer}, m, expect
	})
}

// MsgFailRequestFactory reports the failure of an ASSIGNED request before
// its deadline, signed by its worker.
func MsgFailRequestFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgFailRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		req, ok := simsutil.Pick(r, assignedRequests(ctx, k))
		if !ok {
			reporter.Skip("no assigned request")
			return nil, nil, nil
		}
		addr, _ := simsutil.Pick(r, runningWorkers(req))
		worker := testData.GetAccount(reporter, addr)
		return []simsx.SimAccount{worker}, &types.MsgFailRequest{Worker: addr, RequestId: req.Id, Reason: r.StringN(r.Intn(64))}, nil
	})
}

// MsgFailRequestInvalidFactory reports a failure the signer may not, or with
// a reason over the length limit.
func MsgFailRequestInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgFailRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		signer, msg, expect := invalidReport(ctx, k, testData, reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		m := &types.MsgFailRequest{Worker: signer.AddressBech32, RequestId: msg.RequestId, Reason: "sim"}
		if msg.badHash {
			m.Reason = r.StringN(types.MaxFailureReasonBytes + 1 + r.Intn(64))
			expect = simsutil.ExpectError(types.ErrInvalidReason)
		}
		return []simsx.SimAccount{signer}, m, expect
	})
}

type badReport struct {
	RequestId uint64
	badHash   bool // the msg's own field is malformed (result hash, reason)
}

// invalidReport picks a worker report the msg server must refuse and the
// error it must refuse it with.
func invalidReport(ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) (simsx.SimAccount, badReport, simsx.SimDeliveryResultHandler) {
	r := testData.Rand()
	switch r.Intn(4) {
	case 0: // assigned to someone else
		if req, ok := simsutil.Pick(r, assignedRequests(ctx, k)); ok {
			mayReport := runningWorkers(req)
			other := testData.AnyAccount(reporter, simsx.ExcludeAddresses(mayReport...))
			return other, badReport{RequestId: req.Id}, simsutil.ExpectError(types.ErrNotAssignedWorker)
		}
	case 1: // not assigned (queued or finished)
		reqs := requestsFrom(ctx, k, r, func(req types.Request) bool { return req.Status != types.StatusAssigned })
		if req, ok := simsutil.Pick(r, reqs); ok {
			acc := testData.AnyAccount(reporter)
			return acc, badReport{RequestId: req.Id}, simsutil.ExpectError(types.ErrRequestNotAssigned)
		}
	case 2: // malformed field, by the right worker
		if req, ok := simsutil.Pick(r, assignedRequests(ctx, k)); ok {
			addr, _ := simsutil.Pick(r, runningWorkers(req))
			return testData.GetAccount(reporter, addr), badReport{RequestId: req.Id, badHash: true}, nil
		}
	}
	next, _ := k.RequestSeq.Peek(ctx)
	acc := testData.AnyAccount(reporter)
	return acc, badReport{RequestId: next + uint64(r.Intn(1_000))}, simsutil.ExpectError(types.ErrRequestNotFound)
}

// MsgCancelRequestFactory cancels a QUEUED request or an ASSIGNED one whose
// assignment deadline has not passed, signed by its requester; replicated
// requests one of whose replicas reported are not cancellable.
func MsgCancelRequestFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCancelRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		var reqs []types.Request
		if r.Intn(2) == 0 {
			reqs = assignedRequests(ctx, k)
		} else {
			_ = k.Queue.Walk(ctx, nil, func(key collections.Triple[uint64, uint64, uint64]) (bool, error) {
				if req, err := k.Requests.Get(ctx, key.K3()); err == nil {
					reqs = append(reqs, req)
				}
				return len(reqs) >= scanLimit, nil
			})
		}
		req, ok := simsutil.Pick(r, reqs)
		if !ok {
			reporter.Skip("no queued or assigned request")
			return nil, nil, nil
		}
		if cancellable(req) != nil {
			reporter.Skip("replicas reported: not cancellable")
			return nil, nil, nil
		}
		acc := testData.GetAccount(reporter, req.Requester)
		return []simsx.SimAccount{acc}, &types.MsgCancelRequest{Requester: req.Requester, RequestId: req.Id}, nil
	})
}

// cancellable is nil when the requester may cancel req now, else the error
// the msg server refuses it with (its assignment deadline aside).
func cancellable(req types.Request) error {
	if req.Status != types.StatusQueued && req.Status != types.StatusAssigned {
		return types.ErrNotCancellable
	}
	for _, run := range req.ReplicaRuns {
		if run.Status == types.ReplicaReported || run.Status == types.ReplicaFailed {
			return types.ErrNotCancellable
		}
	}
	return nil
}

// MsgCancelRequestInvalidFactory cancels a request the signer did not
// submit, or one that can no longer be cancelled (finished, or replicated
// with replicas that reported).
func MsgCancelRequestInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCancelRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		reqs := requestsFrom(ctx, k, r, func(types.Request) bool { return true })
		req, ok := simsutil.Pick(r, reqs)
		if !ok {
			reporter.Skip("no request")
			return nil, nil, nil
		}
		if cancellable(req) == nil || r.Intn(2) == 0 {
			other := testData.AnyAccount(reporter, simsx.ExcludeAddresses(req.Requester))
			return []simsx.SimAccount{other}, &types.MsgCancelRequest{Requester: other.AddressBech32, RequestId: req.Id},
				simsutil.ExpectError(types.ErrNotRequester)
		}
		acc := testData.GetAccount(reporter, req.Requester)
		return []simsx.SimAccount{acc}, &types.MsgCancelRequest{Requester: req.Requester, RequestId: req.Id},
			simsutil.ExpectError(types.ErrNotCancellable)
	})
}

// MsgUpdateParamsUnauthorizedFactory sends MsgUpdateParams signed by an
// ordinary account: refused as unauthorized, params unchanged.
func MsgUpdateParamsUnauthorizedFactory() simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams, simsx.SimDeliveryResultHandler) {
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgUpdateParams{Authority: acc.AddressBech32, Params: RandomParams(testData.Rand().Rand)}
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrUnauthorized, sdkerrors.ErrUnauthorized)
	})
}

// MsgUpdateParamsFactory is the governance proposal: random valid params.
func MsgUpdateParamsFactory() simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    RandomParams(testData.Rand().Rand),
		}
	}
}
