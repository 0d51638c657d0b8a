package keeper_test

import (
	"encoding/binary"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// nonceWithBits returns the first 8-byte counter nonce whose digest has at
// least lo and at most hi leading zero bits.
func nonceWithBits(t *testing.T, requester sdk.AccAddress, payloadHash []byte, submission uint64, lo, hi uint32) ([]byte, uint32) {
	t.Helper()
	for i := uint64(0); i < 1<<24; i++ {
		n := binary.BigEndian.AppendUint64(nil, i)
		if b := types.LeadingZeroBits(types.PowDigest(requester, payloadHash, submission, n)); b >= lo && b <= hi {
			return n, b
		}
	}
	t.Fatalf("no nonce with %d..%d bits", lo, hi)
	return nil, 0
}

func TestRecordProofOfWork(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	hash := make([]byte, 32)
	ctx := f.at(3)
	require.NoError(t, f.k.RecordSubmission(ctx, addr))
	before := f.raw(addr)

	// Below the minimum of 8 bits: refused, nothing written.
	// The first submission carries number 1.
	weak, bits := nonceWithBits(t, addr, hash, 1, 0, 7)
	err := f.k.RecordProofOfWork(ctx, addr, hash, weak)
	require.ErrorIs(t, err, types.ErrInsufficientWork)
	require.ErrorContains(t, err, "the minimum is 8")
	require.Equal(t, before, f.raw(addr))
	require.ErrorIs(t, f.k.RecordProofOfWork(ctx, addr, hash, make([]byte, 33)), types.ErrInvalidNonce)
	require.Equal(t, before, f.raw(addr))
	require.Less(t, bits, uint32(8))

	// 12..14 bits: credit (bits − 8)/16, EMA weight 0.2.
	good, bits := nonceWithBits(t, addr, hash, 1, 12, 14)
	require.NoError(t, f.k.RecordProofOfWork(ctx, addr, hash, good))
	credit := uint32((bits - 8) * 62_500)
	p := f.profile(ctx, addr)
	require.Equal(t, credit/5, p.ValidationCreditPpm, "0.8·0 + 0.2·credit")
	require.Equal(t, credit/5, p.ValidationPpm, "no stake: the proof-of-work credit")
	require.Equal(t, uint64(1), p.PowProofs)

	// A submission without a proof counts 0 in the EMA.
	require.NoError(t, f.k.RecordProofOfWork(ctx, addr, hash, nil))
	p = f.profile(ctx, addr)
	require.Equal(t, credit/5*4/5, p.ValidationCreditPpm)
	require.Equal(t, uint64(1), p.PowProofs)
}

// A nonce proves work for the submission number it was searched for: the
// next submission judges it on another digest, and the profile tells the
// client which number to bind.
func TestProofOfWorkIsBoundToOneSubmission(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	hash := make([]byte, 32)
	ctx := f.at(3)
	next, err := f.k.NextPowSubmission(ctx, addr)
	require.NoError(t, err)
	require.Equal(t, uint64(1), next, "no profile: the first submission is number 1")

	require.NoError(t, f.k.RecordSubmission(ctx, addr))
	good, _ := nonceWithBits(t, addr, hash, 1, 12, 256)
	require.NoError(t, f.k.RecordProofOfWork(ctx, addr, hash, good))
	next, err = f.k.NextPowSubmission(ctx, addr)
	require.NoError(t, err)
	require.Equal(t, uint64(2), next)

	// The same nonce, attached to submission 2, is judged on the digest of
	// submission 2: below the minimum (8 bits) here, so it is refused and
	// nothing changes.
	require.NoError(t, f.k.RecordSubmission(ctx, addr))
	require.Less(t, types.LeadingZeroBits(types.PowDigest(addr, hash, 2, good)), uint32(8),
		"the nonce chosen proves little for submission 2")
	before := f.raw(addr)
	require.ErrorIs(t, f.k.RecordProofOfWork(ctx, addr, hash, good), types.ErrInsufficientWork)
	require.Equal(t, before, f.raw(addr))
	require.Equal(t, uint64(1), f.profile(ctx, addr).PowProofs, "the replay earns no credit")
}

// The top-profiles index: pages in score order, reading only the page; after
// a weight change it keeps the order of the indexed scores (each entry also
// carries its current score) until a profile is written again.
func TestTopProfiles(t *testing.T) {
	f := newAppFixture(t, 3)
	good, plain, bad := f.c.Accounts[0].Address, f.c.Accounts[1].Address, f.c.Accounts[2].Address
	ctx := f.at(4)
	for _, a := range []sdk.AccAddress{bad, plain, good} {
		require.NoError(t, f.k.RecordSubmission(ctx, a))
	}
	for range 5 {
		require.NoError(t, f.k.RecordOutcome(ctx, good, outcome.Completed))
	}
	for range 3 {
		require.NoError(t, f.k.RecordOutcome(ctx, bad, outcome.Failed))
	}
	top := func() ([]string, []types.Profile) {
		var addrs []string
		var all []types.Profile
		var key []byte
		for {
			resp, err := f.query.TopProfiles(ctx, &types.QueryTopProfilesRequest{Pagination: &query.PageRequest{Key: key, Limit: 2}})
			require.NoError(t, err)
			require.LessOrEqual(t, len(resp.Profiles), 2)
			for _, p := range resp.Profiles {
				addrs = append(addrs, p.Address)
				all = append(all, p)
			}
			if key = resp.Pagination.NextKey; key == nil {
				return addrs, all
			}
		}
	}
	order, profiles := top()
	require.Equal(t, []string{good.String(), plain.String(), bad.String()}, order)
	for _, p := range profiles {
		require.Equal(t, p.IndexedScore, p.Score, "fresh index: indexed score = score")
	}
	// (8·777_777 + 2·1e6 + 0 + 4·500_000)/16, fresh, (8·285_714 + 2·1e6 + 0 + 4·500_000)/16
	require.Equal(t, []uint32{638_888, 500_000, 392_857}, []uint32{profiles[0].Score, profiles[1].Score, profiles[2].Score})

	// Validation alone: every score is 0 now; the index is not rewritten.
	f.updateParams(ctx, func(p *types.Params) {
		p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 0, 0, 1, 0
		p.PowMinDifficultyBits = 0
	})
	order, profiles = top()
	require.Equal(t, []string{good.String(), plain.String(), bad.String()}, order, "ordered by the indexed score")
	for _, p := range profiles {
		require.Equal(t, uint32(0), p.Score, "the current score")
		require.NotZero(t, p.IndexedScore)
	}

	// A write re-indexes the profile at its current score.
	nonce, _ := nonceWithBits(t, bad, make([]byte, 32), 1, 16, 256) // bad submitted once
	require.NoError(t, f.k.RecordProofOfWork(ctx, bad, make([]byte, 32), nonce))
	order, profiles = top()
	require.Equal(t, bad.String(), order[len(order)-1], "still below the stale entries of larger indexed scores")
	last := profiles[len(profiles)-1]
	require.Equal(t, last.Score, last.IndexedScore)
	require.Equal(t, uint32(200_000), last.Score, "16 bits above 0 → full credit · 0.2")

	// One index entry per profile, whatever the writes.
	entries := 0
	require.NoError(t, f.k.ScoreIndex.Walk(ctx, nil, func(_ collectionsPair) (bool, error) { entries++; return false, nil }))
	require.Equal(t, 3, entries)
}

type collectionsPair = collections.Pair[uint32, sdk.AccAddress]

// Inactivity decay is applied at read time from the last write: nothing is
// written, and a write resets it.
func TestInactivityDecayAtReadTime(t *testing.T) {
	f := newAppFixture(t, 1)
	addr := f.c.Accounts[0].Address
	ctx := f.at(10)
	f.updateParams(ctx, func(p *types.Params) { p.InactivityDecayBlocks = 100 })
	require.NoError(t, f.k.RecordSubmission(ctx, addr))
	for range 5 {
		require.NoError(t, f.k.RecordOutcome(ctx, addr, outcome.Completed))
	}
	stored := f.raw(addr)
	require.Equal(t, uint32(638_888), f.score(f.at(110), addr), "within the grace period")
	require.Equal(t, uint32(569_444), f.score(f.at(160), addr), "half way back to 500_000")
	require.Equal(t, uint32(500_000), f.score(f.at(210), addr))
	require.Equal(t, stored, f.raw(addr), "reads write nothing")
	require.NoError(t, f.k.RecordOutcome(f.at(210), addr, outcome.Completed))
	require.Equal(t, uint32(8*800_000+4_000_000)/16, f.score(f.at(210), addr), "a write restarts the clock: completion 8/10")
}

// A write moves a profile's score-index entry only when its score moved by
// at least ScoreIndexStep from the indexed one: small moves (every
// submission nudges the rate EMA) keep the entry, large ones re-key it.
func TestScoreIndexMovesOnlyBySteps(t *testing.T) {
	f := newAppFixture(t, 1)
	a := f.c.Accounts[0].Address
	ctx := f.at(4)
	// Completions weigh little beside peer ratings: each moves the score a
	// little.
	f.updateParams(ctx, func(p *types.Params) {
		p.WeightCompletion, p.WeightFrequency, p.WeightValidation, p.WeightPeer = 1, 0, 0, 199
	})
	require.NoError(t, f.k.RecordSubmission(ctx, a))
	first, err := f.k.Profiles.Get(ctx, a)
	require.NoError(t, err)
	// Outcomes move the score; record them until it has moved by a step,
	// checking the index after each write.
	moved, kept := false, 0
	for i := 0; i < 200 && !moved; i++ {
		require.NoError(t, f.k.RecordOutcome(ctx, a, outcome.Completed))
		p, err := f.k.Profiles.Get(ctx, a)
		require.NoError(t, err)
		score, err := f.k.Score(ctx, a)
		require.NoError(t, err)
		diff := max(score, first.IndexedScore) - min(score, first.IndexedScore)
		has, err := f.k.ScoreIndex.Has(ctx, collections.Join(^p.IndexedScore, a))
		require.NoError(t, err)
		require.True(t, has, "the entry is at the stored indexed score")
		if diff < keeper.ScoreIndexStep {
			require.Equal(t, first.IndexedScore, p.IndexedScore, "a move below the step keeps the entry")
			if score != p.IndexedScore {
				kept++
			}
			continue
		}
		moved = true
		require.NotEqual(t, first.IndexedScore, p.IndexedScore, "a move of a step re-keys the entry")
		old, err := f.k.ScoreIndex.Has(ctx, collections.Join(^first.IndexedScore, a))
		require.NoError(t, err)
		require.False(t, old, "and removes the old one")
	}
	require.True(t, moved, "completions moved the score by a step")
	require.Positive(t, kept, "some writes moved the score by less than a step")
}
