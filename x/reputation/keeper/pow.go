package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/events"
	"github.com/repshard/repshard/x/reputation/types"
)

// RecordProofOfWork checks the proof of work a submission carries and moves
// the requester's proof-of-work credit EMA. x/deferral calls it for every
// submission, after RecordSubmission (which counted this submission, so the
// profile's submitted counter is this submission's number). A nonce longer
// than MaxPowNonceBytes is ErrInvalidNonce; a nonce whose digest
// sha256(requester ‖ payloadHash ‖ u64be(submitted) ‖ nonce) has fewer
// leading zero bits than
// pow_min_difficulty_bits is ErrInsufficientWork (the caller fails the tx, so
// nothing changes). A valid proof earns credit for its bits above the
// minimum; a submission without a nonce counts as credit 0, so the credit is
// the recent average work per request. O(1).
func (k Keeper) RecordProofOfWork(ctx context.Context, requester sdk.AccAddress, payloadHash, nonce []byte) error {
	if len(nonce) > types.MaxPowNonceBytes {
		return errorsmod.Wrapf(types.ErrInvalidNonce, "%d bytes, at most %d", len(nonce), types.MaxPowNonceBytes)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	p, err := k.Profiles.Get(ctx, requester)
	if errors.Is(err, collections.ErrNotFound) {
		return errorsmod.Wrapf(types.ErrInvalidAddress, "%s has no profile: RecordSubmission must come first", requester)
	}
	if err != nil {
		return err
	}
	credit, zeroBits := uint32(0), uint32(0)
	if len(nonce) > 0 {
		zeroBits = types.LeadingZeroBits(types.PowDigest(requester, payloadHash, p.Submitted, nonce))
		if zeroBits < params.PowMinDifficultyBits {
			return errorsmod.Wrapf(types.ErrInsufficientWork,
				"sha256(requester ‖ payload hash ‖ submission %d ‖ nonce) has %d leading zero bits, the minimum is %d (pow_min_difficulty_bits); a nonce proves work for one submission only — search one for this submission with --pow-difficulty",
				p.Submitted, zeroBits, params.PowMinDifficultyBits)
		}
		credit = types.PowCreditPpm(params, zeroBits)
	}
	if len(nonce) == 0 && p.ValidationCreditPpm == 0 {
		return nil // no proof and no credit to decay: nothing to write
	}
	p.ValidationCreditPpm = types.PowEma(params, p.ValidationCreditPpm, credit)
	if len(nonce) > 0 {
		p.PowProofs++
	}
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	p = Refresh(p, params, height)
	if err := k.save(ctx, requester, p, false); err != nil {
		return err
	}
	if len(nonce) == 0 {
		return nil
	}
	return events.Emit(ctx, &types.EventProofOfWork{
		Requester: p.Address, Bits: zeroBits, CreditPpm: credit, PowCreditPpm: p.ValidationCreditPpm,
	})
}

// NextPowSubmission returns the number the requester's next submission will
// carry — its submitted counter + 1, or 1 without a profile — which a proof
// of work for that submission must bind (types.PowDigest). O(1).
func (k Keeper) NextPowSubmission(ctx context.Context, requester sdk.AccAddress) (uint64, error) {
	p, err := k.Profiles.Get(ctx, requester)
	if errors.Is(err, collections.ErrNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return p.Submitted + 1, nil
}
