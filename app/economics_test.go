package app_test

import (
	"fmt"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The economics attack table (docs/economics.md): each attack on the full
// app with the default params, through real signed transactions.

// econRun is a chain with one worker of capacity `capacity` in the
// high-priority shard that completes every assignment in the block after
// it, and requesters that submit `perBlock` one-unit requests each block
// for `blocks` blocks.
type econRun struct {
	t         *testing.T
	c         *apptest.Chain
	worker    apptest.Account
	submitted []uint64
	completed map[uint64]bool
}

func newEconRun(t *testing.T, accounts int, capacity uint64, edits ...func(app.GenesisState)) *econRun {
	c := apptest.New(t, accounts, func(g app.GenesisState) {
		for _, edit := range edits {
			edit(g)
		}
	})
	sp, err := c.App.ShardKeeper.GetParams(c.Committed())
	require.NoError(t, err)
	worker := c.Accounts[0]
	collDeliver(t, c, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: capacity, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	}))
	return &econRun{t: t, c: c, worker: worker, completed: map[uint64]bool{}}
}

// block delivers the submissions and, first, the completions of every
// request assigned so far (each signed by the request's worker), and records
// the new request ids.
func (e *econRun) block(subs ...[]byte) {
	byWorker := map[string][]sdk.Msg{}
	var order []string
	for _, id := range e.submitted {
		if e.completed[id] {
			continue
		}
		req, err := e.c.App.DeferralKeeper.GetRequest(e.c.Committed(), id)
		require.NoError(e.t, err)
		if req.Status == deferraltypes.StatusAssigned {
			if _, ok := byWorker[req.Worker]; !ok {
				order = append(order, req.Worker)
			}
			byWorker[req.Worker] = append(byWorker[req.Worker], &deferraltypes.MsgCompleteRequest{Worker: req.Worker, RequestId: id, ResultHash: collResultHash(id)})
			e.completed[id] = true
		}
	}
	var txs [][]byte
	for _, w := range order {
		for _, a := range e.c.Accounts {
			if a.Address.String() == w {
				txs = append(txs, e.c.SignTx(e.t, a, byWorker[w]...))
			}
		}
	}
	n := len(txs)
	res := collDeliver(e.t, e.c, append(txs, subs...)...)
	for _, r := range res[n:] {
		var data sdk.TxMsgData
		require.NoError(e.t, data.Unmarshal(r.Data))
		for _, raw := range data.MsgResponses {
			var resp deferraltypes.MsgSubmitRequestResponse
			require.NoError(e.t, resp.Unmarshal(raw.Value))
			e.submitted = append(e.submitted, resp.RequestId)
		}
	}
}

// drain runs blocks without submissions until every request completed.
func (e *econRun) drain(limit int) {
	for i := 0; i < limit && len(e.completed) < len(e.submitted); i++ {
		e.block()
	}
	require.Len(e.t, e.completed, len(e.submitted), "every request served")
}

// waits is each request's wait from submission to (first) assignment.
func (e *econRun) waits() map[uint64]int64 {
	out := map[uint64]int64{}
	for _, id := range e.submitted {
		req, err := e.c.App.DeferralKeeper.GetRequest(e.c.Committed(), id)
		require.NoError(e.t, err)
		require.Equal(e.t, deferraltypes.StatusCompleted, req.Status)
		out[id] = req.AssignedHeight - req.SubmitHeight
	}
	return out
}

func (e *econRun) submit(from apptest.Account, urgency deferraltypes.Urgency, n int, tag string) []byte {
	msgs := make([]sdk.Msg, n)
	for i := range msgs {
		msgs[i] = &deferraltypes.MsgSubmitRequest{
			Requester: from.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: urgency, ComputeUnits: 1,
			Payload: []byte(fmt.Sprintf("%s %d", tag, i)), MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 10_000_000),
		}
	}
	return e.c.SignTx(e.t, from, msgs...)
}

// shardPrice is the price per compute unit of shard 1 (high-priority).
func (e *econRun) shardPrice() sdkmath.Int {
	s, err := e.c.App.ShardKeeper.GetShard(e.c.Committed(), 1)
	require.NoError(e.t, err)
	return s.UnitPrice
}

