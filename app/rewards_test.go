package app_test

import (
	"fmt"
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	rewardskeeper "github.com/repshard/repshard/x/rewards/keeper"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// rewardBook is the test's own account of the reward pool, kept from the
// events of committed blocks only (never from x/rewards' ledger).
type rewardBook struct {
	funded, claimed            sdkmath.Int
	fundings, claims           int
	expirySlashes, rateSlashes int
}

func (b *rewardBook) add(t *testing.T, events []abci.Event) {
	t.Helper()
	for _, e := range apptest.TypedEvents[*rewardstypes.EventPoolFunded](t, events) {
		b.funded = b.funded.Add(e.Amount.Amount)
		b.fundings++
	}
	for _, e := range apptest.TypedEvents[*rewardstypes.EventBondSlashed](t, events) {
		b.funded = b.funded.Add(e.Amount.Amount)
		if e.Reason == "failure_rate" {
			b.rateSlashes++
		} else {
			b.expirySlashes++
		}
	}
	for _, e := range apptest.TypedEvents[*rewardstypes.EventRewardsClaimed](t, events) {
		b.claimed = b.claimed.Add(e.EpochRewards.Amount)
		if e.EpochRewards.IsPositive() {
			b.claims++
		}
	}
}

// 50 workers over 30 epochs of 3 blocks, through real signed transactions:
// requesters submit compute and storage requests, workers complete, fail or
// ignore (expire) what they are assigned — some of them fail often —, anyone
// funds the pool at random, workers claim at random. After every block the
// app's invariants hold and the pool's book, kept by the test from events,
// balances to the micro-unit: funded = claimed + still owed + pool + dust.
func TestRewardsFiftyWorkersThirtyEpochs(t *testing.T) {
	const nWorkers, nRequesters, epochs = 50, 5, 30
	rw := rewardstypes.DefaultParams()
	rw.EpochLengthBlocks = 3
	rw.EpochEmissionFixed = sdk.NewInt64Coin(chaincfg.BondDenom, 0)
	rw.EpochEmissionFractionPpm = 250_000
	rw.FailureRateThresholdPpm = 400_000
	rw.FailureSlashPpm = 20_000
	rw.FailureSlashMinAttempts = 2 // 3-block epochs: few attempts per worker each
	df := deferraltypes.DefaultParams()
	df.AssignmentTimeoutBlocks = 3
	df.MaxAttempts = 2
	df.MaxWaitBlocks = 20
	df.QueueTtlBlocks = 40
	df.RetentionBlocks = 10_000
	c := apptest.New(t, nWorkers+nRequesters, func(g app.GenesisState) {
		apptest.EditGenesis(t, g, rewardstypes.ModuleName, &rewardstypes.GenesisState{}, func(gs *rewardstypes.GenesisState) { gs.Params = rw })
		apptest.EditGenesis(t, g, deferraltypes.ModuleName, &deferraltypes.GenesisState{}, func(gs *deferraltypes.GenesisState) { gs.Params = df })
	})
	workers, requesters := c.Accounts[:nWorkers], c.Accounts[nWorkers:]
	book := &rewardBook{funded: sdkmath.ZeroInt(), claimed: sdkmath.ZeroInt()}
	rng := rand.New(rand.NewSource(42))

	shardParams, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	var regs [][]byte
	for i, w := range workers {
		regs = append(regs, c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.AllClasses[i%len(shardtypes.AllClasses)]},
			CapacityUnits: uint64(4 + rng.Intn(3)), StorageBytes: 1 << 30, Bond: shardParams.MinWorkerBond,
		}))
	}
	for i, res := range c.NextBlock(t, regs...) {
		require.Zero(t, res.Code, "register worker %d: %s", i, res.Log)
	}
	// Workers with an index divisible by 7 fail or ignore most of their work.
	flaky := func(i int) bool { return i%7 == 0 }
	index := map[string]int{}
	for i, w := range workers {
		index[w.Address.String()] = i
	}

	query := rewardskeeper.NewQueryServerImpl(c.App.RewardsKeeper)
	rewardsAcc := authtypes.NewModuleAddress(rewardstypes.ModuleName)
	check := func(block int) {
		t.Helper()
		ctx := c.Context()
		require.NoError(t, c.App.CheckInvariants(ctx), "invariants after block %d", block)
		pool, err := query.Pool(ctx, &rewardstypes.QueryPoolRequest{})
		require.NoError(t, err)
		l := pool.Ledger
		stillOwed := l.EpochRewardsOwed.Add(l.Unsettled)
		// The test's book against the chain's, to the micro-unit.
		require.Equal(t, book.funded.String(), l.Funded.String(), "block %d: funded", block)
		require.Equal(t, book.claimed.String(), l.EpochRewardsClaimed.String(), "block %d: claimed", block)
		require.Equal(t, book.funded.String(), book.claimed.Add(stillOwed).Add(pool.Pool.Amount).Add(l.Dust).String(),
			"block %d: funded = claimed + still owed + pool + dust", block)
		// What workers see as pending adds up to what is still owed, less
		// the rounding held in the reservations of epochs some worker has not
		// settled yet (under one micro-unit per worker of such an epoch; it
		// becomes dust when the epoch's last worker settles).
		open, err := c.App.RewardsKeeper.GetOpenEpoch(ctx)
		require.NoError(t, err)
		pending, unsettledEpochs := sdkmath.ZeroInt(), map[uint64]bool{}
		for _, w := range workers {
			p, err := query.PendingRewards(ctx, &rewardstypes.QueryPendingRewardsRequest{Address: w.Address.String()})
			require.NoError(t, err)
			require.Equal(t, p.Fees.Add(p.EpochRewards), p.Total)
			pending = pending.Add(p.EpochRewards.Amount)
			ws, err := c.App.RewardsKeeper.WorkerEpochs.Get(ctx, w.Address)
			if err == nil && ws.Epoch < open.Number && ws.Points.IsPositive() {
				unsettledEpochs[ws.Epoch] = true
			}
		}
		require.True(t, pending.LTE(stillOwed), "block %d: pending %s > owed %s", block, pending, stillOwed)
		require.True(t, stillOwed.Sub(pending).LT(sdkmath.NewInt(int64(nWorkers*len(unsettledEpochs)+1))),
			"block %d: owed %s − pending %s with %d unsettled epochs", block, stillOwed, pending, len(unsettledEpochs))
		// The rewards account holds exactly what it accounts for.
		owedFees, err := c.App.RewardsKeeper.GetTotalOwed(ctx)
		require.NoError(t, err)
		held := c.App.BankKeeper.GetBalance(ctx, rewardsAcc, chaincfg.BondDenom).Amount
		require.Equal(t, owedFees.Add(stillOwed).Add(pool.Pool.Amount).Add(l.Dust).String(), held.String(), "block %d: rewards account", block)
	}
	check(0)

	block := 0
	claimRound := func(ctx sdk.Context, who []apptest.Account) [][]byte {
		var txs [][]byte
		for _, w := range who {
			p, err := query.PendingRewards(ctx, &rewardstypes.QueryPendingRewardsRequest{Address: w.Address.String()})
			require.NoError(t, err)
			if p.Total.IsPositive() {
				txs = append(txs, c.SignTx(t, w, &rewardstypes.MsgClaimRewards{Worker: w.Address.String()}))
			}
		}
		return txs
	}
	for {
		ctx := c.Context()
		open, err := c.App.RewardsKeeper.GetOpenEpoch(ctx)
		require.NoError(t, err)
		if open.Number > epochs {
			break
		}
		block++
		next := ctx.BlockHeight() + 1
		var txs [][]byte
		for i := 0; i < 16; i++ {
			r := requesters[rng.Intn(len(requesters))]
			msg := &deferraltypes.MsgSubmitRequest{
				Requester: r.Address.String(), Class: shardtypes.AllClasses[rng.Intn(len(shardtypes.AllClasses))],
				Urgency: deferraltypes.UrgencyNormal, ComputeUnits: uint64(1 + rng.Intn(4)),
				MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 1_000_000),
			}
			if rng.Intn(2) == 0 {
				msg.Payload = []byte(fmt.Sprintf("block %d request %d %s", block, i, make([]byte, rng.Intn(200))))
			} else { // storage: data held elsewhere
				hash := make([]byte, 32)
				rng.Read(hash)
				msg.PayloadHash, msg.PayloadUri, msg.DataBytes = hash, "ipfs://data", uint64(1+rng.Intn(2_000_000))
			}
			txs = append(txs, c.SignTx(t, r, msg))
		}
		// Workers report what they were assigned: complete, fail, or ignore.
		reports := map[int][]sdk.Msg{}
		require.NoError(t, c.App.DeferralKeeper.Requests.Walk(ctx, nil, func(id uint64, r deferraltypes.Request) (bool, error) {
			if r.Status != deferraltypes.StatusAssigned || next > r.DeadlineHeight || next <= r.AssignedHeight {
				return false, nil
			}
			i := index[r.Worker]
			roll := int((id*2654435761 + uint64(i)*40503) % 100)
			okPct, failPct := 80, 10
			if flaky(i) {
				okPct, failPct = 30, 40
			}
			switch {
			case roll < okPct:
				result := make([]byte, 32)
				result[0] = byte(id)
				reports[i] = append(reports[i], &deferraltypes.MsgCompleteRequest{Worker: r.Worker, RequestId: id, ResultHash: result})
			case roll < okPct+failPct:
				reports[i] = append(reports[i], &deferraltypes.MsgFailRequest{Worker: r.Worker, RequestId: id, Reason: "bad input"})
			} // otherwise silent: the assignment expires and the bond is slashed
			return false, nil
		}))
		for i := range workers {
			if msgs := reports[i]; len(msgs) > 0 {
				txs = append(txs, c.SignTx(t, workers[i], msgs...))
			}
		}
		if rng.Intn(3) == 0 {
			f := requesters[rng.Intn(len(requesters))]
			txs = append(txs, c.SignTx(t, f, &rewardstypes.MsgFundPool{
				Funder: f.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, int64(1+rng.Intn(3_000_000))),
			}))
		}
		var who []apptest.Account
		for _, i := range rng.Perm(nWorkers)[:3] {
			who = append(who, workers[i])
		}
		txs = append(txs, claimRound(ctx, who)...)

		results := c.NextBlock(t, txs...)
		for i, res := range results {
			require.Zero(t, res.Code, "block %d tx %d: %s", block, i, res.Log)
			book.add(t, res.Events)
		}
		book.add(t, c.BlockEvents)
		check(block)
	}

	// Everyone claims what is left: the book closes with nothing owed.
	block++
	results := c.NextBlock(t, claimRound(c.Context(), workers)...)
	for i, res := range results {
		require.Zero(t, res.Code, "final claims tx %d: %s", i, res.Log)
		book.add(t, res.Events)
	}
	book.add(t, c.BlockEvents)
	check(block)
	for _, w := range workers {
		p, err := query.PendingRewards(c.Context(), &rewardstypes.QueryPendingRewardsRequest{Address: w.Address.String()})
		require.NoError(t, err)
		require.True(t, p.Total.IsZero(), "worker %s still has %s", w.Address, p.Total)
	}

	// The run exercised what it claims to.
	contributors := 0
	for _, w := range workers {
		cr, err := query.Contribution(c.Context(), &rewardstypes.QueryContributionRequest{Address: w.Address.String()})
		require.NoError(t, err)
		if cr.Contribution.TotalPoints.IsPositive() {
			contributors++
		}
	}
	t.Logf("%d blocks; %d contributors; funded %s in %d fundings + %d expiry and %d failure-rate slashes; %d claims paid %s",
		block, contributors, book.funded, book.fundings, book.expirySlashes, book.rateSlashes, book.claims, book.claimed)
	require.GreaterOrEqual(t, contributors, 35)
	require.Positive(t, book.fundings)
	require.Positive(t, book.expirySlashes)
	require.Positive(t, book.rateSlashes)
	require.Greater(t, book.claims, 30)
	require.True(t, book.claimed.IsPositive())
}

