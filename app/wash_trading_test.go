package app_test

import (
	"fmt"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// Wash trading against a funded reward pool (docs/economics.md#emission-rewards-that-self-dealing-cannot-farm): a
// requester R and a worker W of one owner, W the only worker of its class,
// run one-unit requests between themselves every epoch, while a third party
// has put washPool urep in the reward pool. An epoch emits at most the
// protocol shares its completions paid, so what W earns from the pool never
// exceeds what R paid to the protocol, and the pair loses at least its tx
// fees — whatever the emission params.

const (
	washPool      = 5_000_000 // urep a bystander puts in the reward pool
	washEpochs    = 10        // reward epochs the pair trades through
	washPerEpoch  = 10        // one-unit requests per epoch, in one submit tx
	washFeeBudget = 1_000_000 // max fee of each request
)

type washRun struct {
	name string
	edit func(*rewardstypes.Params)
}

type washResult struct {
	requests                int
	fees, protocol          sdkmath.Int // request fees R paid; their protocol share (EventWorkerPaid)
	txs                     int
	txFees                  sdkmath.Int
	earnedFees, earnedEpoch sdkmath.Int // W's claim: fee earnings and epoch rewards
	scheduled, emitted      sdkmath.Int // Σ over the closed epochs (EventEpochClosed)
	poolBefore, poolAfter   sdkmath.Int
	net                     sdkmath.Int // the pair's balances after − before
}

func runWashTrading(t *testing.T, run washRun) washResult {
	t.Helper()
	c := apptest.New(t, 3, func(g app.GenesisState) {
		if run.edit == nil {
			return
		}
		apptest.EditGenesis(t, g, rewardstypes.ModuleName, &rewardstypes.GenesisState{}, func(gs *rewardstypes.GenesisState) {
			run.edit(&gs.Params)
			require.NoError(t, gs.Params.Validate(), "the run's params are ones validation accepts")
		})
	})
	requester, worker, bystander := c.Accounts[0], c.Accounts[1], c.Accounts[2]
	shardParams, err := c.App.ShardKeeper.GetParams(c.Committed())
	require.NoError(t, err)

	// Setup (not counted): W registers, a bystander funds the pool.
	class := shardtypes.ClassLowPriority
	collDeliver(t, c,
		c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
			Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{class},
			CapacityUnits: 2 * washPerEpoch, StorageBytes: 1 << 20, Bond: shardParams.MinWorkerBond,
		}),
		c.SignTx(t, bystander, &rewardstypes.MsgFundPool{
			Funder: bystander.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, washPool),
		}))

	balance := func(a apptest.Account) sdkmath.Int {
		return c.App.BankKeeper.GetBalance(c.Committed(), a.Address, chaincfg.BondDenom).Amount
	}
	pool := func() sdkmath.Int {
		p, err := c.App.RewardsKeeper.GetPool(c.Committed())
		require.NoError(t, err)
		return p
	}
	before := balance(requester).Add(balance(worker))
	zero := sdkmath.ZeroInt()
	res := washResult{fees: zero, protocol: zero, earnedFees: zero, earnedEpoch: zero, scheduled: zero, emitted: zero, poolBefore: pool()}
	txEvents := func(results []*abci.ExecTxResult) {
		for _, r := range results {
			res.txs++
			for _, e := range apptest.TypedEvents[*rewardstypes.EventWorkerPaid](t, r.Events) {
				res.fees = res.fees.Add(e.Fee.Amount)
				res.protocol = res.protocol.Add(e.ProtocolShare.Amount)
			}
			for _, e := range apptest.TypedEvents[*rewardstypes.EventRewardsClaimed](t, r.Events) {
				res.earnedFees = res.earnedFees.Add(e.Fees.Amount)
				res.earnedEpoch = res.earnedEpoch.Add(e.EpochRewards.Amount)
			}
		}
	}
	blockEvents := func() {
		for _, e := range apptest.TypedEvents[*rewardstypes.EventEpochClosed](t, c.BlockEvents) {
			res.scheduled = res.scheduled.Add(e.Scheduled.Amount)
			res.emitted = res.emitted.Add(e.Emitted.Amount)
			require.True(t, e.Emitted.IsLTE(e.Scheduled), "epoch %d: emitted %s ≤ scheduled %s", e.Number, e.Emitted, e.Scheduled)
		}
	}
	deliver := func(txs ...[]byte) []*abci.ExecTxResult {
		results := collDeliver(t, c, txs...)
		blockEvents()
		return results
	}

	openEpoch := func() uint64 {
		e, err := c.App.RewardsKeeper.GetOpenEpoch(c.Committed())
		require.NoError(t, err)
		return e.Number
	}
	for round := 0; round < washEpochs; round++ {
		epoch := openEpoch()
		// Block 1: R submits the epoch's requests in one tx.
		msgs := make([]sdk.Msg, washPerEpoch)
		for i := range msgs {
			msgs[i] = &deferraltypes.MsgSubmitRequest{
				Requester: requester.Address.String(), Class: class, Urgency: deferraltypes.UrgencyNormal,
				ComputeUnits: 1, Payload: []byte(fmt.Sprintf("wash %d.%d", round, i)),
				MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, washFeeBudget),
			}
		}
		r := deliver(c.SignTx(t, requester, msgs...))
		txEvents(r)
		var data sdk.TxMsgData
		require.NoError(t, data.Unmarshal(r[0].Data))
		require.Len(t, data.MsgResponses, washPerEpoch)
		// Block 2: W completes them all in one tx.
		var completes []sdk.Msg
		for _, raw := range data.MsgResponses {
			var resp deferraltypes.MsgSubmitRequestResponse
			require.NoError(t, resp.Unmarshal(raw.Value))
			require.Equal(t, deferraltypes.StatusAssigned, resp.Status, "request %d: %s", resp.RequestId, resp.DeferReason)
			req, err := c.App.DeferralKeeper.GetRequest(c.Committed(), resp.RequestId)
			require.NoError(t, err)
			require.Equal(t, worker.Address.String(), req.Worker, "W is the only worker of the class")
			completes = append(completes, &deferraltypes.MsgCompleteRequest{
				Worker: req.Worker, RequestId: req.Id, ResultHash: collResultHash(req.Id),
			})
		}
		txEvents(deliver(c.SignTx(t, worker, completes...)))
		res.requests += washPerEpoch
		// The rest of the epoch is idle; it closes.
		for openEpoch() == epoch {
			deliver()
		}
	}
	// W claims its fee earnings and epoch rewards of all ten epochs.
	txEvents(deliver(c.SignTx(t, worker, &rewardstypes.MsgClaimRewards{Worker: worker.Address.String()})))

	res.poolAfter = pool()
	res.txFees = collTxFee.MulRaw(int64(res.txs))
	res.net = balance(requester).Add(balance(worker)).Sub(before)
	// The books: the pair's net is what it earned less what it paid.
	require.Equal(t, res.earnedFees.Add(res.earnedEpoch).Sub(res.fees).Sub(res.txFees).String(), res.net.String(), "%s: net", run.name)
	require.Equal(t, res.fees.Sub(res.protocol).String(), res.earnedFees.String(), "%s: W earned the fees less the protocol share", run.name)
	// The pool's book: every urep the bystander put in is in the pool, paid
	// to W, or still reserved (rounding dust, epochs W has not settled).
	l, err := c.App.RewardsKeeper.GetLedger(c.Committed())
	require.NoError(t, err)
	require.Equal(t, sdkmath.NewInt(washPool).String(), l.Funded.String())
	require.Equal(t, l.Funded.String(), res.poolAfter.Add(res.earnedEpoch).Add(l.EpochRewardsOwed).Add(l.Unsettled).Add(l.Dust).String(),
		"%s: funded = pool + claimed by W + still owed + dust", run.name)
	return res
}

