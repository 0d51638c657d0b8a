package keeper_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"cosmossdk.io/collections"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/internal/outcome"
	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/reputation/keeper"
	"github.com/repshard/repshard/x/reputation/types"
)

// testAddr is a deterministic 20-byte address named by s.
func testAddr(s string) sdk.AccAddress {
	h := sha256.Sum256([]byte(s))
	return sdk.AccAddress(h[:20])
}

// dump returns every key/value pair of the x/reputation store, in key order.
func (f fixture) dump() [][2][]byte {
	it := f.store.Ctx.KVStore(f.store.Key).Iterator(nil, nil)
	defer it.Close()
	var out [][2][]byte
	for ; it.Valid(); it.Next() {
		out = append(out, [2][]byte{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	return out
}

// at returns the fixture's context at height h with a fresh event manager.
func (f fixture) at(h int64) sdk.Context {
	return f.ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
}

func (f fixture) worker(t *testing.T, ctx context.Context, w sdk.AccAddress) (types.WorkerProfile, bool) {
	t.Helper()
	resp, err := f.query.WorkerProfile(ctx, &types.QueryWorkerProfileRequest{Address: keepertest.Address(w)})
	require.NoError(t, err)
	return resp.Profile, resp.Found
}

func (f fixture) record(t *testing.T, ctx context.Context, w sdk.AccAddress, outcomes ...outcome.WorkerOutcome) {
	t.Helper()
	for _, o := range outcomes {
		require.NoError(t, f.keeper.RecordWorkerOutcome(ctx, w, o))
	}
}

func (f fixture) params(t *testing.T) types.Params {
	t.Helper()
	p, err := f.keeper.GetParams(f.ctx)
	require.NoError(t, err)
	return p
}

func (f fixture) setParams(t *testing.T, edit func(*types.Params)) {
	t.Helper()
	p := f.params(t)
	edit(&p)
	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: keepertest.Authority(), Params: p})
	require.NoError(t, err)
}

// queued returns the resume-queue entries in order.
func (f fixture) queued(t *testing.T) []collections.Pair[int64, sdk.AccAddress] {
	t.Helper()
	iter, err := f.keeper.WorkerResumeQueue.Iterate(f.ctx, nil)
	require.NoError(t, err)
	keys, err := iter.Keys()
	require.NoError(t, err)
	return keys
}

func eventsOf[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	var zero T
	for _, e := range ctx.EventManager().Events() {
		if e.Type != proto.MessageName(zero) {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(e))
		require.NoError(t, err)
		out = append(out, msg.(T))
	}
	return out
}

var allWorkerOutcomes = []outcome.WorkerOutcome{
	outcome.WorkerCompleted, outcome.WorkerExpired, outcome.WorkerFailureConfirmed,
	outcome.WorkerFailureContradicted, outcome.WorkerQuorumAgreed, outcome.WorkerQuorumDisagreed,
}

// counters returns the six outcome counters of a profile, in the order of
// allWorkerOutcomes.
func counters(w types.WorkerProfile) [6]uint64 {
	return [6]uint64{w.Completions, w.Expiries, w.FailuresConfirmed, w.FailuresContradicted, w.QuorumAgreements, w.QuorumDisagreements}
}

// A worker without history has the neutral profile (found false); each
// outcome bumps its own counter and nothing else, good outcomes lift the
// score above the neutral one and bad ones drop it below, and x/shard is
// told every new score.
func TestWorkerOutcomesMoveTheScore(t *testing.T) {
	good := map[outcome.WorkerOutcome]bool{
		outcome.WorkerCompleted: true, outcome.WorkerFailureConfirmed: true, outcome.WorkerQuorumAgreed: true,
	}
	f := newFixture(t).withDefaults(t)
	neutral, found := f.worker(t, f.ctx, testAddr("nobody"))
	require.False(t, found)
	require.Equal(t, uint32(500_000), neutral.Score, "default priors: a new worker is neutral")
	require.Equal(t, uint32(500_000), neutral.ReliabilityPpm)
	require.Equal(t, uint32(500_000), neutral.RatingPpm)
	require.Nil(t, f.store.Raw(append(types.WorkerProfilesKey.Bytes(), testAddr("nobody")...)), "reading creates nothing")

	for i, o := range allWorkerOutcomes {
		t.Run(o.String(), func(t *testing.T) {
			w := testAddr("worker-" + o.String())
			ctx := f.at(10)
			require.NoError(t, f.keeper.RecordWorkerOutcome(ctx, w, o))
			p, found := f.worker(t, ctx, w)
			require.True(t, found)
			var want [6]uint64
			want[i] = 1
			require.Equal(t, want, counters(p), "only the %s counter moves", o)
			if good[o] {
				require.Greater(t, p.Score, neutral.Score)
				require.Greater(t, p.ReliabilityPpm, neutral.ReliabilityPpm)
			} else {
				require.Less(t, p.Score, neutral.Score)
				require.Less(t, p.ReliabilityPpm, neutral.ReliabilityPpm)
			}
			require.Equal(t, neutral.RatingPpm, p.RatingPpm, "outcomes leave the rating factor alone")
			require.Equal(t, standing{worker: w, score: p.Score, eligible: true}, f.standing.last(), "x/shard is told")
			evs := eventsOf[*types.EventWorkerOutcomeRecorded](t, ctx)
			require.Len(t, evs, 1)
			require.Equal(t, o.String(), evs[0].Outcome)
			require.Equal(t, p.Score, evs[0].Score)

			// a second outcome of the same kind moves the score further the same way
			require.NoError(t, f.keeper.RecordWorkerOutcome(ctx, w, o))
			q, _ := f.worker(t, ctx, w)
			if good[o] {
				require.Greater(t, q.Score, p.Score)
			} else {
				require.Less(t, q.Score, p.Score)
			}
		})
	}
}

// A worker whose failure reports other workers contradict scores below an
// otherwise identical one whose reports were confirmed, and below one that
// never failed; a dishonest replica below an agreeing one.
func TestContradictedFailuresScoreBelowHonest(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	ctx := f.at(5)
	honest, liar, clean := testAddr("honest"), testAddr("liar"), testAddr("clean")
	for range 10 {
		f.record(t, ctx, honest, outcome.WorkerCompleted)
		f.record(t, ctx, liar, outcome.WorkerCompleted)
		f.record(t, ctx, clean, outcome.WorkerCompleted)
	}
	for range 3 {
		f.record(t, ctx, honest, outcome.WorkerFailureConfirmed)
		f.record(t, ctx, liar, outcome.WorkerFailureContradicted)
	}
	h, _ := f.worker(t, ctx, honest)
	l, _ := f.worker(t, ctx, liar)
	c, _ := f.worker(t, ctx, clean)
	require.Less(t, l.Score, h.Score, "contradicted failures score below confirmed ones")
	require.Less(t, l.Score, c.Score, "contradicted failures score below no failures")

	agree, disagree := testAddr("agree"), testAddr("disagree")
	for range 5 {
		f.record(t, ctx, agree, outcome.WorkerQuorumAgreed)
		f.record(t, ctx, disagree, outcome.WorkerQuorumDisagreed)
	}
	a, _ := f.worker(t, ctx, agree)
	d, _ := f.worker(t, ctx, disagree)
	require.Less(t, d.Score, a.Score)

	// the top-workers query lists them from the highest score down
	resp, err := f.query.TopWorkers(ctx, &types.QueryTopWorkersRequest{Pagination: &query.PageRequest{Limit: 10}})
	require.NoError(t, err)
	require.Len(t, resp.Profiles, 5)
	for i := 1; i < len(resp.Profiles); i++ {
		require.GreaterOrEqual(t, resp.Profiles[i-1].Score, resp.Profiles[i].Score, "highest first")
	}
	require.Equal(t, keepertest.Address(disagree), resp.Profiles[4].Address, "the dishonest replica is last")
	page, err := f.query.TopWorkers(ctx, &types.QueryTopWorkersRequest{Pagination: &query.PageRequest{Limit: 2}})
	require.NoError(t, err)
	require.Equal(t, resp.Profiles[:2], page.Profiles)
	require.NotEmpty(t, page.Pagination.NextKey)
}

// An outcome the keeper does not know is refused with a typed error before
// anything is written or told.
func TestUnknownWorkerOutcomeWritesNothing(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	w := testAddr("w")
	f.record(t, f.ctx, w, outcome.WorkerCompleted)
	before, told := f.dump(), len(f.standing.calls)
	for _, o := range []outcome.WorkerOutcome{0, 7, -1} {
		require.ErrorIs(t, f.keeper.RecordWorkerOutcome(f.ctx, w, o), types.ErrUnknownWorkerOutcome)
		require.ErrorIs(t, f.keeper.RecordWorkerOutcome(f.ctx, testAddr("new"), o), types.ErrUnknownWorkerOutcome)
	}
	require.Equal(t, before, f.dump())
	require.Len(t, f.standing.calls, told)
}

// pauseByExpiries records expiries on w until it is paused and returns how
// many it took; before that every standing told is eligible.
// scoreOnly lets a test look at the score pause alone: runs of expiries of
// any length do not mark the worker unresponsive.
func (f fixture) scoreOnly(t *testing.T) fixture {
	t.Helper()
	f.setParams(t, func(p *types.Params) { p.MaxConsecutiveExpiries = types.MaxConsecutiveExpiriesLimit })
	return f
}

func (f fixture) pauseByExpiries(t *testing.T, ctx sdk.Context, w sdk.AccAddress) int {
	t.Helper()
	min := f.params(t).MinWorkerScorePpm
	for n := 1; n <= 100; n++ {
		f.record(t, ctx, w, outcome.WorkerExpired)
		p, _ := f.worker(t, ctx, w)
		if p.Paused {
			require.Less(t, p.Score, min, "paused only below the minimum")
			require.Equal(t, standing{worker: w, score: p.Score, eligible: false}, f.standing.last())
			return n
		}
		require.GreaterOrEqual(t, p.Score, min, "not paused at or above the minimum")
		require.Equal(t, keeper.Eligible(p), f.standing.last().eligible)
	}
	t.Fatal("100 expiries never paused the worker")
	return 0
}

// A worker whose score falls below min_worker_score_ppm is paused until
// height + worker_pause_blocks (queued for the EndBlock) and x/shard is told
// it is not eligible; a paused worker's further bad outcomes keep its resume
// height; good outcomes that lift it back to the minimum unpause it at once.
func TestWorkerPausedBelowTheMinimumAndUnpausedByGoodOutcomes(t *testing.T) {
	f := newFixture(t).withDefaults(t).scoreOnly(t)
	params := f.params(t)
	w := testAddr("flaky")
	ctx := f.at(100)
	n := f.pauseByExpiries(t, ctx, w)
	require.Greater(t, n, 1, "one expiry does not pause a new worker: the prior holds it")
	p, _ := f.worker(t, ctx, w)
	resume := int64(100 + params.WorkerPauseBlocks)
	require.Equal(t, resume, p.ResumeHeight)
	require.Equal(t, uint64(1), p.Pauses)
	require.Equal(t, []collections.Pair[int64, sdk.AccAddress]{collections.Join(resume, w)}, f.queued(t))
	paused := eventsOf[*types.EventWorkerPaused](t, ctx)
	require.Len(t, paused, 1)
	require.Equal(t, resume, paused[0].ResumeHeight)

	ctx = f.at(150)
	f.record(t, ctx, w, outcome.WorkerExpired)
	p, _ = f.worker(t, ctx, w)
	require.True(t, p.Paused)
	require.Equal(t, resume, p.ResumeHeight, "a later bad outcome does not push the resume height")
	require.Len(t, f.queued(t), 1)
	require.Empty(t, eventsOf[*types.EventWorkerPaused](t, ctx))

	// completions (its in-flight work finishing) lift it back
	ctx = f.at(160)
	for i := 0; ; i++ {
		require.Less(t, i, 100)
		f.record(t, ctx, w, outcome.WorkerCompleted)
		p, _ = f.worker(t, ctx, w)
		if !p.Paused {
			break
		}
		require.Less(t, p.Score, params.MinWorkerScorePpm)
		require.False(t, f.standing.last().eligible)
	}
	require.GreaterOrEqual(t, p.Score, params.MinWorkerScorePpm)
	require.Zero(t, p.ResumeHeight)
	require.Empty(t, f.queued(t), "the queue entry goes with the pause")
	require.Equal(t, standing{worker: w, score: p.Score, eligible: true}, f.standing.last())
	require.Len(t, eventsOf[*types.EventWorkerResumed](t, ctx), 1)
}

// At its resume height the EndBlock halves a paused worker's bad counters
// (rounded down) and checks again: back at the minimum it is eligible again;
// still below it stays paused for another worker_pause_blocks. Not before.
func TestWorkerResumeEndBlock(t *testing.T) {
	f := newFixture(t).withDefaults(t).scoreOnly(t)
	params := f.params(t)
	min := params.MinWorkerScorePpm
	recovers, stays := testAddr("recovers"), testAddr("stays")
	ctx := f.at(10)
	n := f.pauseByExpiries(t, ctx, recovers)
	f.record(t, ctx, recovers, outcome.WorkerExpired) // odd: halving rounds down
	f.pauseByExpiries(t, ctx, stays)
	for range 40 {
		f.record(t, ctx, stays, outcome.WorkerExpired, outcome.WorkerFailureContradicted, outcome.WorkerQuorumDisagreed)
	}
	r0, _ := f.worker(t, ctx, recovers)
	s0, _ := f.worker(t, ctx, stays)
	resume := int64(10 + params.WorkerPauseBlocks)
	require.Equal(t, resume, r0.ResumeHeight)
	require.Equal(t, resume, s0.ResumeHeight)

	before := f.dump()
	require.NoError(t, f.keeper.EndBlocker(f.at(resume-1)))
	require.Equal(t, before, f.dump(), "nothing is due before the resume height")

	ctx = f.at(resume)
	require.NoError(t, f.keeper.EndBlocker(ctx))
	r, _ := f.worker(t, ctx, recovers)
	require.Equal(t, uint64(n+1)/2, r.Expiries, "bad counters halved, rounded down")
	require.GreaterOrEqual(t, r.Score, min)
	require.False(t, r.Paused, "back at the minimum: eligible again")
	require.Zero(t, r.ResumeHeight)
	s, _ := f.worker(t, ctx, stays)
	require.Equal(t, s0.Expiries/2, s.Expiries)
	require.Equal(t, s0.FailuresContradicted/2, s.FailuresContradicted)
	require.Equal(t, s0.QuorumDisagreements/2, s.QuorumDisagreements)
	require.Greater(t, s.Score, s0.Score, "halving lifts the score")
	require.Less(t, s.Score, min)
	require.True(t, s.Paused, "still below: paused again")
	require.Equal(t, resume+int64(params.WorkerPauseBlocks), s.ResumeHeight)
	require.Equal(t, []collections.Pair[int64, sdk.AccAddress]{collections.Join(s.ResumeHeight, stays)}, f.queued(t))
	require.Len(t, eventsOf[*types.EventWorkerResumed](t, ctx), 1)
	require.Len(t, eventsOf[*types.EventWorkerPauseExtended](t, ctx), 1)
	told := map[string]bool{}
	for _, c := range f.standing.calls[len(f.standing.calls)-2:] {
		told[string(c.worker)] = c.eligible
	}
	require.Equal(t, map[string]bool{string(recovers): true, string(stays): false}, told, "x/shard is told both")
}

// The EndBlock checks at most max_worker_resumes_per_block paused workers per
// block, in (resume height, address) order; the rest wait for the next block.
func TestWorkerResumesPerBlockCap(t *testing.T) {
	f := newFixture(t).withDefaults(t).scoreOnly(t)
	f.setParams(t, func(p *types.Params) { p.MaxWorkerResumesPerBlock = 2 })
	params := f.params(t)
	ctx := f.at(1)
	ws := []sdk.AccAddress{testAddr("a"), testAddr("b"), testAddr("c")}
	for _, w := range ws {
		f.pauseByExpiries(t, ctx, w)
	}
	resume := int64(1 + params.WorkerPauseBlocks)
	require.Len(t, f.queued(t), 3)
	require.NoError(t, f.keeper.EndBlocker(f.at(resume)))
	require.Len(t, f.queued(t), 1, "two checked (each resumed: one halving is enough here), one left")
	require.NoError(t, f.keeper.EndBlocker(f.at(resume+1)))
	require.Empty(t, f.queued(t))
	for _, w := range ws {
		p, _ := f.worker(t, f.ctx, w)
		require.False(t, p.Paused)
	}
}

// failingStanding fails for one worker once armed, standing for x/shard
// failing.
type failingStanding struct {
	standingLog
	fail  sdk.AccAddress
	armed bool
}

func (s *failingStanding) SetWorkerStanding(ctx context.Context, w sdk.AccAddress, score uint32, eligible bool) error {
	if s.armed && w.Equals(s.fail) {
		return errors.New("x/shard is down")
	}
	return s.standingLog.SetWorkerStanding(ctx, w, score, eligible)
}

// A resume check that fails is rolled back alone, rescheduled one pause
// later and reported; the other checks of the block go through.
func TestWorkerResumeFailureIsIsolated(t *testing.T) {
	s := keepertest.NewStore(t, types.StoreKey)
	f := newFixture(t)
	fs := &failingStanding{fail: testAddr("bad")}
	f.keeper = keeper.NewKeeper(f.cdc, s.Service, keepertest.AddressCodec(), keepertest.Authority(), noStake{}, noBonds{}, fs)
	f.store, f.ctx, f.standing = s, s.Ctx, &fs.standingLog
	f.msgs, f.query = keeper.NewMsgServerImpl(f.keeper), keeper.NewQueryServerImpl(f.keeper)
	f = f.withDefaults(t).scoreOnly(t)
	params := f.params(t)
	bad, good := testAddr("bad"), testAddr("good")
	f.pauseByExpiries(t, f.at(1), bad)
	f.pauseByExpiries(t, f.at(1), good)
	resume := int64(1 + params.WorkerPauseBlocks)
	b0, _ := f.worker(t, f.ctx, bad)
	fs.armed = true

	ctx := f.at(resume)
	require.NoError(t, f.keeper.EndBlocker(ctx))
	b, _ := f.worker(t, ctx, bad)
	require.True(t, b.Paused)
	require.Equal(t, b0.Expiries, b.Expiries, "the failed check is rolled back")
	require.Equal(t, resume+int64(params.WorkerPauseBlocks), b.ResumeHeight)
	g, _ := f.worker(t, ctx, good)
	require.False(t, g.Paused, "the other check goes through")
	require.Equal(t, []collections.Pair[int64, sdk.AccAddress]{collections.Join(b.ResumeHeight, bad)}, f.queued(t))
	failed := eventsOf[*types.EventWorkerResumeFailed](t, ctx)
	require.Len(t, failed, 1)
	require.Equal(t, b.ResumeHeight, failed[0].RetryHeight)
}

// fakeRequests stands in for x/deferral with a fixed set of requests.
type fakeRequests map[uint64]types.FinishedRequest

func (r fakeRequests) ReviewableRequest(_ context.Context, id uint64) (types.FinishedRequest, bool, error) {
	req, ok := r[id]
	return req, ok, nil
}

// Every refused rating — rating 0 or 6, unknown request, a request its worker
// did not complete, a signer that is not the requester, a second rating, a
// worker that is the requester — is a typed error that changes nothing and
// tells x/shard nothing.
func TestRateWorkerRefusals(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	requester, worker, other := testAddr("requester"), testAddr("worker"), testAddr("other")
	r, w, o := keepertest.Address(requester), keepertest.Address(worker), keepertest.Address(other)
	f.keeper.SetRequestReader(fakeRequests{
		1: {Requester: r, Worker: w, Status: "REQUEST_STATUS_COMPLETED", Processed: true, Completed: true},
		2: {Requester: r, Worker: w, Status: "REQUEST_STATUS_FAILED", Processed: true},
		3: {Requester: r, Worker: w, Status: "REQUEST_STATUS_ASSIGNED"},
		4: {Requester: r, Status: "REQUEST_STATUS_QUEUED"},
		5: {Requester: r, Worker: r, Status: "REQUEST_STATUS_COMPLETED", Processed: true, Completed: true},
		6: {Requester: r, Worker: w, Status: "REQUEST_STATUS_EXPIRED"},
	})
	ctx := f.at(7)
	_, err := f.msgs.RateWorker(ctx, &types.MsgRateWorker{Requester: r, RequestId: 1, Rating: 4})
	require.NoError(t, err)
	before, told := f.dump(), len(f.standing.calls)

	for _, tc := range []struct {
		name string
		msg  types.MsgRateWorker
		want error
	}{
		{"rating 0", types.MsgRateWorker{Requester: r, RequestId: 1, Rating: 0}, types.ErrInvalidRating},
		{"rating 6", types.MsgRateWorker{Requester: r, RequestId: 1, Rating: 6}, types.ErrInvalidRating},
		{"unknown request", types.MsgRateWorker{Requester: r, RequestId: 99, Rating: 3}, types.ErrRequestNotFound},
		{"failed request", types.MsgRateWorker{Requester: r, RequestId: 2, Rating: 1}, types.ErrRequestNotCompleted},
		{"assigned request", types.MsgRateWorker{Requester: r, RequestId: 3, Rating: 1}, types.ErrRequestNotCompleted},
		{"queued request", types.MsgRateWorker{Requester: r, RequestId: 4, Rating: 1}, types.ErrRequestNotCompleted},
		{"expired request", types.MsgRateWorker{Requester: r, RequestId: 6, Rating: 1}, types.ErrRequestNotCompleted},
		{"not the requester", types.MsgRateWorker{Requester: o, RequestId: 1, Rating: 5}, types.ErrNotRequester},
		{"the worker itself", types.MsgRateWorker{Requester: w, RequestId: 1, Rating: 5}, types.ErrNotRequester},
		{"twice", types.MsgRateWorker{Requester: r, RequestId: 1, Rating: 5}, types.ErrDuplicateRating},
		{"self-rating", types.MsgRateWorker{Requester: r, RequestId: 5, Rating: 5}, types.ErrSelfRating},
		{"bad address", types.MsgRateWorker{Requester: "rep1bad", RequestId: 1, Rating: 5}, types.ErrInvalidAddress},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			resp, err := f.msgs.RateWorker(ctx, &msg)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, resp)
			require.Equal(t, before, f.dump(), "a refused rating writes nothing")
			require.Len(t, f.standing.calls, told, "and tells x/shard nothing")
		})
	}
}

