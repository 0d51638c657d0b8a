package simulation

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// WeightedOperations registers x/reputation's operations. Adding one is a
// factory below plus one line here; the weight can be overridden from the sim
// params file by its key. Profiles also change through x/deferral's
// operations (every submission and outcome updates the requester's profile).
// The operations that need x/deferral's msgs or records live in x/deferral's
// simulation, as x/deferral depends on x/reputation and not the reverse:
// submissions carrying a proof of work (msg_submit_request_with_proof,
// msg_submit_request_bad_proof) and MsgSubmitReview, next to the finished
// requests it reviews. MsgRateWorker is here: it finds completed requests
// through the keeper's RequestReader (the ids of reviewed requests and the
// ones after them), and skips when it finds none.
func WeightedOperations(weights simsx.WeightSource, reg simsx.Registry, k keeper.Keeper) {
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory())
	reg.Add(weights.Get("msg_retry_quarantined_unauthorized", 1), MsgRetryQuarantinedUnauthorizedFactory())
	reg.Add(weights.Get("msg_drop_quarantined_unauthorized", 1), MsgDropQuarantinedUnauthorizedFactory())
	reg.Add(weights.Get("msg_rate_worker", 15), MsgRateWorkerFactory(k))
	reg.Add(weights.Get("msg_rate_worker_invalid", 5), MsgRateWorkerInvalidFactory(k))
}

// scanLimit bounds how many entries one operation reads.
const scanLimit = 64

// ratableRequests returns completed requests whose worker is not rated yet,
// found without x/deferral's state: the requests reviewed by their workers
// (the Reviews collection, from a random start) and the ids just after the
// highest reviewed one, each read through the keeper's RequestReader.
func ratableRequests(ctx context.Context, k keeper.Keeper, r *simsx.XRand) []ratable {
	ids := map[uint64]bool{}
	var order []uint64
	add := func(id uint64) {
		if id != 0 && !ids[id] {
			ids[id] = true
			order = append(order, id)
		}
	}
	var highest uint64
	start := uint64(r.Intn(1_000))
	walk := func(rng *collections.Range[uint64]) {
		n := 0
		_ = k.Reviews.Walk(ctx, rng, func(id uint64, _ types.Review) (bool, error) {
			add(id)
			highest = max(highest, id)
			n++
			return n >= scanLimit, nil
		})
	}
	walk(new(collections.Range[uint64]).StartInclusive(start))
	walk(new(collections.Range[uint64]).EndExclusive(start))
	for id := highest + 1; id <= highest+16; id++ {
		add(id)
	}
	var out []ratable
	for _, id := range order {
		if rated, err := k.WorkerRatings.Has(ctx, id); err != nil || rated {
			continue
		}
		req, found, err := k.ReadRequest(ctx, id)
		if err == nil && found && req.Completed && req.Worker != "" && req.Worker != req.Requester {
			out = append(out, ratable{id: id, req: req})
		}
	}
	return out
}

// ratable is a completed request whose worker is not rated yet.
type ratable struct {
	id  uint64
	req types.FinishedRequest
}

// MsgRateWorkerFactory has the requester of a completed request rate its
// worker 1..5; it skips when no such request is found.
func MsgRateWorkerFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRateWorker, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		c, ok := simsutil.Pick(r, ratableRequests(ctx, k, r))
		if !ok {
			reporter.Skip("no completed request to rate")
			return nil, nil, nil
		}
		requester := testData.GetAccount(reporter, c.req.Requester)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgRateWorker{Requester: c.req.Requester, RequestId: c.id, Rating: uint32(1 + r.Intn(5))}
		return []simsx.SimAccount{requester}, msg, simsutil.ExpectSuccessOr(types.ErrDuplicateRating)
	})
}

// MsgRateWorkerInvalidFactory sends a rating x/reputation must refuse: a
// rating outside 1..5, a rater that is not the requester, a second rating, or
// an unknown request.
func MsgRateWorkerInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRateWorker, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		switch r.Intn(4) {
		case 0:
			acc := testData.AnyAccount(reporter)
			if reporter.IsSkipped() {
				return nil, nil, nil
			}
			rating := []uint32{0, 6, 100}[r.Intn(3)]
			return []simsx.SimAccount{acc}, &types.MsgRateWorker{Requester: acc.AddressBech32, RequestId: 1 + uint64(r.Intn(1_000)), Rating: rating},
				simsutil.ExpectError(types.ErrInvalidRating)
		case 1:
			if c, ok := simsutil.Pick(r, ratableRequests(ctx, k, r)); ok {
				other := testData.AnyAccount(reporter, simsx.ExcludeAddresses(c.req.Requester))
				if reporter.IsSkipped() {
					return nil, nil, nil
				}
				return []simsx.SimAccount{other}, &types.MsgRateWorker{Requester: other.AddressBech32, RequestId: c.id, Rating: 3},
					simsutil.ExpectError(types.ErrNotRequester)
			}
		case 2:
			var rated []types.WorkerRating
			_ = k.WorkerRatings.Walk(ctx, nil, func(_ uint64, wr types.WorkerRating) (bool, error) {
				rated = append(rated, wr)
				return len(rated) >= scanLimit, nil
			})
			if wr, ok := simsutil.Pick(r, rated); ok {
				if _, found, err := k.ReadRequest(ctx, wr.RequestId); err == nil && found {
					requester := testData.GetAccount(reporter, wr.Requester)
					if reporter.IsSkipped() {
						return nil, nil, nil
					}
					return []simsx.SimAccount{requester}, &types.MsgRateWorker{Requester: wr.Requester, RequestId: wr.RequestId, Rating: 5},
						simsutil.ExpectError(types.ErrDuplicateRating)
				}
			}
		}
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, &types.MsgRateWorker{Requester: acc.AddressBech32, RequestId: 1<<40 + uint64(r.Intn(1_000)), Rating: 3},
			simsutil.ExpectError(types.ErrRequestNotFound)
	})
}

// ProposalMsgs registers the governance proposals (x/gov submits each with
// a 25th of its weight) of x/reputation.
func ProposalMsgs(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), MsgUpdateParamsFactory())
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
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrUnauthorized)
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
