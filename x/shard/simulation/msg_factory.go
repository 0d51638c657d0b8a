package simulation

import (
	"context"
	"fmt"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/testutil/simsutil"
	"github.com/repshard/repshard/x/shard/keeper"
	"github.com/repshard/repshard/x/shard/types"
)

// WeightedOperations registers x/shard's operations. Adding one is a factory
// below plus one line here; the weight can be overridden from the sim params
// file by its key.
func WeightedOperations(weights simsx.WeightSource, reg simsx.Registry, k keeper.Keeper) {
	reg.Add(weights.Get("msg_register_worker", 30), MsgRegisterWorkerFactory(k))
	reg.Add(weights.Get("msg_register_worker_invalid", 5), MsgRegisterWorkerInvalidFactory(k))
	reg.Add(weights.Get("msg_update_worker", 15), MsgUpdateWorkerFactory(k))
	reg.Add(weights.Get("msg_update_worker_invalid", 5), MsgUpdateWorkerInvalidFactory(k))
	reg.Add(weights.Get("msg_unregister_worker", 4), MsgUnregisterWorkerFactory(k))
	reg.Add(weights.Get("msg_unregister_worker_invalid", 3), MsgUnregisterWorkerInvalidFactory(k))
	reg.Add(weights.Get("msg_resume_worker", 3), MsgResumeWorkerFactory(k))
	reg.Add(weights.Get("msg_resume_worker_invalid", 2), MsgResumeWorkerInvalidFactory(k))
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory(k))
	reg.Add(weights.Get("msg_retry_quarantined_unauthorized", 1), MsgRetryQuarantinedUnauthorizedFactory())
	reg.Add(weights.Get("msg_drop_quarantined_unauthorized", 1), MsgDropQuarantinedUnauthorizedFactory())
}

// ProposalMsgs registers the governance proposals (x/gov submits each with
// a 25th of its weight) of x/shard.
func ProposalMsgs(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_params", 100), MsgUpdateParamsFactory())
}

// simWorkers returns the workers that are simulation accounts, with the
// given status (any status when status is unspecified).
func simWorkers(ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, status types.WorkerStatus) []types.Worker {
	var out []types.Worker
	_ = k.Workers.Walk(ctx, nil, func(_ sdk.AccAddress, w types.Worker) (bool, error) {
		if testData.HasAccount(w.Address) && (status == types.WorkerStatusUnspecified || w.Status == status) {
			out = append(out, w)
		}
		return false, nil
	})
	return out
}

func randomClasses(r *simsx.XRand) []types.ShardClass {
	perm := r.Perm(len(types.AllClasses))
	n := 1 + r.Intn(len(types.AllClasses))
	out := make([]types.ShardClass, n)
	for i := range out {
		out[i] = types.AllClasses[perm[i]]
	}
	return out
}

// randomEndpoint is a valid data-plane endpoint, or none (half the time).
func randomEndpoint(r *simsx.XRand) string {
	if r.Intn(2) == 0 {
		return ""
	}
	return fmt.Sprintf("https://worker%d.example.org:%d", r.Intn(1_000), 1024+r.Intn(60_000))
}

// MsgRegisterWorkerFactory registers an account that is not a worker with a
// bond at or above the minimum. Every shard of its classes may be full.
func MsgRegisterWorkerFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRegisterWorker, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.GetParams(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			has, _ := k.Workers.Has(ctx, a.Address)
			return !has
		}))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		bond := params.MinWorkerBond.AddAmount(sdkmath.NewInt(r.Int63n(1_000_000)))
		if !acc.LiquidBalance().BlockAmount(bond) {
			reporter.Skip("balance below the bond")
			return nil, nil, nil
		}
		msg := &types.MsgRegisterWorker{
			Worker:        acc.AddressBech32,
			Classes:       randomClasses(r),
			CapacityUnits: 1 + uint64(r.Intn(5_000)),
			StorageBytes:  uint64(r.Intn(1 << 30)),
			Bond:          bond,
			Endpoint:      randomEndpoint(r),
		}
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectSuccessOr(types.ErrNoShardAvailable)
	})
}

