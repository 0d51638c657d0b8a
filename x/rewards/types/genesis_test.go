package types_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/x/rewards/types"
)

// A genesis with epoch state that balances, and the ways it can be broken.
func TestGenesisEpochStateValidation(t *testing.T) {
	const w1, w2 = "rep1worker1", "rep1worker2"
	n := sdkmath.NewInt
	valid := func() types.GenesisState {
		gs := *types.DefaultGenesis()
		gs.Pool = n(400)
		gs.Epoch = types.EpochState{Number: 3, StartHeight: 21, TotalPoints: n(5)}
		// Epoch 2: 300 points, 100 emitted (rpp ⌊100e18/300⌋, reserved 99,
		// dust 1); w2's 200 points settled 66, w1's 100 points keep 33.
		gs.Epochs = []types.EpochRecord{{
			Number: 2, StartHeight: 11, EndHeight: 20, TotalPoints: n(300), Emitted: n(100), Scheduled: n(1_000),
			RewardPerPoint: n(333_333_333_333_333_333), UnsettledPoints: n(100), UnsettledAmount: n(33),
		}}
		gs.WorkerEpochs = []types.WorkerEpoch{
			{Worker: w1, Epoch: 2, Points: n(100), EpochRewardsOwed: n(0), Attempts: 2, Failures: 1},
			{Worker: w2, Epoch: 3, Points: n(5), EpochRewardsOwed: n(66), Attempts: 1},
		}
		// funded 500 = claimed 0 + owed 66 + unsettled 33 + pool 400 + dust 1
		gs.Ledger = types.Ledger{Funded: n(500), EpochRewardsClaimed: n(0), EpochRewardsOwed: n(66), Unsettled: n(33), Dust: n(1)}
		return gs
	}
	g := valid()
	require.NoError(t, g.Validate())

	for name, breakIt := range map[string]func(*types.GenesisState){
		"book off by one":        func(g *types.GenesisState) { g.Ledger.Funded = n(501) },
		"owed ≠ Σ workers":       func(g *types.GenesisState) { g.WorkerEpochs[1].EpochRewardsOwed = n(67) },
		"unsettled ≠ Σ epochs":   func(g *types.GenesisState) { g.Epochs[0].UnsettledAmount = n(32) },
		"epoch points ≠ workers": func(g *types.GenesisState) { g.Epochs[0].UnsettledPoints = n(101) },
		"emitted above points": func(g *types.GenesisState) {
			g.Epochs[0].Emitted = n(301)
		},
		"reward per point above one": func(g *types.GenesisState) {
			g.Epochs[0].RewardPerPoint = sdkmath.NewIntWithDecimal(1, 18).AddRaw(1)
		},
		"negative scheduled":    func(g *types.GenesisState) { g.Epochs[0].Scheduled = n(-1) },
		"open points ≠ workers": func(g *types.GenesisState) { g.Epoch.TotalPoints = n(6) },
		"open points, no workers": func(g *types.GenesisState) {
			g.WorkerEpochs = g.WorkerEpochs[:1]
			g.Ledger.EpochRewardsOwed = n(0)
			g.Ledger.Funded = n(434)
		},
		"record of the open epoch": func(g *types.GenesisState) { g.Epochs[0].Number = 3 },
		"worker after open epoch":  func(g *types.GenesisState) { g.WorkerEpochs[1].Epoch = 4 },
		"points without a record":  func(g *types.GenesisState) { g.WorkerEpochs[0].Epoch = 1 },
		"duplicate worker":         func(g *types.GenesisState) { g.WorkerEpochs[1].Worker = w1 },
		"more failures than tries": func(g *types.GenesisState) { g.WorkerEpochs[0].Failures = 3 },
		"negative dust":            func(g *types.GenesisState) { g.Ledger.Dust = n(-1) },
	} {
		t.Run(name, func(t *testing.T) {
			g := valid()
			breakIt(&g)
			require.Error(t, g.Validate())
		})
	}
}