// TestWashTradingFundedPoolDoesNotPay: a third party funds the reward pool
// with 5 REP; a requester and a worker of one owner run ten one-unit
// requests per epoch for ten epochs, then the worker claims. With the
// default params, and with the most generous emission validation accepts
// (the whole pool each epoch, by fraction or by a fixed amount above the
// pool, with a protocol share of 5% and of 100%), the pair ends poorer than
// it started: the emission it earned is at most the protocol share it paid.
func TestWashTradingFundedPoolDoesNotPay(t *testing.T) {
	wholePool := func(p *rewardstypes.Params) {
		p.EpochEmissionFixed = sdk.NewInt64Coin(chaincfg.BondDenom, 0)
		p.EpochEmissionFractionPpm = 1_000_000
	}
	runs := []washRun{
		{name: "default params (1 REP scheduled per epoch)"},
		{name: "whole pool each epoch (fraction 1 000 000 ppm)", edit: wholePool},
		{name: "fixed 1e30 urep per epoch (above any pool)", edit: func(p *rewardstypes.Params) {
			p.EpochEmissionFixed = sdk.NewCoin(chaincfg.BondDenom, sdkmath.NewIntWithDecimal(1, 30))
		}},
		{name: "whole pool each epoch, protocol share 100%", edit: func(p *rewardstypes.Params) {
			wholePool(p)
			p.ProtocolFeeSharePpm = 1_000_000
		}},
	}
	lines := []string{fmt.Sprintf("%-46s %5s %8s %8s %7s %8s %10s %9s %9s %9s %10s %9s",
		"run", "reqs", "fees", "protocol", "txs", "tx fees", "scheduled", "emitted", "W fees", "W epoch", "pool after", "net")}
	for _, run := range runs {
		r := runWashTrading(t, run)
		lines = append(lines, fmt.Sprintf("%-46s %5d %8s %8s %7d %8s %10s %9s %9s %9s %10s %9s",
			run.name, r.requests, r.fees, r.protocol, r.txs, r.txFees, r.scheduled, r.emitted, r.earnedFees, r.earnedEpoch, r.poolAfter, r.net))
		require.Equal(t, washEpochs*washPerEpoch, r.requests)
		require.True(t, r.protocol.IsPositive(), "%s: the pair paid a protocol share", run.name)
		require.True(t, r.scheduled.GT(r.emitted), "%s: the schedule offered more than the cap let out", run.name)
		require.True(t, r.earnedEpoch.LTE(r.protocol), "%s: emission earned %s ≤ protocol share paid %s", run.name, r.earnedEpoch, r.protocol)
		require.True(t, r.emitted.LTE(r.protocol), "%s: emitted %s ≤ protocol shares paid %s", run.name, r.emitted, r.protocol)
		require.False(t, r.net.IsPositive(), "%s: the pair's net %s must not be positive", run.name, r.net)
		require.True(t, r.net.LTE(r.txFees.Neg()), "%s: the pair loses at least its tx fees: net %s", run.name, r.net)
		require.True(t, r.poolAfter.GTE(sdkmath.NewInt(washPool).Sub(r.protocol)), "%s: the pool keeps all but the protocol shares", run.name)
	}
	t.Logf("wash trading: R and W of one owner, %d one-unit requests per epoch for %d epochs, pool funded %d urep by a third party, "+
		"apptest fee %s urep/tx; amounts in urep (scheduled: Σ what the schedule offered; emitted: Σ what the cap let out)\n%s",
		washPerEpoch, washEpochs, washPool, collTxFee, strings.Join(lines, "\n"))
}