// MsgRegisterWorkerInvalidFactory sends a registration the msg server must
// refuse: a bond below the minimum, zero capacity, no class, or a second
// registration of a worker.
func MsgRegisterWorkerInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRegisterWorker, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.GetParams(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter)
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := &types.MsgRegisterWorker{
			Worker: acc.AddressBech32, Classes: randomClasses(r), CapacityUnits: 1 + uint64(r.Intn(100)),
			Bond: params.MinWorkerBond,
		}
		var expect simsx.SimDeliveryResultHandler
		switch r.Intn(4) {
		case 0:
			msg.Bond = params.MinWorkerBond.SubAmount(sdkmath.OneInt())
			expect = simsutil.ExpectError(types.ErrBondTooSmall, types.ErrInvalidBond)
		case 1:
			msg.CapacityUnits = 0
			expect = simsutil.ExpectError(types.ErrInvalidCapacity)
		case 2:
			msg.Classes = nil
			expect = simsutil.ExpectError(types.ErrInvalidClass)
		default:
			workers := simWorkers(ctx, k, testData, types.WorkerStatusUnspecified)
			w, ok := simsutil.Pick(r, workers)
			if !ok {
				reporter.Skip("no worker to register twice")
				return nil, nil, nil
			}
			acc = testData.GetAccount(reporter, w.Address)
			msg.Worker = w.Address
			expect = simsutil.ExpectError(types.ErrWorkerExists, sdkerrors.ErrInsufficientFunds)
		}
		return []simsx.SimAccount{acc}, msg, expect
	})
}

// MsgUpdateWorkerFactory changes an ACTIVE worker's capacity to a value at
// or above its units in flight.
func MsgUpdateWorkerFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateWorker, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		w, ok := simsutil.Pick(r, simWorkers(ctx, k, testData, types.WorkerActive))
		if !ok {
			reporter.Skip("no active worker")
			return nil, nil, nil
		}
		acc := testData.GetAccount(reporter, w.Address)
		msg := &types.MsgUpdateWorker{
			Worker:        w.Address,
			CapacityUnits: max(w.InFlightUnits, 1) + uint64(r.Intn(5_000)),
			StorageBytes:  uint64(r.Intn(1 << 30)),
		}
		switch r.Intn(3) {
		case 0:
			msg.Endpoint = randomEndpoint(r)
		case 1:
			msg.ClearEndpoint = true
		}
		return []simsx.SimAccount{acc}, msg, nil
	})
}

// MsgUpdateWorkerInvalidFactory sends an update the msg server must refuse:
// from an account that is not a worker, with zero capacity, with a capacity
// below the worker's units in flight, or with a bad endpoint (another scheme,
// or one set and cleared at once).
func MsgUpdateWorkerInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateWorker, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		switch r.Intn(4) {
		case 3:
			w, ok := simsutil.Pick(r, simWorkers(ctx, k, testData, types.WorkerActive))
			if !ok {
				reporter.Skip("no active worker")
				return nil, nil, nil
			}
			acc := testData.GetAccount(reporter, w.Address)
			msg := &types.MsgUpdateWorker{Worker: w.Address, CapacityUnits: max(w.InFlightUnits, 1), Endpoint: "ftp://worker.example.org"}
			if r.Intn(2) == 0 {
				msg.Endpoint, msg.ClearEndpoint = randomEndpoint(r)+"/", true
			}
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInvalidEndpoint)
		case 0:
			acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
				has, _ := k.Workers.Has(ctx, a.Address)
				return !has
			}))
			if reporter.IsSkipped() {
				return nil, nil, nil
			}
			msg := &types.MsgUpdateWorker{Worker: acc.AddressBech32, CapacityUnits: 10}
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrWorkerNotFound)
		case 1:
			w, ok := simsutil.Pick(r, simWorkers(ctx, k, testData, types.WorkerStatusUnspecified))
			if !ok {
				reporter.Skip("no worker")
				return nil, nil, nil
			}
			acc := testData.GetAccount(reporter, w.Address)
			return []simsx.SimAccount{acc}, &types.MsgUpdateWorker{Worker: w.Address}, simsutil.ExpectError(types.ErrInvalidCapacity)
		default:
			var busy []types.Worker
			for _, w := range simWorkers(ctx, k, testData, types.WorkerActive) {
				if w.InFlightUnits > 1 {
					busy = append(busy, w)
				}
			}
			w, ok := simsutil.Pick(r, busy)
			if !ok {
				reporter.Skip("no worker with units in flight")
				return nil, nil, nil
			}
			acc := testData.GetAccount(reporter, w.Address)
			msg := &types.MsgUpdateWorker{Worker: w.Address, CapacityUnits: w.InFlightUnits - 1}
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrCapacityBelowInFlight)
		}
	})
}