// feesPaid is the sum of the fees of the submitted requests.
func (e *econRun) feesPaid() sdkmath.Int {
	sum := sdkmath.ZeroInt()
	for _, id := range e.submitted {
		req, err := e.c.App.DeferralKeeper.GetRequest(e.c.Committed(), id)
		require.NoError(e.t, err)
		sum = sum.Add(req.Fee.Amount)
	}
	return sum
}

func (e *econRun) balance(a apptest.Account) sdkmath.Int {
	return e.c.App.BankKeeper.GetBalance(e.c.Committed(), a.Address, chaincfg.BondDenom).Amount
}

// Urgency inflation: when every requester says CRITICAL instead of NORMAL,
// every request waits exactly as long as before (equal priorities keep the
// same order, and the capacity is the same) and every one pays 2.5× the
// compute price instead of 1× — at the same shard price path.
func TestUrgencyInflationBuysNothingAndCostsMore(t *testing.T) {
	run := func(u deferraltypes.Urgency) (map[uint64]int64, sdkmath.Int) {
		e := newEconRun(t, 3, 2)
		a, b := e.c.Accounts[1], e.c.Accounts[2]
		for i := 0; i < 10; i++ {
			e.block(e.submit(a, u, 2, fmt.Sprintf("a%d", i)), e.submit(b, u, 2, fmt.Sprintf("b%d", i)))
		}
		e.drain(200)
		return e.waits(), e.feesPaid()
	}
	honest, honestPaid := run(deferraltypes.UrgencyNormal)
	inflated, inflatedPaid := run(deferraltypes.UrgencyCritical)
	require.Equal(t, honest, inflated, "nobody's wait changes when everybody inflates")
	var sum int64
	for _, w := range honest {
		sum += w
	}
	t.Logf("urgency inflation: %d requests, mean wait %.2f blocks either way; paid %s (all normal) vs %s (all critical)",
		len(honest), float64(sum)/float64(len(honest)), honestPaid, inflatedPaid)
	// The shard's price path is the same in both runs (same load), so the
	// request fees differ by the multiplier, up to the rounding up of each
	// fee (at most 1 urep per request).
	require.True(t, inflatedPaid.MulRaw(2).GTE(honestPaid.MulRaw(5)), "everybody pays 2.5× more: %s vs %s", inflatedPaid, honestPaid)
	require.True(t, inflatedPaid.MulRaw(2).LTE(honestPaid.MulRaw(5).AddRaw(2*int64(len(honest)))), "2.5×, not more: %s vs %s", inflatedPaid, honestPaid)
}

// Queue spam: a spammer who keeps a shard's queue full to push its price up
// pays that price for its own requests, which the workers serve first-come:
// its spending per block grows with the price, and is at least the extra
// the price costs an honest one-unit request, times the shard's capacity.
func TestQueueSpamCostsTheSpammerMoreThanItCostsOthers(t *testing.T) {
	const capacity = 4
	e := newEconRun(t, 3, capacity)
	spammer, honest := e.c.Accounts[1], e.c.Accounts[2]
	price := e.shardPrice
	floor := price()
	spentBefore := e.balance(spammer)
	honestExtra := sdkmath.ZeroInt()
	const blocks = 20 // the spammer stays under max_open_requests_per_requester
	for i := 0; i < blocks; i++ {
		// The honest requester pays the current price for one unit: the
		// spam's cost to it is what that price is above the floor.
		honestExtra = honestExtra.Add(price().Sub(floor))
		e.block(e.submit(spammer, deferraltypes.UrgencyNormal, 2*capacity, fmt.Sprintf("spam%d", i)),
			e.submit(honest, deferraltypes.UrgencyNormal, 1, fmt.Sprintf("honest%d", i)))
	}
	peak := price()
	spent := spentBefore.Sub(e.balance(spammer))
	t.Logf("queue spam: %d blocks, price %s → %s urep/unit; the spammer spent %s, the price cost the honest requester %s extra",
		blocks, floor, peak, spent, honestExtra)
	require.True(t, peak.GT(floor), "the spam did raise the price")
	require.True(t, spent.GT(honestExtra.MulRaw(capacity)),
		"the spammer pays more than capacity × the extra it causes per unit of others' demand: %s vs %s", spent, honestExtra)
}

