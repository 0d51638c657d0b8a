package simulation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/simsutil"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// WeightedOperations registers x/reputation's operations. Adding one is a
// factory below plus one line here; the weight can be overridden from the sim
// params file by its key. Profiles also change through x/deferral's
// operations (every submission and outcome updates the requester's
// profile), and MsgSubmitReview's operations live in x/deferral's simulation,
// next to the finished requests they review.
func WeightedOperations(weights simsx.WeightSource, reg simsx.Registry, k keeper.Keeper) {
	reg.Add(weights.Get("msg_submit_request_with_proof", 15), MsgSubmitRequestWithProofFactory(k))
	reg.Add(weights.Get("msg_submit_request_bad_proof", 5), MsgSubmitRequestBadProofFactory(k))
	reg.Add(weights.Get("msg_update_params_unauthorized", 2), MsgUpdateParamsUnauthorizedFactory())
}

// maxSimPowBits bounds the proof of work the simulation searches (2^14
// hashes on average at most).
const maxSimPowBits = 14

// proofSubmission is a one-unit MsgSubmitRequest (x/deferral's msg, here
// for its proof of work); its max fee covers any price the simulation sets.
func proofSubmission(r *simsx.XRand, requester simsx.SimAccount) *deferraltypes.MsgSubmitRequest {
	sum := sha256.Sum256([]byte(r.StringN(16)))
	return &deferraltypes.MsgSubmitRequest{
		Requester: requester.AddressBech32, Class: shardtypes.AllClasses[r.Intn(len(shardtypes.AllClasses))],
		Urgency: deferraltypes.UrgencyNormal, ComputeUnits: 1, PayloadHash: sum[:],
		MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 10_000),
	}
}

// findNonce searches an 8-byte nonce whose digest has at least bits leading
// zero bits.
func findNonce(requester sdk.AccAddress, payloadHash []byte, bits uint32) []byte {
	nonce := make([]byte, 8)
	for i := uint64(0); ; i++ {
		binary.BigEndian.PutUint64(nonce, i)
		if types.LeadingZeroBits(types.PowDigest(requester, payloadHash, nonce)) >= bits {
			return nonce
		}
	}
}

// MsgSubmitRequestWithProofFactory submits a request carrying a valid proof
// of work (at least pow_min_difficulty_bits), which moves the requester's
// validation credit. The requester may be at its open-request limit.
func MsgSubmitRequestWithProofFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *deferraltypes.MsgSubmitRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.Params.Get(ctx)
		if err != nil || params.PowMinDifficultyBits > maxSimPowBits {
			reporter.Skip("proof of work too hard for the simulation")
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(sdk.NewInt64Coin(chaincfg.BondDenom, 10_000)))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		acc.LiquidBalance().BlockAmount(sdk.NewInt64Coin(chaincfg.BondDenom, 10_000))
		msg := proofSubmission(r, acc)
		bits := params.PowMinDifficultyBits + uint32(r.Intn(int(maxSimPowBits-params.PowMinDifficultyBits)+1))
		msg.PowNonce = findNonce(acc.Address, msg.PayloadHash, bits)
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectSuccessOr(deferraltypes.ErrTooManyOpen)
	})
}

// MsgSubmitRequestBadProofFactory submits a request whose proof of work is
// below pow_min_difficulty_bits, or whose nonce is too long.
func MsgSubmitRequestBadProofFactory(k keeper.Keeper) simsx.SimMsgFactoryX {
	return simsx.NewSimMsgFactoryWithDeliveryResultHandler(func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *deferraltypes.MsgSubmitRequest, simsx.SimDeliveryResultHandler) {
		r := testData.Rand()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil, nil
		}
		acc := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(sdk.NewInt64Coin(chaincfg.BondDenom, 10_000)))
		if reporter.IsSkipped() {
			return nil, nil, nil
		}
		msg := proofSubmission(r, acc)
		if params.PowMinDifficultyBits == 0 || r.Intn(2) == 0 {
			msg.PowNonce = make([]byte, types.MaxPowNonceBytes+1+r.Intn(16))
			return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInvalidNonce, deferraltypes.ErrTooManyOpen)
		}
		// A nonce whose digest falls short of the minimum.
		nonce := make([]byte, 8)
		for i := uint64(0); ; i++ {
			binary.BigEndian.PutUint64(nonce, i)
			if types.LeadingZeroBits(types.PowDigest(acc.Address, msg.PayloadHash, nonce)) < params.PowMinDifficultyBits {
				break
			}
		}
		msg.PowNonce = nonce
		return []simsx.SimAccount{acc}, msg, simsutil.ExpectError(types.ErrInsufficientWork, deferraltypes.ErrTooManyOpen)
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
