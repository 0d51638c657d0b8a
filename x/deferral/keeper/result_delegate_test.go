package keeper_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/repshard/repshard/testutil/keepertest"
	"github.com/repshard/repshard/x/deferral/types"
)

// A requester names, replaces and removes its result delegate; the query
// follows, the events say what changed, and genesis carries it.
func TestResultDelegateLifecycle(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	alice := keepertest.Address(sdk.AccAddress([]byte("alice_______________")))
	bob := keepertest.Address(sdk.AccAddress([]byte("bob_________________")))
	carol := keepertest.Address(sdk.AccAddress([]byte("carol_______________")))

	_, err := f.query.ResultDelegate(f.ctx, &types.QueryResultDelegateRequest{Requester: alice})
	require.Equal(t, codes.NotFound, status.Code(err), "no delegate yet")

	res, err := f.msgs.SetResultDelegate(f.ctx, &types.MsgSetResultDelegate{Requester: alice, Delegate: bob})
	require.NoError(t, err)
	require.Empty(t, res.Previous)
	q, err := f.query.ResultDelegate(f.ctx, &types.QueryResultDelegateRequest{Requester: alice})
	require.NoError(t, err)
	require.Equal(t, bob, q.Delegate)
	_, err = f.query.ResultDelegate(f.ctx, &types.QueryResultDelegateRequest{Requester: bob})
	require.Equal(t, codes.NotFound, status.Code(err), "a delegate is one way: bob named none")

	res, err = f.msgs.SetResultDelegate(f.ctx, &types.MsgSetResultDelegate{Requester: alice, Delegate: carol})
	require.NoError(t, err)
	require.Equal(t, bob, res.Previous, "carol replaces bob")

	exported, err := f.keeper.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, []types.ResultDelegate{{Requester: alice, Delegate: carol}}, exported.ResultDelegates)
	g := newFixture(t)
	require.NoError(t, g.keeper.InitGenesis(g.ctx, *exported))
	q, err = g.query.ResultDelegate(g.ctx, &types.QueryResultDelegateRequest{Requester: alice})
	require.NoError(t, err)
	require.Equal(t, carol, q.Delegate, "imported from genesis")

	res, err = f.msgs.SetResultDelegate(f.ctx, &types.MsgSetResultDelegate{Requester: alice})
	require.NoError(t, err)
	require.Equal(t, carol, res.Previous)
	_, err = f.query.ResultDelegate(f.ctx, &types.QueryResultDelegateRequest{Requester: alice})
	require.Equal(t, codes.NotFound, status.Code(err), "removed")

	var evs []types.EventResultDelegateSet
	for _, e := range f.ctx.EventManager().Events() {
		if e.Type != "repshard.deferral.v1.EventResultDelegateSet" {
			continue
		}
		msg, err := sdk.ParseTypedEvent(abci.Event(e))
		require.NoError(t, err)
		evs = append(evs, *msg.(*types.EventResultDelegateSet))
	}
	require.Equal(t, []types.EventResultDelegateSet{
		{Requester: alice, Delegate: bob},
		{Requester: alice, Delegate: carol, Previous: bob},
		{Requester: alice, Previous: carol},
	}, evs)
}

// A bad MsgSetResultDelegate gets a typed error and writes nothing.
func TestResultDelegateRefused(t *testing.T) {
	f := newFixture(t).withDefaults(t)
	alice := keepertest.Address(sdk.AccAddress([]byte("alice_______________")))
	cases := map[string]struct {
		msg *types.MsgSetResultDelegate
		err error
	}{
		"itself":            {&types.MsgSetResultDelegate{Requester: alice, Delegate: alice}, types.ErrInvalidResultDelegate},
		"bad requester":     {&types.MsgSetResultDelegate{Requester: "nope", Delegate: alice}, sdkerrors.ErrInvalidAddress},
		"bad delegate":      {&types.MsgSetResultDelegate{Requester: alice, Delegate: "rep1nope"}, sdkerrors.ErrInvalidAddress},
		"cosmos-prefix too": {&types.MsgSetResultDelegate{Requester: alice, Delegate: "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"}, sdkerrors.ErrInvalidAddress},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := f.store.Dump()
			_, err := f.msgs.SetResultDelegate(f.ctx, tc.msg)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, before, f.store.Dump())
		})
	}
	_, err := f.query.ResultDelegate(f.ctx, &types.QueryResultDelegateRequest{Requester: "nope"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}
