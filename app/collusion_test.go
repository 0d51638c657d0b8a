package app_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardskeeper "github.com/repshard/repshard/x/rewards/keeper"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The colluding-pair measurement (docs/trust.md): what a requester pays for
// its score when its requests go to a worker account of its own, against an
// honest requester whose requests go to independent workers.
//
// Every scenario runs on its own in-memory chain with the default genesis
// (default params of every module, an empty reward pool unless the scenario
// funds it), through real signed transactions at the apptest fee
// (apptest.DefaultTxGas/100 urep per tx, whatever the tx does). The requester
// sends collN one-unit requests, `batch` per tx, one round every two blocks
// (submit; complete and review); the worker of each request completes it and
// rates its requester 5. After the last round the chain runs until the first
// reward epoch has closed and the pair's workers claim (fee earnings and epoch
// rewards, if the pool emitted any). An epoch emits at most the protocol
// shares its completions paid (docs/rewards.md), so even with a funded pool
// the pair's worker earns back from the emission at most the protocol share
// the pair paid: the pair pays at least its tx fees, funded pool or not
// (TestWashTradingFundedPoolDoesNotPay runs it over ten epochs).
//
// Net cost of a colluding pair = what the requester and its workers paid out
// (request fees net of refunds, tx fees, the claim tx) − what its workers
// earned (fee shares and epoch rewards, claimed). Net cost of an honest
// requester = what it paid out; its workers' earnings are not its own.

// collN is the number of completed requests per scenario: few enough that
// the request-rate penalty (free_request_rate 20 per 100 blocks) is not
// reached. With a 5-star review of every request the requester passes x/shard's
// preferred threshold (its fees are discounted from then on) and, later,
// x/deferral's reputation threshold (its requests are then deferred and
// assigned by the same block's EndBlock): docs/reputation.md, Thresholds.
const collN = 30

// collRating is the rating every reviewer gives (a good requester).
const collRating = 5

// collTxFee is what every apptest tx pays.
var collTxFee = sdkmath.NewInt(apptest.DefaultTxGas / 100)

// collGasPrice is the apptest fee per unit of gas limit, urep per 1e6 gas:
// a tx priced by the gas it used instead of its limit would pay
// gas_used·collGasPrice/1e6.
const collGasPrice = 1_000_000 * (apptest.DefaultTxGas / 100) / apptest.DefaultTxGas

type collScenario struct {
	name          string
	replicas      uint32      // 0: not replicated
	pairWorkers   int         // worker accounts of the requester's owner
	honestWorkers int         // independent workers
	batch         int         // requests per submit tx (and per round)
	combine       bool        // a worker sends all its completes and reviews of a round in one tx
	pairBond      sdkmath.Int // bond of the pair's workers (zero: min_worker_bond, as the honest workers)
	fundPool      int64       // urep a bystander puts in the reward pool before the run
	compare       string      // the honest scenario whose score gain this one must not exceed
	floor         bool        // assert net cost ≥ protocol share + tx fees (no emission to earn)
}

type collResult struct {
	sc            collScenario
	before, after uint32
	reqFees       sdkmath.Int // request fees the requester paid, net of refunds
	charged       sdkmath.Int // the fees of the requests, one share per replica
	protocol      sdkmath.Int // protocol_fee_share_ppm of reqFees
	txs           int         // txs signed by the paying side (requester and pair workers)
	txFees        sdkmath.Int
	gas           int64       // gas used by those txs
	earnedFees    sdkmath.Int // fee earnings of the pair's workers, claimed
	earnedEpoch   sdkmath.Int // epoch rewards of the pair's workers, claimed
	net           sdkmath.Int // pair: out − in; honest: out
	weight        uint64      // mean review weight (ppm)
	pairReviews   int         // reviews written by the pair's own workers
	workerTxs     int         // txs signed by the pair's workers (part of txs)
	closedEpochs  uint64
	emitted       sdkmath.Int // what the closed epochs emitted (all workers)
}

// gain is the score gained (ppm).
func (r collResult) gain() int64 { return int64(r.after) - int64(r.before) }

// per01 is a cost per +0.01 (10 000 ppm) of score.
func (r collResult) per01(cost sdkmath.Int) sdkmath.Int {
	return cost.MulRaw(10_000).QuoRaw(r.gain())
}