// MsgUnregisterWorkerFactory starts the unbonding of an ACTIVE worker.
func MsgUnregisterWorkerFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUnregisterWorker, simsx.SimDeliveryResultHandler) {
		w, ok := simsutil.Pick(testData.Rand(), simWorkers(ctx, k, testData, types.WorkerActive))
		if !ok {
			reporter.Skip("no active worker")
			return nil, nil, nil
		}
		acc := testData.GetAccount(reporter, w.Address)
		return []simsx.SimAccount{acc}, &types.MsgUnregisterWorker{Worker: w.Address}, nil
	})
}

// MsgUnregisterWorkerInvalidFactory unregisters an account that is not a
// worker, or a worker already unbonding.
func MsgUnregisterWorkerInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUnregisterWorker, simsx.SimDeliveryResultHandler) {
		if w, ok := simsutil.Pick(testData.Rand(), simWorkers(ctx, k, testData, types.WorkerUnbonding)); ok && testData.Rand().Intn(2) == 0 {
			acc := testData.GetAccount(reporter, w.Address)
			return []simsx.SimAccount{acc}, &types.MsgUnregisterWorker{Worker: w.Address}, simsutil.ExpectError(types.ErrWorkerNotActive)
		}
		acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			has, _ := k.Workers.Has(ctx, a.Address)
			return !has
		}))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, &types.MsgUnregisterWorker{Worker: acc.AddressBech32}, simsutil.ExpectError(types.ErrWorkerNotFound)
	})
}

// MsgResumeWorkerFactory resumes an ACTIVE worker that x/shard holds paused.
// It succeeds when the pause is x/reputation's unresponsive mark; a worker
// paused by its score alone is refused by x/reputation (its
// ErrWorkerNotUnresponsive, told apart by codespace: x/shard does not import
// x/reputation).
func MsgResumeWorkerFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgResumeWorker, simsx.SimDeliveryResultHandler) {
		var paused []types.Worker
		for _, w := range simWorkers(ctx, k, testData, types.WorkerActive) {
			if w.Paused {
				paused = append(paused, w)
			}
		}
		w, ok := simsutil.Pick(testData.Rand(), paused)
		if !ok {
			reporter.Skip("no paused worker")
			return nil, nil, nil
		}
		acc := testData.GetAccount(reporter, w.Address)
		return []simsx.SimAccount{acc}, &types.MsgResumeWorker{Worker: w.Address}, func(err error) error {
			if err == nil {
				return nil
			}
			if codespace, _, _ := errorsmod.ABCIInfo(err, false); codespace == reputationCodespace {
				return nil
			}
			return fmt.Errorf("resume of a paused worker failed with an unexpected error: %w", err)
		}
	})
}

// reputationCodespace is x/reputation's error codespace (its module name).
const reputationCodespace = "reputation"

// MsgResumeWorkerInvalidFactory resumes an account that is not a worker, or
// a worker that is unbonding.
func MsgResumeWorkerInvalidFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgResumeWorker, simsx.SimDeliveryResultHandler) {
		if w, ok := simsutil.Pick(testData.Rand(), simWorkers(ctx, k, testData, types.WorkerUnbonding)); ok && testData.Rand().Intn(2) == 0 {
			acc := testData.GetAccount(reporter, w.Address)
			return []simsx.SimAccount{acc}, &types.MsgResumeWorker{Worker: w.Address}, simsutil.ExpectError(types.ErrWorkerNotActive)
		}
		acc := testData.AnyAccount(reporter, simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			has, _ := k.Workers.Has(ctx, a.Address)
			return !has
		}))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		return []simsx.SimAccount{acc}, &types.MsgResumeWorker{Worker: acc.AddressBech32}, simsutil.ExpectError(types.ErrWorkerNotFound)
	})
}

// MsgUpdateParamsUnauthorizedFactory sends MsgUpdateParams signed by an
// ordinary account: refused as unauthorized, params unchanged.
func MsgUpdateParamsUnauthorizedFactory(_ keeper.Keeper) simsx.SimMsgFactoryX {
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