// Spam to force splits: requesters that flood one class make its shards
// split, but never beyond max_shards_per_class, and every split costs them
// the fees of the requests that caused it: each one they submitted is
// escrowed at the shard's (rising) price and paid to the workers that serve it.
func TestSplitSpamIsPaidForAndBounded(t *testing.T) {
	t.Run("default params", func(t *testing.T) { splitSpam(t, 0) })
	t.Run("max_shards_per_class 2", func(t *testing.T) { splitSpam(t, 2) })
}

func splitSpam(t *testing.T, maxShards uint32) {
	const spammers, workers = 4, 6
	e := newEconRun(t, 1+spammers+workers, 2, func(g app.GenesisState) {
		if maxShards > 0 {
			apptest.EditGenesis(t, g, shardtypes.ModuleName, &shardtypes.GenesisState{}, func(gs *shardtypes.GenesisState) {
				gs.Params.MaxShardsPerClass = maxShards
			})
		}
	})
	sp, err := e.c.App.ShardKeeper.GetParams(e.c.Committed())
	require.NoError(t, err)
	var regs [][]byte
	for _, w := range e.c.Accounts[1+spammers:] {
		regs = append(regs, e.c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 2, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
		}))
	}
	collDeliver(t, e.c, regs...)
	before := map[int]sdkmath.Int{}
	for i := 1; i <= spammers; i++ {
		before[i] = e.balance(e.c.Accounts[i])
	}
	activeShards := func() int {
		n := 0
		for id := uint64(1); ; id++ {
			s, err := e.c.App.ShardKeeper.GetShard(e.c.Committed(), id)
			if err != nil {
				return n
			}
			if s.Class == shardtypes.ClassHighPriority && s.Status == shardtypes.ShardActive {
				n++
			}
		}
	}
	maxSeen := 0
	for b := 0; b < 120; b++ {
		var subs [][]byte
		for i := 1; i <= spammers; i++ {
			open, _ := e.c.App.DeferralKeeper.OpenRequests.Get(e.c.Committed(), e.c.Accounts[i].Address)
			if open+4 <= 100 {
				subs = append(subs, e.submit(e.c.Accounts[i], deferraltypes.UrgencyNormal, 4, fmt.Sprintf("s%d.%d", i, b)))
			}
		}
		e.block(subs...)
		maxSeen = max(maxSeen, activeShards())
	}
	spent := sdkmath.ZeroInt()
	for i := 1; i <= spammers; i++ {
		spent = spent.Add(before[i].Sub(e.balance(e.c.Accounts[i])))
	}
	fees := e.feesPaid()
	t.Logf("split spam: %d requests over 120 blocks; up to %d ACTIVE high-priority shards (max_shards_per_class %d); the spammers spent %s, of which request fees %s",
		len(e.submitted), maxSeen, sp.MaxShardsPerClass, spent, fees)
	require.Greater(t, maxSeen, 1, "the spam did force a split")
	require.LessOrEqual(t, maxSeen, int(sp.MaxShardsPerClass), "the shard count stays within max_shards_per_class")
	if maxShards > 0 {
		require.Equal(t, int(maxShards), maxSeen, "the spam reaches the bound and stops there")
	}
	require.True(t, spent.GTE(fees), "the spammers paid every request's fee (escrowed or paid out): %s < %s", spent, fees)
	// Every fee is at least the floor price per unit: the splits were bought.
	require.True(t, fees.GTE(sp.PriceFloor.Amount.MulRaw(int64(len(e.submitted)))))
}

