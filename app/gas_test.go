package app_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	storetypes "cosmossdk.io/store/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

func submitMsg(from sdk.AccAddress, class shardtypes.ShardClass) *deferraltypes.MsgSubmitRequest {
	return &deferraltypes.MsgSubmitRequest{
		Requester: from.String(), Class: class, Urgency: deferraltypes.UrgencyNormal, ComputeUnits: 2,
		Payload: []byte("resize image 42"), MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 100_000),
	}
}

func gasOf(t *testing.T, res *abci.ExecTxResult) int64 {
	t.Helper()
	require.Zero(t, res.Code, res.Log)
	return res.GasUsed
}

// The gas of MsgSubmitRequest against the SDK's own bank MsgSend, measured
// in one run on the same chain, in steady state (accounts, profiles and
// module accounts exist). Figures go to docs/BENCHMARKS.md; the target there
// is ≤ 1.5× MsgSend. This test guards the measured figures against
// regressions.
func TestSubmitRequestGasVersusBankSend(t *testing.T) {
	c := apptest.New(t, 4, nil)
	requester, other, worker := c.Accounts[0], c.Accounts[1], c.Accounts[2]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	// One worker with ample capacity for the high-priority class; the
	// low-priority shard has none, so its requests are deferred.
	for _, res := range c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 1_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})) {
		require.Zero(t, res.Code, res.Log)
	}

	var send, assigned, deferred int64
	for round := 0; round < 3; round++ {
		res := c.NextBlock(t,
			c.SignTx(t, requester, banktypes.NewMsgSend(requester.Address, other.Address, sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, 1000)))),
			c.SignTx(t, requester, submitMsg(requester.Address, shardtypes.ClassHighPriority)),
			c.SignTx(t, requester, submitMsg(requester.Address, shardtypes.ClassLowPriority)),
		)
		var a, d deferraltypes.MsgSubmitRequestResponse
		c.MsgResponse(t, res[1], &a)
		c.MsgResponse(t, res[2], &d)
		require.Equal(t, deferraltypes.StatusAssigned, a.Status)
		require.Equal(t, deferraltypes.StatusQueued, d.Status)
		send, assigned, deferred = gasOf(t, res[0]), gasOf(t, res[1]), gasOf(t, res[2])
	}
	dp, err := c.App.DeferralKeeper.GetParams(c.Context())
	require.NoError(t, err)
	t.Logf("gas: bank MsgSend %d, MsgSubmitRequest assigned at once %d (%.2f×), deferred %d (%.2f×, of which %d prepaid drain)",
		send, assigned, float64(assigned)/float64(send), deferred, float64(deferred)/float64(send), dp.GasPerDrain)

	// A deferred request pays its later drain on top of the same writes.
	require.GreaterOrEqual(t, deferred-assigned, int64(dp.GasPerDrain)/2)
	// Regression guards at the figures recorded in docs/BENCHMARKS.md (+10%).
	require.LessOrEqual(t, float64(assigned)/float64(send), 2.05, "assigned-at-once submission got more expensive")
	require.LessOrEqual(t, float64(deferred)/float64(send), 2.5, "deferred submission got more expensive")
}