// Bad input through signed transactions: funding with zero, a wrong denom or
// more than the funder has, claiming with nothing owed, and params from
// anyone but governance fail with their typed error and change no state and
// no balance beyond the tx fee.
func TestRewardsBadInputSignedTxs(t *testing.T) {
	c := apptest.New(t, 2, nil)
	acc, other := c.Accounts[0], c.Accounts[1]
	params := rewardstypes.DefaultParams()
	params.EpochLengthBlocks = 7
	cases := []struct {
		name string
		msg  sdk.Msg
		code uint32
	}{
		{"fund zero", &rewardstypes.MsgFundPool{Funder: acc.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, 0)}, rewardstypes.ErrInvalidFunding.ABCICode()},
		{"fund wrong denom", &rewardstypes.MsgFundPool{Funder: acc.Address.String(), Amount: sdk.NewInt64Coin("uatom", 5)}, rewardstypes.ErrInvalidFunding.ABCICode()},
		{"fund more than held", &rewardstypes.MsgFundPool{Funder: acc.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, 2_000_000_000_000)}, rewardstypes.ErrFunderCannotPay.ABCICode()},
		{"claim nothing owed", &rewardstypes.MsgClaimRewards{Worker: acc.Address.String()}, rewardstypes.ErrNothingToClaim.ABCICode()},
		{"params not from gov", &rewardstypes.MsgUpdateParams{Authority: acc.Address.String(), Params: params}, rewardstypes.ErrUnauthorized.ABCICode()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantStores, wantBalances := c.AfterEmptyBlock(t, acc.Address, other.Address,
				authtypes.NewModuleAddress(rewardstypes.ModuleName))
			res := c.NextBlock(t, c.SignTx(t, acc, tc.msg))
			require.Len(t, res, 1)
			require.Equal(t, rewardstypes.ModuleName, res[0].Codespace, res[0].Log)
			require.Equal(t, tc.code, res[0].Code, res[0].Log)
			ctx := c.Committed()
			require.Equal(t, wantStores, c.DumpRepshardStores(ctx), "no repshard state changed")
			got := c.Balances(ctx, acc.Address, other.Address, authtypes.NewModuleAddress(rewardstypes.ModuleName))
			fee := sdk.NewInt64Coin(chaincfg.BondDenom, apptest.DefaultTxGas/100)
			require.Equal(t, wantBalances[acc.Address.String()].Sub(fee).String(), got[acc.Address.String()].String(), "only the tx fee")
			delete(got, acc.Address.String())
			delete(wantBalances, acc.Address.String())
			require.Equal(t, wantBalances, got)
		})
	}
	// The same funding with a valid amount goes through: the cases above
	// failed for their input, not for the setup.
	res := c.NextBlock(t, c.SignTx(t, acc, &rewardstypes.MsgFundPool{Funder: acc.Address.String(), Amount: sdk.NewInt64Coin(chaincfg.BondDenom, 5)}))
	require.Zero(t, res[0].Code, res[0].Log)
	require.NoError(t, c.App.CheckInvariants(c.Context()))
}
