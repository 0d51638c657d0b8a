package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/shard/types"
)

// The worker msgs go through signed transactions in real blocks: register,
// update, unregister, and the bond comes back in the block of the release
// height. The only other cost is the tx fees, to the micro-unit.
func TestWorkerLifecycleThroughTxs(t *testing.T) {
	ch := newChain(t, 2, func(gs *types.GenesisState) { gs.Params.UnbondingPeriodBlocks = 3 })
	c := ch.c
	acc := c.Accounts[0]
	fee := sdk.NewInt64Coin(chaincfg.BondDenom, apptest.DefaultTxGas/100).Amount
	bal := func() sdk.Coin { return c.App.BankKeeper.GetBalance(c.Context(), acc.Address, chaincfg.BondDenom) }
	start := bal()

	res := c.NextBlock(t, c.SignTx(t, acc, &types.MsgRegisterWorker{Worker: acc.Address.String(),
		Classes: []types.ShardClass{types.ClassDataIntensive}, CapacityUnits: 12, StorageBytes: 99, Bond: minBond}))
	var reg types.MsgRegisterWorkerResponse
	c.MsgResponse(t, res[0], &reg)
	require.Equal(t, uint64(3), reg.ShardId)
	require.Equal(t, start.Amount.Sub(minBond.Amount).Sub(fee), bal().Amount)

	// a refused tx: registering twice costs the fee only
	res = c.NextBlock(t, c.SignTx(t, acc, &types.MsgRegisterWorker{Worker: acc.Address.String(),
		Classes: []types.ShardClass{types.ClassDataIntensive}, CapacityUnits: 1, Bond: minBond}))
	require.Equal(t, types.ErrWorkerExists.ABCICode(), res[0].Code, res[0].Log)
	require.Equal(t, types.ModuleName, res[0].Codespace)
	require.Equal(t, start.Amount.Sub(minBond.Amount).Sub(fee.MulRaw(2)), bal().Amount)

	// another account cannot update or unregister this worker: it is not the signer
	other := c.Accounts[1]
	res = c.NextBlock(t, c.SignTx(t, other, &types.MsgUnregisterWorker{Worker: other.Address.String()}))
	require.Equal(t, types.ErrWorkerNotFound.ABCICode(), res[0].Code, res[0].Log)

	res = c.NextBlock(t, c.SignTx(t, acc, &types.MsgUpdateWorker{Worker: acc.Address.String(), CapacityUnits: 20, StorageBytes: 5}))
	require.Zero(t, res[0].Code, res[0].Log)
	s, err := c.App.ShardKeeper.GetShard(c.Context(), 3)
	require.NoError(t, err)
	require.Equal(t, uint64(20), s.CapacityUnits)

	res = c.NextBlock(t, c.SignTx(t, acc, &types.MsgUnregisterWorker{Worker: acc.Address.String()}))
	var unreg types.MsgUnregisterWorkerResponse
	c.MsgResponse(t, res[0], &unreg)
	require.Equal(t, c.App.LastBlockHeight()+3, unreg.ReleaseHeight)
	afterFees := start.Amount.Sub(fee.MulRaw(4))
	for c.App.LastBlockHeight() < unreg.ReleaseHeight {
		require.Equal(t, afterFees.Sub(minBond.Amount), bal().Amount, "height %d", c.App.LastBlockHeight())
		c.NextBlock(t)
	}
	require.Equal(t, afterFees, bal().Amount, "bond back; only the four fees spent")
	_, err = c.App.ShardKeeper.GetWorker(c.Context(), acc.Address)
	require.ErrorIs(t, err, types.ErrWorkerNotFound)
}