// The gas charged at submission for the later drain (gas_per_drain) must
// cover what the drain really costs when metered, without inflating it.
func TestDrainGasMatchesTheCharge(t *testing.T) {
	c := apptest.New(t, 3, nil)
	requester, worker := c.Accounts[0], c.Accounts[1]
	// Queued first: the shard has no worker yet.
	for i := 0; i < 2; i++ {
		for _, res := range c.NextBlock(t, c.SignTx(t, requester, submitMsg(requester.Address, shardtypes.ClassHighPriority))) {
			require.Zero(t, res.Code, res.Log)
		}
	}
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	// The per-block work that drains nothing (the topology step's load EMAs,
	// the index scans) is not a drain's cost: measured on a scratch context
	// with no worker to drain to, and taken off below.
	baseMeter := storetypes.NewInfiniteGasMeter()
	baseCtx := c.Context().WithBlockHeight(c.App.LastBlockHeight() + 1).WithGasMeter(baseMeter)
	require.NoError(t, c.App.DeferralKeeper.EndBlocker(baseCtx))
	// The worker registers in a tx; its first EndBlock drains both requests.
	// A scratch context on the committed state (the check state).
	ctx := c.Context().WithBlockHeight(c.App.LastBlockHeight() + 1)
	_, err = c.App.MsgServiceRouter().Handler(&shardtypes.MsgRegisterWorker{})(ctx, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 100, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})
	require.NoError(t, err)
	meter := storetypes.NewInfiniteGasMeter()
	ctx = ctx.WithGasMeter(meter)
	require.NoError(t, c.App.DeferralKeeper.EndBlocker(ctx))
	assigned := 0
	for _, e := range ctx.EventManager().Events() {
		if e.Type == "repshard.deferral.v1.EventRequestAssigned" {
			assigned++
		}
	}
	require.Equal(t, 2, assigned)
	perDrain := (meter.GasConsumed() - baseMeter.GasConsumed()) / 2
	dp, err := c.App.DeferralKeeper.GetParams(ctx)
	require.NoError(t, err)
	t.Logf("metered drain: %d gas per request; charged at submission: %d", perDrain, dp.GasPerDrain)
	require.GreaterOrEqual(t, dp.GasPerDrain, perDrain, "the drain costs more than submissions prepay")
	require.LessOrEqual(t, dp.GasPerDrain, perDrain*5/4, "submissions prepay much more than the drain costs")
}

// Replicated execution is an optional extra, measured on its own: the gas of
// a 3-replica submission assigned at once and of each replica's report,
// against a one-worker submission and report in the same run. Figures go to
// docs/BENCHMARKS.md. The guards check that a replicated submission costs
// less than three single ones (it shares the record and the checks) and
// that a single submission is unchanged by the replica code.
func TestReplicatedSubmissionGas(t *testing.T) {
	c := apptest.New(t, 6, nil)
	requester, other := c.Accounts[0], c.Accounts[1]
	workers := c.Accounts[2:5]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	var regs [][]byte
	for _, w := range workers {
		regs = append(regs, c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 1_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
		}))
	}
	for _, res := range c.NextBlock(t, regs...) {
		require.Zero(t, res.Code, res.Log)
	}
	replicated := submitMsg(requester.Address, shardtypes.ClassHighPriority)
	replicated.Replicas = 3

	var send, single, triple, singleReport, replicaReport, plainReplicaReport int64
	for round := 0; round < 3; round++ {
		res := c.NextBlock(t,
			c.SignTx(t, requester, banktypes.NewMsgSend(requester.Address, other.Address, sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, 1000)))),
			c.SignTx(t, requester, submitMsg(requester.Address, shardtypes.ClassHighPriority)),
			c.SignTx(t, requester, replicated),
		)
		var one, three deferraltypes.MsgSubmitRequestResponse
		c.MsgResponse(t, res[1], &one)
		c.MsgResponse(t, res[2], &three)
		require.Equal(t, deferraltypes.StatusAssigned, one.Status)
		require.Len(t, three.ReplicaWorkers, 3)
		send, single, triple = gasOf(t, res[0]), gasOf(t, res[1]), gasOf(t, res[2])

		hash := make([]byte, 32)
		signer := func(addr string) apptest.Account {
			for _, w := range workers {
				if w.Address.String() == addr {
					return w
				}
			}
			t.Fatalf("no worker %s", addr)
			return apptest.Account{}
		}
		w := signer(one.Worker)
		txs := [][]byte{c.SignTx(t, w, &deferraltypes.MsgCompleteRequest{Worker: one.Worker, RequestId: one.RequestId, ResultHash: hash})}
		for _, addr := range three.ReplicaWorkers {
			txs = append(txs, c.SignTx(t, signer(addr), &deferraltypes.MsgCompleteRequest{Worker: addr, RequestId: three.RequestId, ResultHash: hash}))
		}
		reports := c.NextBlock(t, txs...)
		singleReport = gasOf(t, reports[0])
		// The first replica report records a hash; the last decides the quorum
		// and pays every replica: report the most expensive.
		replicaReport = max(gasOf(t, reports[1]), gasOf(t, reports[2]), gasOf(t, reports[3]))
		plainReplicaReport = min(gasOf(t, reports[1]), gasOf(t, reports[2]), gasOf(t, reports[3]))
	}
	t.Logf("gas: bank MsgSend %d; submission: one worker %d (%.2f×), 3 replicas %d (%.2f×); report: one worker %d, replica %d, replica deciding the quorum %d",
		send, single, float64(single)/float64(send), triple, float64(triple)/float64(send), singleReport, plainReplicaReport, replicaReport)
	require.Less(t, triple, 3*single, "three replicas share one record")
	require.Greater(t, triple, single, "every replica is found and counted")
}