// A rating weighs by the rater's own requester score: a requester with a bad
// record moves a worker's score less than one with a good record; a 5 lifts
// the score, a 1 drops it; the rating is stored once, by request id.
func TestRateWorkerWeighsByTheRatersStanding(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	ctx := f.at(3)
	trusted, shady := testAddr("trusted"), testAddr("shady")
	for range 20 {
		require.NoError(t, f.keeper.RecordOutcome(ctx, trusted, outcome.Completed))
		require.NoError(t, f.keeper.RecordOutcome(ctx, shady, outcome.Failed))
	}
	st, err := f.keeper.Score(ctx, trusted)
	require.NoError(t, err)
	ss, err := f.keeper.Score(ctx, shady)
	require.NoError(t, err)
	require.Greater(t, st, ss)

	reqs := fakeRequests{}
	wt, ws, wGood := testAddr("rated-by-trusted"), testAddr("rated-by-shady"), testAddr("praised")
	reqs[1] = types.FinishedRequest{Requester: keepertest.Address(trusted), Worker: keepertest.Address(wt), Completed: true, Processed: true}
	reqs[2] = types.FinishedRequest{Requester: keepertest.Address(shady), Worker: keepertest.Address(ws), Completed: true, Processed: true}
	reqs[3] = types.FinishedRequest{Requester: keepertest.Address(trusted), Worker: keepertest.Address(wGood), Completed: true, Processed: true}
	f.keeper.SetRequestReader(reqs)
	neutral, _ := f.worker(t, ctx, wt)

	rt, err := f.msgs.RateWorker(ctx, &types.MsgRateWorker{Requester: keepertest.Address(trusted), RequestId: 1, Rating: 1})
	require.NoError(t, err)
	require.Equal(t, st, rt.WeightPpm, "the weight is the rater's score")
	rs, err := f.msgs.RateWorker(ctx, &types.MsgRateWorker{Requester: keepertest.Address(shady), RequestId: 2, Rating: 1})
	require.NoError(t, err)
	require.Equal(t, ss, rs.WeightPpm)
	pt, _ := f.worker(t, ctx, wt)
	ps, _ := f.worker(t, ctx, ws)
	require.Less(t, pt.Score, neutral.Score)
	require.Less(t, ps.Score, neutral.Score)
	require.Less(t, pt.Score, ps.Score, "the trusted requester's 1 weighs more than the shady one's")
	require.Equal(t, rt.Score, pt.Score)
	require.Equal(t, uint64(1), pt.RatingsReceived)
	require.Equal(t, standing{worker: wt, score: pt.Score, eligible: true}, f.standing.calls[len(f.standing.calls)-2])

	rg, err := f.msgs.RateWorker(ctx, &types.MsgRateWorker{Requester: keepertest.Address(trusted), RequestId: 3, Rating: 5})
	require.NoError(t, err)
	require.Greater(t, rg.Score, neutral.Score)
	evs := eventsOf[*types.EventWorkerRated](t, ctx)
	require.Len(t, evs, 3)
	require.Equal(t, uint32(5), evs[2].Rating)

	got, err := f.query.WorkerRating(ctx, &types.QueryWorkerRatingRequest{RequestId: 2})
	require.NoError(t, err)
	require.Equal(t, types.WorkerRating{RequestId: 2, Worker: keepertest.Address(ws), Requester: keepertest.Address(shady),
		Rating: 1, WeightPpm: ss, Height: 3}, got.Rating)
}

