package app_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/testutil/gasprofile"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// Where the gas of a submission goes, by repshard function and store
// operation, beside a bank MsgSend's message gas (make bench-gas-profile).
// The ante handler's share is the tx's gas minus the message's; it is the
// same work for both apart from the tx bytes (10 gas per byte).
func TestSubmitRequestGasProfile(t *testing.T) {
	c := apptest.New(t, 4, nil)
	requester, other, worker := c.Accounts[0], c.Accounts[1], c.Accounts[2]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	for _, res := range c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 1_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})) {
		require.Zero(t, res.Code, res.Log)
	}
	send := banktypes.NewMsgSend(requester.Address, other.Address, sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, 1000)))
	for round := 0; round < 3; round++ {
		for _, res := range c.NextBlock(t,
			c.SignTx(t, requester, send),
			c.SignTx(t, requester, submitMsg(requester.Address, shardtypes.ClassHighPriority)),
			c.SignTx(t, requester, submitMsg(requester.Address, shardtypes.ClassLowPriority)),
		) {
			require.Zero(t, res.Code, res.Log)
		}
	}
	depth := 3
	for _, m := range []struct {
		name string
		msg  sdk.Msg
	}{
		{"bank MsgSend (message only)", send},
		{"MsgSubmitRequest assigned at once (message only)", submitMsg(requester.Address, shardtypes.ClassHighPriority)},
		{"MsgSubmitRequest deferred (message only)", submitMsg(requester.Address, shardtypes.ClassLowPriority)},
	} {
		meter := gasprofile.New(depth)
		ctx := c.Branch(c.App.LastBlockHeight() + 1).WithGasMeter(meter)
		res, err := c.App.MsgServiceRouter().Handler(m.msg)(ctx, m.msg)
		require.NoError(t, err)
		if r, ok := m.msg.(*deferraltypes.MsgSubmitRequest); ok {
			_ = r
			require.NotNil(t, res)
		}
		meter.Fprint(os.Stdout, m.name)
	}
}
