package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	abci "github.com/cometbft/cometbft/abci/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
)

// queryFixture: six requests in every status but EXPIRED.
//
//	1 A high     → assigned to w1, completed
//	2 A low      → queued, cancelled
//	3 A compute  → assigned to w2, failed
//	4 B high     → assigned to w1 (open)
//	5 C low/low  → queued (due h+45)
//	6 D low/crit → queued (due h+5: ahead of 5)
type queryFixture struct {
	c          *dchain
	q          types.QueryServer
	a, b, w1   apptest.Account
	w2, idle   apptest.Account
	submitted  int64
	byID       map[uint64]types.Request
	allRecords []types.Request
}

func newQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	p := types.DefaultParams()
	p.FailureConfirmations = 1 // one failure report is final here: the test is about a FAILED request
	c := newDChain(t, 7, p)
	f := &queryFixture{c: c, q: keeper.NewQueryServerImpl(c.App.DeferralKeeper),
		a: c.acc(0), b: c.acc(1), w1: c.acc(4), w2: c.acc(5), idle: c.acc(6)}
	cAcc, dAcc := c.acc(2), c.acc(3)
	c.register(workerSpec{f.w1, high, 10}, workerSpec{f.w2, compute, 10})
	f.submitted = c.next()
	res := c.block(
		c.tx(f.a, submitMsg(f.a, high, types.UrgencyNormal, 1),
			submitMsg(f.a, low, types.UrgencyNormal, 1),
			submitMsg(f.a, compute, types.UrgencyNormal, 1)),
		c.tx(f.b, submitMsg(f.b, high, types.UrgencyNormal, 1)),
		c.tx(cAcc, submitMsg(cAcc, low, types.UrgencyLow, 1)),
		c.tx(dAcc, submitMsg(dAcc, low, types.UrgencyCritical, 1)),
	)
	require.Len(t, res, 4)
	c.block(
		c.tx(f.w1, completeMsg(f.w1, 1)),
		c.tx(f.a, &types.MsgCancelRequest{Requester: f.a.Address.String(), RequestId: 2}),
		c.tx(f.w2, &types.MsgFailRequest{Worker: f.w2.Address.String(), RequestId: 3, Reason: "crashed"}),
	)
	f.byID = map[uint64]types.Request{}
	for id := uint64(1); id <= 6; id++ {
		r := c.request(id)
		f.byID[id] = r
		f.allRecords = append(f.allRecords, r)
	}
	want := map[uint64]types.RequestStatus{1: types.StatusCompleted, 2: types.StatusCancelled, 3: types.StatusFailed,
		4: types.StatusAssigned, 5: types.StatusQueued, 6: types.StatusQueued}
	for id, s := range want {
		require.Equal(t, s, f.byID[id].Status, "request %d", id)
	}
	return f
}

func (f *queryFixture) ctx() sdk.Context { return f.c.Committed() }

func ids(rs []types.Request) []uint64 {
	out := []uint64{}
	for _, r := range rs {
		out = append(out, r.Id)
	}
	return out
}

func requireCode(t *testing.T, want codes.Code, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, want, status.Code(err), append([]any{"error %v"}, err)...)
}

func TestQueryRequest(t *testing.T) {
	f := newQueryFixture(t)
	for id, want := range f.byID {
		resp, err := f.q.Request(f.ctx(), &types.QueryRequestRequest{RequestId: id})
		require.NoError(t, err)
		require.Equal(t, want, resp.Request)
	}
	r := f.byID[4]
	require.Equal(t, types.StatusAssigned, r.Status)
	require.Equal(t, highShard, r.ShardId)
	require.False(t, r.Deferred)
	require.Equal(t, f.w1.Address.String(), r.Worker)

	for _, id := range []uint64{0, 7, 1 << 62} {
		_, err := f.q.Request(f.ctx(), &types.QueryRequestRequest{RequestId: id})
		requireCode(t, codes.NotFound, err, "request %d", id)
	}
	_, err := f.q.Request(f.ctx(), nil)
	requireCode(t, codes.InvalidArgument, err)
}