// Queue-and-cancel spam: a spammer who queues requests to push the price up
// and cancels them before they are served pays the queue exit fee on each —
// a share of a fee priced at the shard's current price — so what the spam
// costs it per block grows at least as fast as the price it causes others.
func TestQueueAndCancelSpamPaysTheExitFee(t *testing.T) {
	const capacity = 4
	e := newEconRun(t, 3, capacity)
	spammer, honest := e.c.Accounts[1], e.c.Accounts[2]
	price := e.shardPrice
	// 5-unit requests never fit the 4-unit worker: they wait in the queue,
	// counted in the shard's load, until the spammer cancels them.
	spam := func(i int) []byte {
		msgs := make([]sdk.Msg, 8)
		for j := range msgs {
			msgs[j] = &deferraltypes.MsgSubmitRequest{
				Requester: spammer.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyLow,
				ComputeUnits: 5, Payload: []byte(fmt.Sprintf("spam %d.%d", i, j)), MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 100_000_000),
			}
		}
		return e.c.SignTx(t, spammer, msgs...)
	}
	var queued []uint64
	var exitFees []sdkmath.Int // per block
	var prices []sdkmath.Int   // the price the cancelled spam was submitted at
	honestExtra, floor := sdkmath.ZeroInt(), price()
	spammerBefore := e.balance(spammer)
	var lastPrice sdkmath.Int
	const blocks = 20
	for i := 0; i < blocks; i++ {
		txs := [][]byte{spam(i), e.submit(honest, deferraltypes.UrgencyNormal, 1, fmt.Sprintf("honest%d", i))}
		if len(queued) > 0 {
			msgs := make([]sdk.Msg, len(queued))
			for j, id := range queued {
				msgs[j] = &deferraltypes.MsgCancelRequest{Requester: spammer.Address.String(), RequestId: id}
			}
			txs = append(txs, e.c.SignTx(t, spammer, msgs...))
		}
		honestExtra = honestExtra.Add(price().Sub(floor))
		submittedAt := price()
		res := collDeliver(t, e.c, txs...)
		var data sdk.TxMsgData
		require.NoError(t, data.Unmarshal(res[0].Data))
		next := queued[:0:0]
		for _, raw := range data.MsgResponses {
			var resp deferraltypes.MsgSubmitRequestResponse
			require.NoError(t, resp.Unmarshal(raw.Value))
			require.Equal(t, deferraltypes.StatusQueued, resp.Status)
			next = append(next, resp.RequestId)
		}
		if len(queued) > 0 {
			var cancels sdk.TxMsgData
			require.NoError(t, cancels.Unmarshal(res[2].Data))
			sum := sdkmath.ZeroInt()
			for _, raw := range cancels.MsgResponses {
				var resp deferraltypes.MsgCancelRequestResponse
				require.NoError(t, resp.Unmarshal(raw.Value))
				require.True(t, resp.ExitFee.IsPositive(), "a queued request that leaves pays the exit fee")
				sum = sum.Add(resp.ExitFee.Amount)
			}
			exitFees = append(exitFees, sum)
			prices = append(prices, lastPrice)
		}
		queued, lastPrice = next, submittedAt
	}
	first, last := exitFees[0], exitFees[len(exitFees)-1]
	p0, p1 := prices[0], prices[len(prices)-1]
	total := sdkmath.ZeroInt()
	for _, f := range exitFees {
		total = total.Add(f)
	}
	t.Logf("queue-and-cancel spam: %d blocks of 8 queued 5-unit requests cancelled the next block; price %s → %s urep/unit; exit fees per block %s → %s, %s in all (the spammer spent %s with tx fees, its last block's spam still escrowed); the price cost an honest one-unit-per-block requester %s extra",
		blocks, floor, price(), first, last, total, spammerBefore.Sub(e.balance(spammer)), honestExtra)
	require.True(t, p1.GT(p0.MulRaw(2)), "the spam raised the price: %s → %s", p0, p1)
	// cost growth ≥ price growth, up to 1 urep of flooring per request: last/first ≥ p1/p0
	require.True(t, last.AddRaw(8).Mul(p0).GTE(first.Mul(p1)), "exit fees %s → %s grow at least as fast as the price %s → %s", first, last, p0, p1)
}