// Ratings alone can pause a worker (many requesters rating it 1) and lift it
// back (ratings of 5).
func TestRatingsPauseAndUnpause(t *testing.T) {
	f := newFixture(t).withDefaults(t).scoreOnly(t)
	ctx := f.at(2)
	w := testAddr("w")
	reqs := fakeRequests{}
	for i := uint64(1); i <= 200; i++ {
		reqs[i] = types.FinishedRequest{Requester: keepertest.Address(testAddr(string(rune('a' + i%20)))), Worker: keepertest.Address(w), Completed: true, Processed: true}
	}
	f.keeper.SetRequestReader(reqs)
	id := uint64(1)
	rate := func(rating uint32) types.WorkerProfile {
		_, err := f.msgs.RateWorker(ctx, &types.MsgRateWorker{Requester: reqs[id].Requester, RequestId: id, Rating: rating})
		require.NoError(t, err)
		id++
		p, _ := f.worker(t, ctx, w)
		return p
	}
	// outcomes first bring it just above the minimum
	for range 5 {
		f.record(t, ctx, w, outcome.WorkerExpired)
	}
	p, _ := f.worker(t, ctx, w)
	require.False(t, p.Paused)
	for !p.Paused {
		require.Less(t, id, uint64(100), "ratings of 1 must pause it")
		p = rate(1)
	}
	require.False(t, f.standing.last().eligible)
	for p.Paused {
		require.Less(t, id, uint64(200), "ratings of 5 must lift it")
		p = rate(5)
	}
	require.GreaterOrEqual(t, p.Score, f.params(t).MinWorkerScorePpm)
	require.True(t, f.standing.last().eligible)
	require.Empty(t, f.queued(t))
}