// The module's Query service is registered with the app: a raw ABCI query
// reaches it.
func TestQueryRequestThroughABCI(t *testing.T) {
	f := newQueryFixture(t)
	bz, err := (&types.QueryRequestRequest{RequestId: 4}).Marshal()
	require.NoError(t, err)
	res, err := f.c.App.Query(f.ctx(), &abci.RequestQuery{Path: "/repshard.deferral.v1.Query/Request", Data: bz})
	require.NoError(t, err)
	require.Zero(t, res.Code, res.Log)
	var out types.QueryRequestResponse
	require.NoError(t, out.Unmarshal(res.Value))
	require.Equal(t, f.byID[4], out.Request)
}

// requestsPager is one of the paginated "requests by …" queries.
type requestsPager func(p *query.PageRequest) (*types.QueryRequestsResponse, error)

// requirePages walks a query with every page size and checks it returns want
// (ids, in order), with next_key set exactly when more follow, and total
// and offsets honoured.
func requirePages(t *testing.T, name string, page requestsPager, want []uint64) {
	t.Helper()
	all, err := page(nil)
	require.NoError(t, err, name)
	require.Equal(t, want, ids(all.Requests), "%s: all", name)

	for limit := uint64(1); limit <= uint64(len(want))+1; limit++ {
		got := []uint64{}
		var key []byte
		for pages := 0; ; pages++ {
			require.Less(t, pages, len(want)+2, "%s: pagination does not end", name)
			resp, err := page(&query.PageRequest{Key: key, Limit: limit})
			require.NoError(t, err, name)
			require.LessOrEqual(t, uint64(len(resp.Requests)), limit)
			got = append(got, ids(resp.Requests)...)
			key = resp.Pagination.NextKey
			if len(key) == 0 {
				break
			}
			require.Len(t, resp.Requests, int(limit), "%s: a page before the last is full", name)
		}
		require.Equal(t, want, got, "%s: pages of %d", name, limit)
	}

	resp, err := page(&query.PageRequest{Limit: 1, CountTotal: true})
	require.NoError(t, err)
	require.Equal(t, uint64(len(want)), resp.Pagination.Total, "%s: count_total", name)
	if len(want) > 1 {
		resp, err = page(&query.PageRequest{Offset: 1, Limit: 1})
		require.NoError(t, err)
		require.Equal(t, want[1:2], ids(resp.Requests), "%s: offset 1", name)

		resp, err = page(&query.PageRequest{Reverse: true})
		require.NoError(t, err)
		rev := make([]uint64, len(want))
		for i, id := range want {
			rev[len(want)-1-i] = id
		}
		require.Equal(t, rev, ids(resp.Requests), "%s: reverse", name)

		_, err = page(&query.PageRequest{Key: []byte{1}, Offset: 1})
		requireCode(t, codes.InvalidArgument, err, "%s: key and offset", name)
	}
}

func TestQueryRequestsByRequester(t *testing.T) {
	f := newQueryFixture(t)
	by := func(addr string) requestsPager {
		return func(p *query.PageRequest) (*types.QueryRequestsResponse, error) {
			return f.q.RequestsByRequester(f.ctx(), &types.QueryRequestsByRequesterRequest{Requester: addr, Pagination: p})
		}
	}
	requirePages(t, "A", by(f.a.Address.String()), []uint64{1, 2, 3})
	requirePages(t, "B", by(f.b.Address.String()), []uint64{4})
	requirePages(t, "a worker", by(f.w1.Address.String()), []uint64{})

	// The records are returned whole.
	resp, err := by(f.a.Address.String())(nil)
	require.NoError(t, err)
	require.Equal(t, f.allRecords[:3], resp.Requests)

	for name, addr := range invalidAddresses() {
		_, err := by(addr)(nil)
		requireCode(t, codes.InvalidArgument, err, name)
	}
	_, err = f.q.RequestsByRequester(f.ctx(), nil)
	requireCode(t, codes.InvalidArgument, err)
}