// gasPricedNet is the net cost if each tx paid for the gas it used at the
// apptest gas price instead of the fixed apptest fee.
func (r collResult) gasPricedNet() sdkmath.Int {
	return r.net.Sub(r.txFees).Add(sdkmath.NewInt(r.gas * collGasPrice / 1_000_000))
}

func collResultHash(id uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	h := sha256.Sum256(b[:])
	return h[:]
}

// collDeliver delivers txs in the next block and requires each to succeed and
// the app's invariants to hold.
func collDeliver(t *testing.T, c *apptest.Chain, txs ...[]byte) []*abci.ExecTxResult {
	t.Helper()
	res := c.NextBlock(t, txs...)
	for i, r := range res {
		require.Zero(t, r.Code, "block %d tx %d: %s", c.App.LastBlockHeight(), i, r.Log)
	}
	require.NoError(t, c.App.CheckInvariants(c.Committed()), "invariants after block %d", c.App.LastBlockHeight())
	return res
}

func runCollusion(t *testing.T, sc collScenario) collResult {
	t.Helper()
	n := 1 + sc.pairWorkers + sc.honestWorkers + 1
	c := apptest.New(t, n, nil)
	ctx := c.Committed()
	requester := c.Accounts[0]
	pair := c.Accounts[1 : 1+sc.pairWorkers]
	honest := c.Accounts[1+sc.pairWorkers : 1+sc.pairWorkers+sc.honestWorkers]
	bystander := c.Accounts[n-1]
	byAddr := map[string]apptest.Account{}
	paying := map[string]bool{requester.Address.String(): true}
	for _, a := range c.Accounts {
		byAddr[a.Address.String()] = a
	}
	for _, a := range pair {
		paying[a.Address.String()] = true
	}

	shardParams, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	deferralParams, err := c.App.DeferralKeeper.GetParams(ctx)
	require.NoError(t, err)
	rewardsParams, err := c.App.RewardsKeeper.GetParams(ctx)
	require.NoError(t, err)
	require.Equal(t, deferraltypes.DefaultParams(), deferralParams, "default params")
	require.Equal(t, rewardstypes.DefaultParams(), rewardsParams, "default params")

	// Setup (not counted): the workers register, the pair's with free
	// capacity 2·batch so that it is the best fit (the least free capacity
	// that fits) against honest workers with one unit more: in a replicated
	// request it is the first replica, whose worker reviews the request.
	class := shardtypes.ClassLowPriority
	register := func(a apptest.Account, capacity uint64, bond sdkmath.Int) []byte {
		return c.SignTx(t, a, &shardtypes.MsgRegisterWorker{
			Worker: a.Address.String(), Classes: []shardtypes.ShardClass{class},
			CapacityUnits: capacity, StorageBytes: 1 << 20, Bond: sdk.NewCoin(chaincfg.BondDenom, bond),
		})
	}
	var setup [][]byte
	pairBond := sc.pairBond
	if pairBond.IsNil() || pairBond.IsZero() {
		pairBond = shardParams.MinWorkerBond.Amount
	}
	for _, a := range pair {
		setup = append(setup, register(a, uint64(2*sc.batch), pairBond))
	}
	for _, a := range honest {
		setup = append(setup, register(a, uint64(2*sc.batch+1), shardParams.MinWorkerBond.Amount))
	}
	if sc.fundPool > 0 {
		setup = append(setup, c.SignTx(t, bystander, &rewardstypes.MsgFundPool{
			Funder: bystander.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, sc.fundPool),
		}))
	}
	collDeliver(t, c, setup...)

	payers := append([]apptest.Account{requester}, pair...)
	balance := func(a apptest.Account) sdkmath.Int {
		return c.App.BankKeeper.GetBalance(c.Committed(), a.Address, chaincfg.BondDenom).Amount
	}
	score := func() uint32 {
		s, err := c.App.ReputationKeeper.Score(c.Committed(), requester.Address)
		require.NoError(t, err)
		return s
	}
	before := map[string]sdkmath.Int{}
	for _, a := range payers {
		before[a.Address.String()] = balance(a)
	}
	res := collResult{sc: sc, before: score(), earnedFees: sdkmath.ZeroInt(), earnedEpoch: sdkmath.ZeroInt(), charged: sdkmath.ZeroInt()}
	count := func(signer apptest.Account, r *abci.ExecTxResult) {
		if paying[signer.Address.String()] {
			res.txs++
			res.gas += r.GasUsed
			if !signer.Address.Equals(requester.Address) {
				res.workerTxs++
			}
		}
	}

	replicas := max(sc.replicas, 1)
	require.Zero(t, collN%sc.batch)
	for round := 0; round < collN/sc.batch; round++ {
		// Block 1: the requester submits a batch in one tx.
		msgs := make([]sdk.Msg, sc.batch)
		for i := range msgs {
			msgs[i] = &deferraltypes.MsgSubmitRequest{
				Requester: requester.Address.String(), Class: class, Urgency: deferraltypes.UrgencyNormal,
				ComputeUnits: 1, Payload: []byte(fmt.Sprintf("job %d.%d", round, i)),
				MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000_000), Replicas: sc.replicas,
			}
		}
		r := collDeliver(t, c, c.SignTx(t, requester, msgs...))[0]
		count(requester, r)
		var data sdk.TxMsgData
		require.NoError(t, data.Unmarshal(r.Data))
		require.Len(t, data.MsgResponses, sc.batch)

		// Block 2: every replica's worker completes (all report the same
		// hash); the worker the chain will record for the request — the
		// only one, or the first agreeing replica — rates the requester.
		completes := map[string][]sdk.Msg{}
		reviews := map[string][]sdk.Msg{}
		reviewer := map[uint64]string{}
		var workers []string
		addMsg := func(m map[string][]sdk.Msg, w string, msg sdk.Msg) {
			if !slices.Contains(workers, w) {
				workers = append(workers, w)
			}
			m[w] = append(m[w], msg)
		}
		var ids []uint64
		for _, raw := range data.MsgResponses {
			var resp deferraltypes.MsgSubmitRequestResponse
			require.NoError(t, resp.Unmarshal(raw.Value))
			if resp.Status != deferraltypes.StatusAssigned {
				// Above defer_reputation_threshold_ppm (completions and good
				// reviews) a request is deferred for its requester's
				// reputation, and the same block's EndBlock assigns it.
				require.Equal(t, deferraltypes.DeferReputation, resp.DeferReason, "request %d", resp.RequestId)
			}
			req, err := c.App.DeferralKeeper.GetRequest(c.Committed(), resp.RequestId)
			require.NoError(t, err)
			require.Equal(t, deferraltypes.StatusAssigned, req.Status, "request %d", req.Id)
			require.Equal(t, resp.FeeQuote.Fee, req.Fee)
			// A completed request costs one share per replica (the tie-break
			// shares are refunded).
			res.charged = res.charged.Add(req.Fee.Amount.QuoRaw(int64(replicas + req.TiebreakBudget)).MulRaw(int64(replicas)))
			assigned := []string{req.Worker}
			if replicas > 1 {
				require.Len(t, req.ReplicaRuns, int(replicas))
				assigned = assigned[:0]
				for _, run := range req.ReplicaRuns {
					assigned = append(assigned, run.Worker)
				}
			}
			for _, w := range assigned {
				require.NotEqual(t, requester.Address.String(), w)
				addMsg(completes, w, &deferraltypes.MsgCompleteRequest{Worker: w, RequestId: req.Id, ResultHash: collResultHash(req.Id)})
			}
			reviewer[req.Id] = assigned[0]
			addMsg(reviews, assigned[0], &reputationtypes.MsgSubmitReview{Reviewer: assigned[0], RequestId: req.Id, Rating: collRating})
			ids = append(ids, req.Id)
		}
		// Reviews come after every completion of the block (a replicated
		// request is decided at its last report): workers without reviews
		// first; with combine, a reviewer's one tx carries its completes
		// then its reviews.
		slices.SortStableFunc(workers, func(a, b string) int { return len(reviews[a]) - len(reviews[b]) })
		var txs [][]byte
		var signers []apptest.Account
		sign := func(w string, msgs ...sdk.Msg) {
			txs = append(txs, c.SignTx(t, byAddr[w], msgs...))
			signers = append(signers, byAddr[w])
		}
		if sc.combine {
			for _, w := range workers {
				sign(w, append(slices.Clone(completes[w]), reviews[w]...)...)
			}
		} else {
			for _, w := range workers {
				for _, m := range completes[w] {
					sign(w, m)
				}
			}
			for _, w := range workers {
				for _, m := range reviews[w] {
					sign(w, m)
				}
			}
		}
		results := collDeliver(t, c, txs...)
		for i, r := range results {
			count(signers[i], r)
		}
		for _, id := range ids {
			req, err := c.App.DeferralKeeper.GetRequest(c.Committed(), id)
			require.NoError(t, err)
			require.Equal(t, deferraltypes.StatusCompleted, req.Status, "request %d", id)
			require.Equal(t, reviewer[id], req.Worker, "request %d: the reviewer is its recorded worker", id)
			if paying[reviewer[id]] {
				res.pairReviews++
			}
		}
	}
	res.after = score()
	p, found, err := c.App.ReputationKeeper.GetProfile(c.Committed(), requester.Address)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, uint64(collN), p.ReviewsReceived)
	res.weight = p.PeerRatingWeight.QuoRaw(collN).Uint64()

	// Run to the end of the first reward epoch, then the pair's workers claim.
	open, err := c.App.RewardsKeeper.GetOpenEpoch(c.Committed())
	require.NoError(t, err)
	first := open.Number
	for i := 0; open.Number == first; i++ {
		require.Less(t, i, int(rewardsParams.EpochLengthBlocks)+1, "epoch %d never closed", first)
		collDeliver(t, c)
		open, err = c.App.RewardsKeeper.GetOpenEpoch(c.Committed())
		require.NoError(t, err)
	}
	res.closedEpochs = open.Number - 1
	res.emitted = sdkmath.ZeroInt()
	for e := uint64(1); e < open.Number; e++ {
		rec, err := c.App.RewardsKeeper.GetEpochRecord(c.Committed(), e)
		if err == nil {
			res.emitted = res.emitted.Add(rec.Emitted)
		}
	}
	q := rewardskeeper.NewQueryServerImpl(c.App.RewardsKeeper)
	for _, w := range pair {
		pending, err := q.PendingRewards(c.Committed(), &rewardstypes.QueryPendingRewardsRequest{Address: w.Address.String()})
		require.NoError(t, err)
		if !pending.Total.IsPositive() {
			continue
		}
		res.earnedFees = res.earnedFees.Add(pending.Fees.Amount)
		res.earnedEpoch = res.earnedEpoch.Add(pending.EpochRewards.Amount)
		r := collDeliver(t, c, c.SignTx(t, w, &rewardstypes.MsgClaimRewards{Worker: w.Address.String()}))[0]
		count(w, r)
	}

	res.net = sdkmath.ZeroInt()
	for _, a := range payers {
		res.net = res.net.Add(before[a.Address.String()].Sub(balance(a)))
	}
	res.txFees = collTxFee.MulRaw(int64(res.txs))
	requesterTxs := collN / sc.batch
	res.reqFees = before[requester.Address.String()].Sub(balance(requester)).Sub(collTxFee.MulRaw(int64(requesterTxs)))
	// Each completed request costs one share (its fee quote: units × price,
	// less the preferred discount) per replica.
	require.Equal(t, res.charged, res.reqFees, "%s: request fees", sc.name)
	res.protocol = res.reqFees.MulRaw(int64(rewardsParams.ProtocolFeeSharePpm)).QuoRaw(1_000_000)
	// The books: out − in.
	require.Equal(t, res.reqFees.Add(res.txFees).Sub(res.earnedFees).Sub(res.earnedEpoch), res.net, "%s: net cost", sc.name)
	return res
}