// Worker profiles (a paused one among them) and ratings survive an export and
// an import into a fresh store byte for byte, with the score index and the
// resume queue rebuilt.
func TestWorkerGenesisRoundTrip(t *testing.T) {
	f := newFixture(t).withDefaults(t).scoreOnly(t)
	ctx := f.at(4)
	requester, w1, w2 := testAddr("req"), testAddr("w1"), testAddr("w2")
	f.keeper.SetRequestReader(fakeRequests{
		9: {Requester: keepertest.Address(requester), Worker: keepertest.Address(w1), Completed: true, Processed: true},
	})
	f.record(t, ctx, w1, outcome.WorkerCompleted, outcome.WorkerQuorumAgreed)
	_, err := f.msgs.RateWorker(ctx, &types.MsgRateWorker{Requester: keepertest.Address(requester), RequestId: 9, Rating: 4})
	require.NoError(t, err)
	f.pauseByExpiries(t, ctx, w2)

	exported, err := f.keeper.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Len(t, exported.WorkerProfiles, 2)
	require.Len(t, exported.WorkerRatings, 1)
	require.NoError(t, exported.Validate())

	g := newFixture(t)
	require.NoError(t, g.keeper.InitGenesis(g.ctx, *exported))
	require.Equal(t, f.dump(), g.dump(), "import rebuilds the same store")
	require.Empty(t, g.standing.calls, "genesis tells x/shard nothing: its own genesis has the standing")
	again, err := g.keeper.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, f.cdc.MustMarshal(exported), f.cdc.MustMarshal(again))

	// the imported paused worker resumes on schedule
	p, _ := g.worker(t, g.ctx, w2)
	require.NoError(t, g.keeper.EndBlocker(g.at(p.ResumeHeight)))
	q, _ := g.worker(t, g.ctx, w2)
	require.NotEqual(t, p.ResumeHeight, q.ResumeHeight, "checked at its resume height")
}