func TestQueryRequestsByWorker(t *testing.T) {
	f := newQueryFixture(t)
	by := func(addr string) requestsPager {
		return func(p *query.PageRequest) (*types.QueryRequestsResponse, error) {
			return f.q.RequestsByWorker(f.ctx(), &types.QueryRequestsByWorkerRequest{Worker: addr, Pagination: p})
		}
	}
	// Current and finished assignments.
	requirePages(t, "w1", by(f.w1.Address.String()), []uint64{1, 4})
	requirePages(t, "w2", by(f.w2.Address.String()), []uint64{3})
	requirePages(t, "an account never assigned anything", by(f.idle.Address.String()), []uint64{})
	requirePages(t, "a requester", by(f.a.Address.String()), []uint64{})
	for name, addr := range invalidAddresses() {
		_, err := by(addr)(nil)
		requireCode(t, codes.InvalidArgument, err, name)
	}
	_, err := f.q.RequestsByWorker(f.ctx(), nil)
	requireCode(t, codes.InvalidArgument, err)
}

func TestQueryRequestsByShard(t *testing.T) {
	f := newQueryFixture(t)
	by := func(id uint64) requestsPager {
		return func(p *query.PageRequest) (*types.QueryRequestsResponse, error) {
			return f.q.RequestsByShard(f.ctx(), &types.QueryRequestsByShardRequest{ShardId: id, Pagination: p})
		}
	}
	requirePages(t, "high", by(highShard), []uint64{1, 4})
	requirePages(t, "low", by(lowShard), []uint64{2, 5, 6})
	requirePages(t, "data", by(dataShard), []uint64{})
	requirePages(t, "compute", by(computeShard), []uint64{3})
	requirePages(t, "no such shard", by(99), []uint64{})
	_, err := f.q.RequestsByShard(f.ctx(), nil)
	requireCode(t, codes.InvalidArgument, err)
}

func TestQueryRequestsByStatus(t *testing.T) {
	f := newQueryFixture(t)
	by := func(s types.RequestStatus) requestsPager {
		return func(p *query.PageRequest) (*types.QueryRequestsResponse, error) {
			return f.q.RequestsByStatus(f.ctx(), &types.QueryRequestsByStatusRequest{Status: s, Pagination: p})
		}
	}
	requirePages(t, "queued", by(types.StatusQueued), []uint64{6, 5}) // serving order: 6 is due first
	requirePages(t, "assigned", by(types.StatusAssigned), []uint64{4})
	requirePages(t, "completed", by(types.StatusCompleted), []uint64{1})
	requirePages(t, "failed", by(types.StatusFailed), []uint64{3})
	requirePages(t, "expired", by(types.StatusExpired), []uint64{})
	requirePages(t, "cancelled", by(types.StatusCancelled), []uint64{2})
	requirePages(t, "no quorum", by(types.StatusNoQuorum), []uint64{})
	requirePages(t, "dropped", by(types.StatusDropped), []uint64{})
	for _, s := range []types.RequestStatus{types.StatusUnspecified, 9, -1} {
		_, err := by(s)(nil)
		requireCode(t, codes.InvalidArgument, err, "status %d", s)
	}
	_, err := f.q.RequestsByStatus(f.ctx(), nil)
	requireCode(t, codes.InvalidArgument, err)
}