// TestCollusionPairVersusHonest measures, side by side, the cost per +0.01 of
// requester score for a colluding pair (requester and worker of one owner,
// the worker alone in its class) and for an honest requester (three
// independent workers), and for pairs whose requests are replicated on
// workers they do not control. Figures: docs/BENCHMARKS.md#colluding-pair.
func TestCollusionPairVersusHonest(t *testing.T) {
	refBond := reputationtypes.DefaultParams().PeerBondReferenceAmount
	scenarios := []collScenario{
		{name: "honest", honestWorkers: 3, batch: 1},
		{name: "pair", pairWorkers: 1, batch: 1, compare: "honest", floor: true},
		{name: "pair, replicas=2 (1 of 2)", replicas: 2, pairWorkers: 1, honestWorkers: 1, batch: 1, compare: "honest", floor: true},
		{name: "pair, replicas=3 (1 of 3)", replicas: 3, pairWorkers: 1, honestWorkers: 2, batch: 1, compare: "honest", floor: true},
		{name: "honest, 10 per tx", honestWorkers: 3, batch: 10},
		{name: "pair, 10 per tx, 1 worker tx", pairWorkers: 1, batch: 10, combine: true, compare: "honest, 10 per tx", floor: true},
		// Levers, logged and not compared with the honest requester:
		{name: "pair, W bond 100 REP", pairWorkers: 1, batch: 1, pairBond: refBond, floor: true},
		{name: "pair, replicas=3 (3 of 3)", replicas: 3, pairWorkers: 3, batch: 1, compare: "honest", floor: true},
		{name: "pair, pool funded 5 REP", pairWorkers: 1, batch: 1, fundPool: 5_000_000, compare: "honest"},
	}
	results := map[string]collResult{}
	var lines []string
	lines = append(lines, fmt.Sprintf("%-30s %17s %8s %7s %6s %4s %9s %9s %9s %10s %10s %10s %7s %6s",
		"scenario", "score", "Δ/compl", "fees", "proto", "txs", "tx fees", "W fees", "W epoch", "net cost", "per +0.01", "gas-priced", "gas/tx", "weight"))
	for _, sc := range scenarios {
		r := runCollusion(t, sc)
		results[sc.name] = r
		require.Positive(t, r.gain(), "%s: the score rises", sc.name)
		lines = append(lines, fmt.Sprintf("%-30s %7d→%-9d %8d %7s %6s %4d %9s %9s %9s %10s %10s %10s %7d %6d",
			sc.name, r.before, r.after, r.gain()/collN, r.reqFees, r.protocol, r.txs, r.txFees, r.earnedFees, r.earnedEpoch,
			r.net, r.per01(r.net), r.per01(r.gasPricedNet()), r.gas/int64(r.txs), r.weight))
	}
	t.Logf("colluding pair vs honest requester: %d one-unit requests each, default params, apptest fee %s urep/tx "+
		"(gas-priced: gas used × %d urep per 1e6 gas); costs in urep\n%s",
		collN, collTxFee, collGasPrice, strings.Join(lines, "\n"))

	for _, sc := range scenarios {
		r := results[sc.name]
		if sc.pairWorkers > 0 {
			t.Logf("%s: %d of %d reviews by the pair's own worker; %d worker txs; epochs closed %d, emitted %s urep in all",
				sc.name, r.pairReviews, collN, r.workerTxs, r.closedEpochs, r.emitted)
		}
		if sc.compare != "" {
			h := results[sc.compare]
			require.LessOrEqual(t, r.gain(), h.gain(), "%s gains no more score than %s", sc.name, sc.compare)
			t.Logf("%-30s / %-18s cost per +0.01: %.3f (apptest fee), %.3f (gas-priced)", sc.name, sc.compare,
				ratio(r.per01(r.net), h.per01(h.net)), ratio(r.per01(r.gasPricedNet()), h.per01(h.gasPricedNet())))
		}
		floor := r.protocol.Add(r.txFees)
		if sc.pairWorkers > 0 {
			// Whatever the pool holds, the emission the pair's workers earn is
			// at most the protocol share the pair paid, so the pair pays at
			// least its tx fees: it never profits.
			require.True(t, r.earnedEpoch.LTE(r.protocol), "%s: epoch rewards %s ≤ protocol share %s", sc.name, r.earnedEpoch, r.protocol)
			require.True(t, r.net.GTE(r.txFees), "%s: net cost %s ≥ tx fees %s", sc.name, r.net, r.txFees)
			if sc.floor {
				require.True(t, r.net.GTE(floor), "%s: net cost %s ≥ protocol share %s + tx fees %s", sc.name, r.net, r.protocol, r.txFees)
			} else {
				t.Logf("%s: net cost %s = protocol share + tx fees %s − epoch rewards %s (pool funded %d)",
					sc.name, r.net, floor, r.earnedEpoch, sc.fundPool)
			}
		}
	}
}

func ratio(a, b sdkmath.Int) float64 {
	return float64(a.Int64()) / float64(b.Int64())
}