func TestWorkerGenesisValidate(t *testing.T) {
	prof := func(addr string) types.WorkerProfile {
		p := keeper.NeutralWorkerProfile(addr, types.DefaultParams())
		p.Score, p.ReliabilityPpm, p.RatingPpm = 0, 0, 0
		return p
	}
	a, b := keepertest.Address(testAddr("a")), keepertest.Address(testAddr("b"))
	valid := func() types.GenesisState {
		gs := *types.DefaultGenesis()
		gs.WorkerProfiles = []types.WorkerProfile{prof(a), prof(b)}
		gs.WorkerRatings = []types.WorkerRating{{RequestId: 1, Worker: a, Requester: b, Rating: 3, WeightPpm: 500_000}}
		return gs
	}
	gs := valid()
	require.NoError(t, gs.Validate())
	for name, edit := range map[string]func(gs *types.GenesisState){
		"duplicate profile":          func(gs *types.GenesisState) { gs.WorkerProfiles[1].Address = a },
		"empty address":              func(gs *types.GenesisState) { gs.WorkerProfiles[0].Address = "" },
		"stored score":               func(gs *types.GenesisState) { gs.WorkerProfiles[0].Score = 1 },
		"paused without resume":      func(gs *types.GenesisState) { gs.WorkerProfiles[0].Paused = true },
		"resume without pause":       func(gs *types.GenesisState) { gs.WorkerProfiles[0].ResumeHeight = 5 },
		"indexed score above one":    func(gs *types.GenesisState) { gs.WorkerProfiles[0].IndexedScore = 1_000_001 },
		"duplicate rating":           func(gs *types.GenesisState) { gs.WorkerRatings = append(gs.WorkerRatings, gs.WorkerRatings[0]) },
		"rating 0":                   func(gs *types.GenesisState) { gs.WorkerRatings[0].Rating = 0 },
		"rating 6":                   func(gs *types.GenesisState) { gs.WorkerRatings[0].Rating = 6 },
		"rating of unknown worker":   func(gs *types.GenesisState) { gs.WorkerRatings[0].Worker = keepertest.Address(testAddr("c")) },
		"rating by the worker":       func(gs *types.GenesisState) { gs.WorkerRatings[0].Requester = a },
		"rating weight above one":    func(gs *types.GenesisState) { gs.WorkerRatings[0].WeightPpm = 1_000_001 },
		"invalid min worker score":   func(gs *types.GenesisState) { gs.Params.MinWorkerScorePpm = 250_000 },
		"worker weights not one sum": func(gs *types.GenesisState) { gs.Params.WorkerWeightRatingPpm = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			gs := valid()
			edit(&gs)
			require.Error(t, gs.Validate())
			f := newFixture(t)
			require.Error(t, f.keeper.InitGenesis(f.ctx, gs))
			require.Empty(t, f.dump(), "an invalid genesis writes nothing")
		})
	}
}