// ShardQueue lists a shard's queue in serving order: due height, then id.
func TestQueryShardQueue(t *testing.T) {
	f := newQueryFixture(t)
	queue := func(id uint64, p *query.PageRequest) (*types.QueryShardQueueResponse, error) {
		return f.q.ShardQueue(f.ctx(), &types.QueryShardQueueRequest{ShardId: id, Pagination: p})
	}
	// Fresh requesters (score 500_000): critical (500_000+4e6)/5 = 900_000 →
	// due h + ⌊50·0.1⌋ = h+5; low 500_000/5 = 100_000 → due h + ⌊50·0.9⌋ = h+45.
	h := f.submitted
	want := []types.QueueEntry{{DueHeight: h + 5, RequestId: 6}, {DueHeight: h + 45, RequestId: 5}}
	resp, err := queue(lowShard, nil)
	require.NoError(t, err)
	require.Equal(t, want, resp.Entries)

	resp, err = queue(lowShard, &query.PageRequest{Limit: 1, CountTotal: true})
	require.NoError(t, err)
	require.Equal(t, want[:1], resp.Entries)
	require.NotEmpty(t, resp.Pagination.NextKey)
	require.Equal(t, uint64(2), resp.Pagination.Total)
	resp, err = queue(lowShard, &query.PageRequest{Key: resp.Pagination.NextKey, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, want[1:], resp.Entries)
	require.Empty(t, resp.Pagination.NextKey)
	resp, err = queue(lowShard, &query.PageRequest{Reverse: true})
	require.NoError(t, err)
	require.Equal(t, []types.QueueEntry{want[1], want[0]}, resp.Entries)

	for _, id := range []uint64{highShard, dataShard, computeShard, 99} {
		resp, err := queue(id, nil)
		require.NoError(t, err)
		require.Empty(t, resp.Entries, "shard %d", id)
	}
	_, err = queue(lowShard, &query.PageRequest{Key: []byte{1}, Offset: 1})
	requireCode(t, codes.InvalidArgument, err)
	_, err = f.q.ShardQueue(f.ctx(), nil)
	requireCode(t, codes.InvalidArgument, err)
}

// Pages of a longer queue come in due order with the right next keys, and a
// queue spanning several due heights and ids interleaves correctly.
func TestQueryShardQueuePagesInDueOrder(t *testing.T) {
	p := types.DefaultParams()
	p.PriorityWeightReputation = 0 // priorities from urgency only
	c := newDChain(t, 1, p)
	a := c.acc(0)
	urgencies := []types.Urgency{types.UrgencyLow, types.UrgencyCritical, types.UrgencyNormal, types.UrgencyHigh,
		types.UrgencyLow, types.UrgencyCritical, types.UrgencyNormal}
	var txs [][]byte
	for _, u := range urgencies {
		txs = append(txs, c.tx(a, submitMsg(a, data, u, 1)))
	}
	h := c.next()
	c.block(txs...)
	// 4·urgency/4 = the urgency value, due h + ⌊50·(1e6 − value)/1e6⌋:
	// low 0 → h+50, normal 200_000 → h+40, high 950_000 → h+⌊2.5⌋ = h+2, critical 1_000_000 → h.
	want := []types.QueueEntry{
		{DueHeight: h, RequestId: 2}, {DueHeight: h, RequestId: 6},
		{DueHeight: h + 2, RequestId: 4},
		{DueHeight: h + 40, RequestId: 3}, {DueHeight: h + 40, RequestId: 7},
		{DueHeight: h + 50, RequestId: 1}, {DueHeight: h + 50, RequestId: 5},
	}
	q := keeper.NewQueryServerImpl(c.App.DeferralKeeper)
	var got []types.QueueEntry
	var key []byte
	for {
		resp, err := q.ShardQueue(c.Committed(), &types.QueryShardQueueRequest{ShardId: dataShard,
			Pagination: &query.PageRequest{Key: key, Limit: 3}})
		require.NoError(t, err)
		got = append(got, resp.Entries...)
		if key = resp.Pagination.NextKey; len(key) == 0 {
			break
		}
		require.Len(t, resp.Entries, 3)
	}
	require.Equal(t, want, got)
	for _, e := range want {
		require.Equal(t, e.DueHeight, c.request(e.RequestId).DueHeight)
	}
}

func invalidAddresses() map[string]string {
	other, err := sdk.Bech32ifyAddressBytes("cosmos", make([]byte, 20))
	if err != nil {
		panic(err)
	}
	return map[string]string{
		"empty":        "",
		"garbage":      "not-an-address",
		"bad checksum": "rep1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
		"other prefix": other,
	}
}