// The gas of a batch of submissions per request, against a bank MsgSend in
// the same run: batches of 100 entries, all assigned at once and all
// deferred, and a batch of 10 (make bench-gas).
func TestBatchSubmissionGas(t *testing.T) {
	dp := deferraltypes.DefaultParams()
	dp.MaxOpenRequestsPerRequester = 10_000
	c := apptest.New(t, 4, apptest.WithDeferralParams(t, dp))
	requester, other, worker := c.Accounts[0], c.Accounts[1], c.Accounts[2]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	for _, res := range c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 100_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})) {
		require.Zero(t, res.Code, res.Log)
	}
	batch := func(n int, class shardtypes.ShardClass) *deferraltypes.MsgSubmitRequests {
		b := &deferraltypes.MsgSubmitRequests{Requester: requester.Address.String()}
		for i := 0; i < n; i++ {
			b.Requests = append(b.Requests, submitMsg(requester.Address, class).Spec())
		}
		return b
	}
	const gasLimit = 20_000_000
	var send, assigned100, deferred100, assigned10 int64
	for round := 0; round < 2; round++ {
		res := c.NextBlock(t,
			c.SignTx(t, requester, banktypes.NewMsgSend(requester.Address, other.Address, sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, 1000)))),
			c.SignTxGas(t, requester, gasLimit, batch(100, shardtypes.ClassHighPriority)),
			c.SignTxGas(t, requester, gasLimit, batch(100, shardtypes.ClassLowPriority)),
			c.SignTxGas(t, requester, gasLimit, batch(10, shardtypes.ClassHighPriority)),
		)
		var a, d deferraltypes.MsgSubmitRequestsResponse
		c.MsgResponse(t, res[1], &a)
		c.MsgResponse(t, res[2], &d)
		for i := range a.Results {
			require.Equal(t, deferraltypes.StatusAssigned, a.Results[i].Status)
			require.Equal(t, deferraltypes.StatusQueued, d.Results[i].Status)
		}
		send, assigned100, deferred100, assigned10 = gasOf(t, res[0]), gasOf(t, res[1]), gasOf(t, res[2]), gasOf(t, res[3])
	}
	per := func(total int64, n int) float64 { return float64(total) / float64(n) / float64(send) }
	t.Logf("gas: bank MsgSend %d; batch of 100 assigned at once %d (%.0f per request, %.3f×), 100 deferred %d (%.0f per request, %.3f×, of which %d prepaid drain), 10 assigned %d (%.0f per request, %.3f×)",
		send, assigned100, float64(assigned100)/100, per(assigned100, 100), deferred100, float64(deferred100)/100, per(deferred100, 100),
		dp.GasPerDrain, assigned10, float64(assigned10)/10, per(assigned10, 10))
	require.LessOrEqual(t, per(assigned100, 100), 0.5, "a request in a batch of 100 costs at most half a MsgSend")
}
