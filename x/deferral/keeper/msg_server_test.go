package keeper_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// Shorter names for the four request classes and their genesis shards
// (x/shard's default topology: one shard per class, ids 1..4 in class order).
const (
	high    = shardtypes.ClassHighPriority
	low     = shardtypes.ClassLowPriority
	data    = shardtypes.ClassDataIntensive
	compute = shardtypes.ClassComputeIntensive

	highShard    = uint64(1)
	lowShard     = uint64(2)
	dataShard    = uint64(3)
	computeShard = uint64(4)
)

// txFee is what every apptest tx pays, whatever it does.
var txFee = sdk.NewInt64Coin(chaincfg.BondDenom, apptest.DefaultTxGas/100)

func urepOf(n int64) sdk.Coin { return sdk.NewInt64Coin(chaincfg.BondDenom, n) }

// generousMaxFee is above the fee of any request in these tests: only the
// fee (units × price) may be taken, never the max fee.
var generousMaxFee = urepOf(1_000_000_000)

// defaultScore is the score of a requester without a profile (x/reputation's
// default), the reputation every fresh account submits its first request with.
const defaultScore = 500_000

// dchain is a whole in-memory repshard app driven by signed transactions.
type dchain struct {
	*apptest.Chain
	t *testing.T
}

// newDChain starts an app with n funded accounts and the given x/deferral
// params; edits change the genesis further.
func newDChain(t *testing.T, n int, p types.Params, edits ...func(app.GenesisState)) *dchain {
	t.Helper()
	require.NoError(t, p.Validate())
	c := apptest.New(t, n, func(g app.GenesisState) {
		apptest.WithDeferralParams(t, p)(g)
		for _, edit := range edits {
			edit(g)
		}
	})
	return &dchain{Chain: c, t: t}
}

func (c *dchain) acc(i int) apptest.Account { return c.Accounts[i] }

// next is the height of the coming block.
func (c *dchain) next() int64 { return c.App.LastBlockHeight() + 1 }

func (c *dchain) tx(from apptest.Account, msgs ...sdk.Msg) []byte {
	return c.SignTx(c.t, from, msgs...)
}

// block delivers txs in the next block, requires every one to succeed and
// the app's invariants (app.CheckInvariants) to hold after the block.
func (c *dchain) block(txs ...[]byte) []*abci.ExecTxResult {
	c.t.Helper()
	res := c.NextBlock(c.t, txs...)
	for i, r := range res {
		require.Zero(c.t, r.Code, "block %d tx %d: %s", c.App.LastBlockHeight(), i, r.Log)
	}
	require.NoError(c.t, c.App.CheckInvariants(c.Committed()), "invariants after block %d", c.App.LastBlockHeight())
	return res
}

// blocks runs n empty blocks.
func (c *dchain) blocks(n int) {
	c.t.Helper()
	for i := 0; i < n; i++ {
		c.block()
	}
}

// workerSpec is a worker to register.
type workerSpec struct {
	acc      apptest.Account
	class    shardtypes.ShardClass
	capacity uint64
}

// testStorageBytes is the storage every test worker declares: more than any
// test request's data, so storage never decides an assignment here (x/shard
// tests cover storage matching).
const testStorageBytes = 1 << 40

// register registers workers with the minimum bond in one block.
func (c *dchain) register(ws ...workerSpec) {
	c.t.Helper()
	p, err := c.App.ShardKeeper.GetParams(c.Committed())
	require.NoError(c.t, err)
	var txs [][]byte
	for _, w := range ws {
		txs = append(txs, c.tx(w.acc, &shardtypes.MsgRegisterWorker{
			Worker: w.acc.Address.String(), Classes: []shardtypes.ShardClass{w.class},
			CapacityUnits: w.capacity, Bond: p.MinWorkerBond, StorageBytes: testStorageBytes,
		}))
	}
	c.block(txs...)
}

func submitMsg(from apptest.Account, class shardtypes.ShardClass, urgency types.Urgency, units uint64) *types.MsgSubmitRequest {
	return &types.MsgSubmitRequest{
		Requester: from.Address.String(), Class: class, Urgency: urgency, ComputeUnits: units,
		Payload: []byte("resize image 42"), MaxFee: generousMaxFee,
	}
}

// resultHash is a 32-byte result hash for request id.
func resultHash(id uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	h := sha256.Sum256(b[:])
	return h[:]
}

func completeMsg(worker apptest.Account, id uint64) *types.MsgCompleteRequest {
	return &types.MsgCompleteRequest{Worker: worker.Address.String(), RequestId: id, ResultHash: resultHash(id)}
}

func (c *dchain) submitResponse(res *abci.ExecTxResult) types.MsgSubmitRequestResponse {
	c.t.Helper()
	var out types.MsgSubmitRequestResponse
	c.MsgResponse(c.t, res, &out)
	return out
}

// request returns a committed request record.
func (c *dchain) request(id uint64) types.Request {
	c.t.Helper()
	r, err := c.App.DeferralKeeper.Requests.Get(c.Committed(), id)
	require.NoError(c.t, err, "request %d", id)
	return r
}

func (c *dchain) balance(addr sdk.AccAddress) sdkmath.Int {
	return c.App.BankKeeper.GetBalance(c.Committed(), addr, chaincfg.BondDenom).Amount
}

func (c *dchain) shardWorker(addr sdk.AccAddress) shardtypes.Worker {
	c.t.Helper()
	w, err := c.App.ShardKeeper.Workers.Get(c.Committed(), addr)
	require.NoError(c.t, err)
	return w
}

func (c *dchain) profile(addr sdk.AccAddress) reputationtypes.Profile {
	c.t.Helper()
	p, found, err := c.App.ReputationKeeper.GetProfile(c.Committed(), addr)
	require.NoError(c.t, err)
	require.True(c.t, found, "no profile for %s", addr)
	return p
}

func (c *dchain) owed(worker sdk.AccAddress) sdkmath.Int {
	c.t.Helper()
	v, err := c.App.RewardsKeeper.OwedTo(c.Committed(), worker)
	require.NoError(c.t, err)
	return v
}

func escrowAddr() sdk.AccAddress { return authtypes.NewModuleAddress(rewardstypes.EscrowAccountName) }

// watched are the accounts a deferral tx may move coins of: every test
// account and the repshard module accounts.
func (c *dchain) watched() []sdk.AccAddress {
	out := []sdk.AccAddress{
		escrowAddr(), authtypes.NewModuleAddress(rewardstypes.ModuleName), authtypes.NewModuleAddress(shardtypes.ModuleName),
	}
	for _, a := range c.Accounts {
		out = append(out, a.Address)
	}
	return out
}

// failsWithoutEffect delivers msgs signed by signer in a block of their own
// and checks that the tx fails with want (its codespace and code)
// and has no effect: the four repshard stores are byte-identical to, and the
// balances of every test and repshard module account equal to, what the
// block would leave without the tx (its EndBlock runs either way) — but for
// the tx fee the signer pays.
func (c *dchain) failsWithoutEffect(signer apptest.Account, want *errorsmod.Error, msgs ...sdk.Msg) {
	c.t.Helper()
	watched := c.watched()
	wantStores, wantBalances := c.AfterEmptyBlock(c.t, watched...)
	wantBalances[signer.Address.String()] = wantBalances[signer.Address.String()].Sub(txFee)

	res := c.NextBlock(c.t, c.tx(signer, msgs...))
	require.Len(c.t, res, 1)
	require.Equal(c.t, want.Codespace(), res[0].Codespace, "codespace; log: %s", res[0].Log)
	require.Equal(c.t, want.ABCICode(), res[0].Code, "want %q; log: %s", want.Error(), res[0].Log)
	for _, e := range res[0].Events {
		require.False(c.t, strings.HasPrefix(e.Type, "repshard."), "a failed tx emitted %s", e.Type)
	}

	ctx := c.Committed()
	requireSameStores(c.t, wantStores, c.DumpRepshardStores(ctx))
	require.Equal(c.t, wantBalances, c.Balances(ctx, watched...))
	require.NoError(c.t, c.App.CheckInvariants(ctx))
}

// requireSameStores fails with the first differing keys of each store.
func requireSameStores(t *testing.T, want, got map[string][]apptest.KV) {
	t.Helper()
	for _, name := range apptest.RepshardStoreKeys {
		if d := diffKV(want[name], got[name]); d != "" {
			t.Fatalf("store %s differs:\n%s", name, d)
		}
	}
}

func diffKV(want, got []apptest.KV) string {
	w, g := map[string][]byte{}, map[string][]byte{}
	for _, kv := range want {
		w[string(kv.Key)] = kv.Value
	}
	for _, kv := range got {
		g[string(kv.Key)] = kv.Value
	}
	var out []string
	for k, v := range w {
		if gv, ok := g[k]; !ok {
			out = append(out, fmt.Sprintf("  removed %x", k))
		} else if !bytes.Equal(v, gv) {
			out = append(out, fmt.Sprintf("  changed %x: %x → %x", k, v, gv))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			out = append(out, fmt.Sprintf("  added %x", k))
		}
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("  … %d more", len(out)-10))
	}
	return strings.Join(out, "\n")
}

// badInputParams: two open requests per requester, and assignments and
// queued requests that outlive the test, so only the txs change state.
func badInputParams() types.Params {
	p := types.DefaultParams()
	p.MaxOpenRequestsPerRequester = 2
	p.AssignmentTimeoutBlocks = 500
	p.QueueTtlBlocks = 500
	return p
}

// Every bad input of MsgSubmitRequest is refused with its typed error and
// changes no state and no balance, but for the signer's tx fee.
func TestBadInputFailsWithoutEffect(t *testing.T) {
	params := badInputParams()
	c := newDChain(t, 6, params)
	a, b, w1, w2, other, poor := c.acc(0), c.acc(1), c.acc(2), c.acc(3), c.acc(4), c.acc(5)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, high, 10})
	// poor keeps the fee of two txs and 999 urep: not enough for a 1-unit fee.
	keep := txFee.Amount.MulRaw(2).AddRaw(999)
	c.block(c.tx(poor, banktypes.NewMsgSend(poor.Address, other.Address,
		sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, c.balance(poor.Address).Sub(keep))))))

	// A: r1 assigned, r2 queued (no worker serves the low-priority shard):
	// A is at its limit of 2 open requests. B: r3 assigned, then completed.
	res := c.block(
		c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)),
		c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1)),
		c.tx(b, submitMsg(b, high, types.UrgencyNormal, 1)),
	)
	r1, r2, r3 := c.submitResponse(res[0]), c.submitResponse(res[1]), c.submitResponse(res[2])
	require.Equal(t, types.StatusAssigned, r1.Status)
	require.Equal(t, types.StatusQueued, r2.Status)
	require.Equal(t, types.StatusAssigned, r3.Status)
	require.Equal(t, r1.Worker, r3.Worker, "best fit puts r3 on r1's worker (9 free) rather than the idle one (10)")
	assigned, idle := w1, w2
	if r1.Worker != w1.Address.String() {
		assigned, idle = w2, w1
	}
	c.block(c.tx(assigned, completeMsg(assigned, r3.RequestId)))
	require.Equal(t, types.StatusCompleted, c.request(r3.RequestId).Status)

	fee := urepOf(1_000) // one normal unit at the floor price
	oversized := make([]byte, params.MaxInlinePayloadBytes+1)
	withMsg := func(edit func(m *types.MsgSubmitRequest)) *types.MsgSubmitRequest {
		m := submitMsg(b, high, types.UrgencyNormal, 1)
		edit(m)
		return m
	}
	wrongHash := sha256.Sum256([]byte("something else"))
	const unknownID = 999

	cases := []struct {
		name   string
		signer apptest.Account
		msg    sdk.Msg
		err    *errorsmod.Error
	}{
		{"unspecified class", b, withMsg(func(m *types.MsgSubmitRequest) { m.Class = shardtypes.ClassUnspecified }), types.ErrInvalidClass},
		{"unknown class", b, withMsg(func(m *types.MsgSubmitRequest) { m.Class = 99 }), types.ErrInvalidClass},
		{"unspecified urgency", b, withMsg(func(m *types.MsgSubmitRequest) { m.Urgency = types.UrgencyUnspecified }), types.ErrInvalidUrgency},
		{"unknown urgency", b, withMsg(func(m *types.MsgSubmitRequest) { m.Urgency = 9 }), types.ErrInvalidUrgency},
		{"zero units", b, withMsg(func(m *types.MsgSubmitRequest) { m.ComputeUnits = 0 }), types.ErrInvalidUnits},
		{"oversized units", b, withMsg(func(m *types.MsgSubmitRequest) { m.ComputeUnits = params.MaxComputeUnits + 1 }), types.ErrInvalidUnits},
		{"payload over the limit", b, withMsg(func(m *types.MsgSubmitRequest) { m.Payload = oversized }), types.ErrPayloadTooLarge},
		{"neither payload nor hash", b, withMsg(func(m *types.MsgSubmitRequest) { m.Payload = nil }), types.ErrInvalidPayload},
		{"payload hash of 31 bytes", b, withMsg(func(m *types.MsgSubmitRequest) { m.Payload, m.PayloadHash = nil, wrongHash[:31] }), types.ErrInvalidPayload},
		{"mismatched payload hash", b, withMsg(func(m *types.MsgSubmitRequest) { m.PayloadHash = wrongHash[:] }), types.ErrInvalidPayload},
		{"data bytes not the inline size", b, withMsg(func(m *types.MsgSubmitRequest) { m.DataBytes = uint64(len(m.Payload)) + 1 }), types.ErrInvalidPayload},
		{"payload uri too long", b, withMsg(func(m *types.MsgSubmitRequest) {
			m.Payload, m.PayloadHash, m.PayloadUri = nil, wrongHash[:], strings.Repeat("u", types.MaxPayloadURIBytes+1)
		}), types.ErrInvalidPayload},
		{"max fee below the price", b, withMsg(func(m *types.MsgSubmitRequest) {
			m.ComputeUnits = 3 // fee 3 × 1_000 × 1 (normal) = 3_000; max fee 2_999
			m.MaxFee = sdk.NewCoin(fee.Denom, fee.Amount.MulRaw(3).SubRaw(1))
		}), types.ErrMaxFeeTooLow},
		{"max fee in the wrong denom", b, withMsg(func(m *types.MsgSubmitRequest) { m.MaxFee = sdk.NewInt64Coin("stake", 1_000_000_000) }), types.ErrMaxFeeTooLow},
		{"no max fee", b, withMsg(func(m *types.MsgSubmitRequest) { m.MaxFee = sdk.Coin{} }), types.ErrMaxFeeTooLow},
		{"too many open requests", a, submitMsg(a, high, types.UrgencyNormal, 1), types.ErrTooManyOpen},
		{"fee above the balance", poor, submitMsg(poor, high, types.UrgencyNormal, 1), rewardstypes.ErrInsufficientFunds},

		{"complete a request assigned to another worker", idle, completeMsg(idle, r1.RequestId), types.ErrNotAssignedWorker},
		{"complete as the requester", a, completeMsg(a, r1.RequestId), types.ErrNotAssignedWorker},
		{"complete a queued request", assigned, completeMsg(assigned, r2.RequestId), types.ErrRequestNotAssigned},
		{"complete twice", assigned, completeMsg(assigned, r3.RequestId), types.ErrRequestNotAssigned},
		{"complete with a 31-byte result hash", assigned, &types.MsgCompleteRequest{
			Worker: assigned.Address.String(), RequestId: r1.RequestId, ResultHash: resultHash(1)[:31]}, types.ErrInvalidResultHash},
		{"complete with no result hash", assigned, &types.MsgCompleteRequest{
			Worker: assigned.Address.String(), RequestId: r1.RequestId}, types.ErrInvalidResultHash},
		{"complete an unknown request", assigned, completeMsg(assigned, unknownID), types.ErrRequestNotFound},

		{"fail with an over-long reason", assigned, &types.MsgFailRequest{
			Worker: assigned.Address.String(), RequestId: r1.RequestId, Reason: strings.Repeat("r", types.MaxFailureReasonBytes+1)}, types.ErrInvalidReason},
		{"fail a request assigned to another worker", idle, &types.MsgFailRequest{
			Worker: idle.Address.String(), RequestId: r1.RequestId, Reason: "oom"}, types.ErrNotAssignedWorker},
		{"fail a completed request", assigned, &types.MsgFailRequest{
			Worker: assigned.Address.String(), RequestId: r3.RequestId, Reason: "oom"}, types.ErrRequestNotAssigned},
		{"fail an unknown request", assigned, &types.MsgFailRequest{
			Worker: assigned.Address.String(), RequestId: unknownID, Reason: "oom"}, types.ErrRequestNotFound},

		{"cancel someone else's request", other, &types.MsgCancelRequest{Requester: other.Address.String(), RequestId: r2.RequestId}, types.ErrNotRequester},
		{"cancel a completed request", b, &types.MsgCancelRequest{Requester: b.Address.String(), RequestId: r3.RequestId}, types.ErrNotCancellable},
		{"cancel an unknown request", a, &types.MsgCancelRequest{Requester: a.Address.String(), RequestId: unknownID}, types.ErrRequestNotFound},
	}
	// The handlers check before they write: called directly, outside a tx
	// (whose failure would discard the writes anyway), they change nothing —
	// but for the refusals found once the request id is taken, where only
	// the tx guarantee applies: the fee above the balance (x/rewards) and a
	// max fee below the fee, which depends on the shard the id routes to.
	afterID := map[string]bool{
		"fee above the balance": true, "max fee below the price": true, "max fee in the wrong denom": true,
	}
	msgs := keeper.NewMsgServerImpl(c.App.DeferralKeeper)
	for _, tc := range cases {
		if afterID[tc.name] {
			continue
		}
		ctx := c.Branch(c.next())
		before := c.DumpRepshardStores(ctx)
		var err error
		switch m := tc.msg.(type) {
		case *types.MsgSubmitRequest:
			_, err = msgs.SubmitRequest(ctx, m)
		case *types.MsgCompleteRequest:
			_, err = msgs.CompleteRequest(ctx, m)
		case *types.MsgFailRequest:
			_, err = msgs.FailRequest(ctx, m)
		case *types.MsgCancelRequest:
			_, err = msgs.CancelRequest(ctx, m)
		default:
			t.Fatalf("%s: unexpected msg %T", tc.name, m)
		}
		require.ErrorIs(t, err, tc.err, tc.name)
		requireSameStores(t, before, c.DumpRepshardStores(ctx))
		require.Empty(t, ctx.EventManager().Events(), tc.name)
	}

	parent := c.t
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			defer func() { c.t = parent }()
			c.failsWithoutEffect(tc.signer, tc.err, tc.msg)
		})
	}

	// The comparison is not vacuous: valid txs from the same state do change
	// the stores and balances, and A may submit again once a request is done.
	stores, balances := c.AfterEmptyBlock(t, c.watched()...)
	c.block(
		c.tx(assigned, completeMsg(assigned, r1.RequestId)),
		c.tx(a, &types.MsgCancelRequest{Requester: a.Address.String(), RequestId: r2.RequestId}),
	)
	require.NotEmpty(t, diffKV(stores[types.StoreKey], c.DumpRepshardStores(c.Committed())[types.StoreKey]))
	require.NotEqual(t, balances, c.Balances(c.Committed(), c.watched()...))
	res = c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)))
	require.Equal(t, types.StatusAssigned, c.submitResponse(res[0]).Status)
}

// An assignment whose deadline has passed cannot be completed or failed any
// more, even while it is still ASSIGNED because max_expirations_per_block
// delayed its expiry. The worker may still report at the deadline height.
func TestReportAfterDeadlineFailsWithoutEffect(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 2
	p.MaxExpirationsPerBlock = 1
	p.MaxAttempts = 1
	p.FailureConfirmations = 1
	c := newDChain(t, 5, p)
	w := c.acc(0)
	c.register(workerSpec{w, high, 10})

	h := c.next()
	var txs [][]byte
	for i := 1; i <= 4; i++ {
		txs = append(txs, c.tx(c.acc(i), submitMsg(c.acc(i), high, types.UrgencyNormal, 1)))
	}
	res := c.block(txs...)
	ids := make([]uint64, len(res))
	for i, r := range res {
		resp := c.submitResponse(r)
		require.Equal(t, types.StatusAssigned, resp.Status)
		require.Equal(t, h+2, c.request(resp.RequestId).DeadlineHeight)
		ids[i] = resp.RequestId
	}
	c.block()
	// At the deadline height the worker may still report; the EndBlock of
	// that height expires one overdue assignment (the cap), the lowest id
	// first: ids[0] is completed in time, ids[1] expires.
	require.Equal(t, h+2, c.next())
	c.block(c.tx(w, completeMsg(w, ids[0])))
	require.Equal(t, types.StatusCompleted, c.request(ids[0]).Status)
	require.Equal(t, types.StatusExpired, c.request(ids[1]).Status)
	require.Equal(t, types.StatusAssigned, c.request(ids[2]).Status)
	require.Equal(t, types.StatusAssigned, c.request(ids[3]).Status)

	c.failsWithoutEffect(w, types.ErrDeadlinePassed, completeMsg(w, ids[2]))
	require.Equal(t, types.StatusExpired, c.request(ids[2]).Status, "expired by the EndBlock after the refused completion")
	c.failsWithoutEffect(w, types.ErrDeadlinePassed, &types.MsgFailRequest{Worker: w.Address.String(), RequestId: ids[3], Reason: "late"})
	require.Equal(t, types.StatusExpired, c.request(ids[3]).Status)
}

// The response is the immediate success indication of a submission; each
// branch of the deferral decision (deferralReason) gives its own, and the
// record matches it.
func TestSubmitResponse(t *testing.T) {
	params := types.DefaultParams()
	c := newDChain(t, 7, params)
	w1, w2 := c.acc(0), c.acc(1)
	c.register(workerSpec{w1, high, 10}, workerSpec{w2, low, 10})
	rq := []apptest.Account{c.acc(2), c.acc(3), c.acc(4), c.acc(5), c.acc(6)}
	before := map[string]sdkmath.Int{}
	for _, r := range rq {
		before[r.Address.String()] = c.balance(r.Address)
	}

	// Network capacity 20 units (w1 in the high-priority shard, w2 in the
	// low-priority one), all requesters fresh (score 500_000).
	h := c.next()
	msgs := []*types.MsgSubmitRequest{
		// shard 1 load 0, network 0, w1 has room: assigned at once.
		submitMsg(rq[0], high, types.UrgencyNormal, 1),
		// no worker has 1000 units free: deferred, reason capacity.
		submitMsg(rq[1], high, types.UrgencyNormal, 1000),
		// shard 1 is now (1 + 1000)/10 loaded: deferred for shard load, ahead
		// of the previous one (critical: due sooner).
		submitMsg(rq[2], high, types.UrgencyCritical, 1),
		// same, low urgency: behind both.
		submitMsg(rq[3], high, types.UrgencyLow, 1),
		// shard 2 is idle but the network is (1+1000+1+1)/20 loaded.
		submitMsg(rq[4], low, types.UrgencyNormal, 1),
	}
	var txs [][]byte
	for i, m := range msgs {
		txs = append(txs, c.tx(rq[i], m))
	}
	res := c.NextBlock(t, txs...)

	// Fees by hand at the floor price 1_000 urep per unit: normal 1×,
	// critical 2.5×, low 0.8×.
	// Priorities by hand, (1·rep + 4·urgency)/5 with rep 500_000:
	// normal (500_000+800_000)/5 = 260_000 → due h + ⌊50·740_000/1e6⌋ = h+37;
	// critical (500_000+4e6)/5 = 900_000 → h+5; low 500_000/5 = 100_000 → h+45.
	want := []types.MsgSubmitRequestResponse{
		{RequestId: 1, ShardId: highShard, Status: types.StatusAssigned, Worker: w1.Address.String(),
			EstimatedDueHeight: h, Fee: urepOf(1_000)},
		{RequestId: 2, ShardId: highShard, Status: types.StatusQueued, Deferred: true, DeferReason: types.DeferNoCapacity,
			QueuePosition: 0, EstimatedDueHeight: h + 37, Fee: urepOf(1_000_000)},
		{RequestId: 3, ShardId: highShard, Status: types.StatusQueued, Deferred: true, DeferReason: types.DeferShardLoad,
			QueuePosition: 0, EstimatedDueHeight: h + 5, Fee: urepOf(2_500)},
		{RequestId: 4, ShardId: highShard, Status: types.StatusQueued, Deferred: true, DeferReason: types.DeferShardLoad,
			QueuePosition: 2, EstimatedDueHeight: h + 45, Fee: urepOf(800)},
		{RequestId: 5, ShardId: lowShard, Status: types.StatusQueued, Deferred: true, DeferReason: types.DeferNetworkLoad,
			QueuePosition: 0, EstimatedDueHeight: h + 37, Fee: urepOf(1_000)},
	}
	wantPriority := []uint32{260_000, 260_000, 900_000, 100_000, 260_000}
	for i := range msgs {
		got := c.submitResponse(res[i])
		require.Equal(t, got.Fee, got.FeeQuote.Fee, "the response's quote is the fee escrowed")
		require.Equal(t, got.ShardId, got.FeeQuote.ShardId)
		got.FeeQuote = types.FeeQuote{}
		require.Equal(t, want[i], got, "response to submission %d", i)

		r := c.request(got.RequestId)
		require.Equal(t, msgs[i].Requester, r.Requester)
		require.Equal(t, msgs[i].Class, r.Class)
		require.Equal(t, msgs[i].Urgency, r.Urgency)
		require.Equal(t, msgs[i].ComputeUnits, r.ComputeUnits)
		require.Equal(t, msgs[i].Payload, r.Payload)
		sum := sha256.Sum256(msgs[i].Payload)
		require.Equal(t, sum[:], r.PayloadHash)
		require.Equal(t, uint64(len(msgs[i].Payload)), r.DataBytes)
		require.Equal(t, got.Fee, r.Fee)
		require.Equal(t, got.ShardId, r.ShardId)
		require.Equal(t, got.Deferred, r.Deferred)
		require.Equal(t, got.DeferReason, r.DeferReason)
		require.Equal(t, wantPriority[i], r.PriorityPpm, "priority of request %d", r.Id)
		require.Equal(t, h, r.SubmitHeight)
		require.Equal(t, h+int64(params.QueueTtlBlocks), r.QueueExpiryHeight)
		if got.Status == types.StatusQueued {
			require.Equal(t, got.EstimatedDueHeight, r.DueHeight)
		}

		// Only the fee (units × price) was taken, not the max fee.
		addr := rq[i].Address
		require.Equal(t, before[addr.String()].Sub(got.Fee.Amount).Sub(txFee.Amount).String(), c.balance(addr).String())
	}
	require.Equal(t, types.StatusAssigned, c.request(1).Status)
	require.Equal(t, w1.Address.String(), c.request(1).Worker)
	require.Equal(t, h+int64(params.AssignmentTimeoutBlocks), c.request(1).DeadlineHeight)
	require.Equal(t, uint32(1), c.request(1).Attempts)
	require.NoError(t, c.App.CheckInvariants(c.Committed()))
}

// A requester above the reputation threshold is deferred even when a worker
// has room: the reputation test comes first in the deferral decision.
func TestSubmitDeferredForReputation(t *testing.T) {
	p := types.DefaultParams()
	p.DeferReputationThresholdPpm = defaultScore - 1
	c := newDChain(t, 2, p)
	c.register(workerSpec{c.acc(0), high, 10})
	h := c.next()
	res := c.block(c.tx(c.acc(1), submitMsg(c.acc(1), high, types.UrgencyCritical, 1)))
	got := c.submitResponse(res[0])
	require.Equal(t, types.StatusQueued, got.Status)
	require.True(t, got.Deferred)
	require.Equal(t, types.DeferReputation, got.DeferReason)
	require.Empty(t, got.Worker)
	// (1·500_000 + 4·1_000_000)/5 = 900_000 → due h + ⌊50·100_000/1e6⌋ = h+5.
	require.Equal(t, h+5, got.EstimatedDueHeight)
	// The EndBlock of the same block drains it to the idle worker.
	r := c.request(got.RequestId)
	require.Equal(t, types.StatusAssigned, r.Status)
	require.True(t, r.Deferred)
	require.Equal(t, types.DeferReputation, r.DeferReason)
	require.Equal(t, c.acc(0).Address.String(), r.Worker)
}

// The thresholds of the deferral decision are strict: a requester exactly at
// the reputation threshold, a shard and a network exactly at theirs, are
// served at once.
func TestSubmitDeferralThresholdsAreStrict(t *testing.T) {
	p := types.DefaultParams()
	p.DeferReputationThresholdPpm = defaultScore
	p.DeferLoadThresholdPpm = 750_000
	p.DeferNetworkThresholdPpm = 750_000
	c := newDChain(t, 6, p)
	c.register(workerSpec{c.acc(0), high, 4})
	var txs [][]byte
	for i := 1; i <= 5; i++ { // fresh requesters: score 500_000, at the threshold
		txs = append(txs, c.tx(c.acc(i), submitMsg(c.acc(i), high, types.UrgencyNormal, 1)))
	}
	res := c.block(txs...)
	// Loads before each submission: 0, 1/4, 2/4, 3/4 (= both thresholds), 4/4.
	for i := 0; i < 4; i++ {
		require.Equal(t, types.StatusAssigned, c.submitResponse(res[i]).Status, "submission %d", i)
	}
	last := c.submitResponse(res[4])
	require.Equal(t, types.StatusQueued, last.Status)
	require.Equal(t, types.DeferShardLoad, last.DeferReason)
}

// The queue position counts the requests ahead in due order, exactly up to
// QueuePositionScanLimit; beyond it the position is capped and says so.
func TestSubmitQueuePositionCapped(t *testing.T) {
	p := types.DefaultParams()
	p.PriorityWeightReputation = 0 // equal priority for every submission of one requester
	c := newDChain(t, 1, p)
	a := c.acc(0)
	n := types.QueuePositionScanLimit + 2
	var txs [][]byte
	for i := 0; i < n; i++ {
		txs = append(txs, c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1)))
	}
	res := c.block(txs...)
	for i, r := range res {
		got := c.submitResponse(r)
		require.Equal(t, types.StatusQueued, got.Status)
		wantPos, wantCapped := uint64(i), false
		if i > types.QueuePositionScanLimit {
			wantPos, wantCapped = types.QueuePositionScanLimit, true
		}
		require.Equal(t, wantPos, got.QueuePosition, "submission %d", i)
		require.Equal(t, wantCapped, got.QueuePositionCapped, "submission %d", i)
	}
	// A critical request is due sooner: it goes to the head of the queue.
	res = c.block(c.tx(a, submitMsg(a, low, types.UrgencyCritical, 1)))
	got := c.submitResponse(res[0])
	require.Zero(t, got.QueuePosition)
	require.False(t, got.QueuePositionCapped)
}

// No starvation through the app: a request of the lowest priority is due
// max_wait blocks after submission, and a flood of critical requests, more
// than the one worker can serve, does not keep it waiting for ever: only
// requests due no later than it are served before it, and the critical
// requests submitted later than max_wait·(1 − their priority) after it are
// served after it. (The reputation weight is 0 so that every priority
// follows from urgency alone.)
func TestLowestPriorityIsNotStarved(t *testing.T) {
	p := types.DefaultParams()
	p.PriorityWeightReputation = 0
	p.MaxWaitBlocks = 10
	p.QueueTtlBlocks = 200
	c := newDChain(t, 3, p)
	w, lowRequester, flood := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w, low, 1})
	// Keep the worker busy with a first request.
	res := c.block(c.tx(flood, submitMsg(flood, low, types.UrgencyCritical, 1)))
	busy := c.submitResponse(res[0])
	require.Equal(t, types.StatusAssigned, busy.Status)

	s := c.next()
	res = c.block(c.tx(lowRequester, submitMsg(lowRequester, low, types.UrgencyLow, 1)))
	starving := c.submitResponse(res[0])
	require.Equal(t, types.StatusQueued, starving.Status)
	require.Zero(t, c.request(starving.RequestId).PriorityPpm, "urgency low (value 0), no reputation weight")
	due := s + int64(p.MaxWaitBlocks)
	require.Equal(t, due, starving.EstimatedDueHeight)

	// Every block: the worker reports its assignment, two critical requests
	// arrive, each due at once (priority 4·1e6/4 = 1_000_000: 10·0 = 0 blocks
	// later), more than the one unit of capacity serves.
	current := busy.RequestId
	for {
		require.Less(t, c.next(), s+40, "the lowest-priority request was starved")
		submittedAt := c.next()
		res := c.block(
			c.tx(w, completeMsg(w, current)),
			c.tx(flood, submitMsg(flood, low, types.UrgencyCritical, 1), submitMsg(flood, low, types.UrgencyCritical, 1)),
		)
		for i := 0; i < 2; i++ {
			var got types.MsgSubmitRequestResponse
			require.NoError(t, got.Unmarshal(txMsgResponses(t, res[1])[i]))
			require.Equal(t, submittedAt, got.EstimatedDueHeight)
		}
		assigned := apptest.TypedEvents[*types.EventRequestAssigned](t, c.BlockEvents)
		require.Len(t, assigned, 1, "one unit of capacity: one assignment per block")
		current = assigned[0].RequestId
		if current == starving.RequestId {
			t.Logf("submitted at %d, due %d, served at %d behind %d earlier-due requests",
				s, due, c.App.LastBlockHeight(), c.App.LastBlockHeight()-s-1)
			break
		}
		require.LessOrEqual(t, c.request(current).DueHeight, due, "request %d overtook the lowest-priority one", current)
	}
	// Critical requests submitted after it is due are due after it (and those
	// submitted at its due height are behind it by id): still queued.
	q, err := keeper.NewQueryServerImpl(c.App.DeferralKeeper).ShardQueue(c.Committed(), &types.QueryShardQueueRequest{ShardId: lowShard})
	require.NoError(t, err)
	require.NotEmpty(t, q.Entries)
	for _, e := range q.Entries {
		r := c.request(e.RequestId)
		require.Equal(t, types.UrgencyCritical, r.Urgency)
		require.True(t, e.DueHeight > due || (e.DueHeight == due && e.RequestId > starving.RequestId),
			"request %d due %d is still queued", e.RequestId, e.DueHeight)
	}
}

// txMsgResponses returns the raw msg responses of a successful tx.
func txMsgResponses(t *testing.T, res *abci.ExecTxResult) [][]byte {
	t.Helper()
	require.Zero(t, res.Code, res.Log)
	var data sdk.TxMsgData
	require.NoError(t, data.Unmarshal(res.Data))
	out := make([][]byte, len(data.MsgResponses))
	for i, r := range data.MsgResponses {
		out[i] = r.Value
	}
	return out
}

// The later drain of a deferred request runs in EndBlock, where no gas is
// metered, so MsgSubmitRequest charges gas_per_drain when it defers: two
// chains that differ only in that param charge two otherwise equal
// submissions, one assigned at once and one deferred, exactly that
// difference for the deferred one and nothing for the other.
func TestSubmitGasChargesTheDrainWhenDeferred(t *testing.T) {
	base := types.DefaultParams()
	more := base
	more.GasPerDrain += 10_000 // same varint size, so the params cost the same to read

	gasUsed := func(p types.Params) (assignedGas, deferredGas int64) {
		c := newDChain(t, 3, p)
		c.register(workerSpec{c.acc(0), high, 1})
		res := c.block(
			c.tx(c.acc(1), submitMsg(c.acc(1), high, types.UrgencyNormal, 1)),
			c.tx(c.acc(2), submitMsg(c.acc(2), high, types.UrgencyNormal, 1)),
		)
		require.Equal(t, types.StatusAssigned, c.submitResponse(res[0]).Status)
		require.Equal(t, types.StatusQueued, c.submitResponse(res[1]).Status)
		return res[0].GasUsed, res[1].GasUsed
	}
	a0, d0 := gasUsed(base)
	a1, d1 := gasUsed(more)
	require.Equal(t, a0, a1, "assigned at once: no drain to pay for")
	require.Equal(t, int64(10_000), d1-d0, "deferred: gas_per_drain")
	require.Greater(t, d0, int64(base.GasPerDrain))
}

// Every msg emits its typed event with the values of the request.
func TestTypedEvents(t *testing.T) {
	p := types.DefaultParams()
	p.FailureConfirmations = 1 // one failure report is final here: the test is about a FAILED request
	p.MaxWaitBlocks = 3
	p.QueueTtlBlocks = 3
	c := newDChain(t, 3, p)
	w, a, b := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w, high, 10})

	h := c.next()
	res := c.block(
		c.tx(a, submitMsg(a, high, types.UrgencyHigh, 2)),
		c.tx(b, submitMsg(b, low, types.UrgencyCritical, 3)),
	)
	require.Equal(t, []*types.EventRequestSubmitted{{
		RequestId: 1, Requester: a.Address.String(), Class: high, Urgency: types.UrgencyHigh,
		ShardId: highShard, ComputeUnits: 2, Fee: urepOf(3_000), ReputationPpm: defaultScore, // 2 units × 1_000 × 1.5 (high)
	}}, apptest.TypedEvents[*types.EventRequestSubmitted](t, res[0].Events))
	require.Equal(t, []*types.EventRequestAssigned{{
		RequestId: 1, ShardId: highShard, Worker: w.Address.String(), DeadlineHeight: h + int64(p.AssignmentTimeoutBlocks),
		Attempt: 1, ComputeUnits: 2, WaitedBlocks: 0,
	}}, apptest.TypedEvents[*types.EventRequestAssigned](t, res[0].Events))
	require.Empty(t, apptest.TypedEvents[*types.EventRequestDeferred](t, res[0].Events))

	require.Equal(t, []*types.EventRequestSubmitted{{
		RequestId: 2, Requester: b.Address.String(), Class: low, Urgency: types.UrgencyCritical,
		ShardId: lowShard, ComputeUnits: 3, Fee: urepOf(7_500), // 3 units × 1_000 × 2.5 (critical)
		ReputationPpm: defaultScore,
	}}, apptest.TypedEvents[*types.EventRequestSubmitted](t, res[1].Events))
	// (1·500_000 + 4·1_000_000)/5 = 900_000 → due h + ⌊3·100_000/1e6⌋ = h+0.
	require.Equal(t, []*types.EventRequestDeferred{{
		RequestId: 2, ShardId: lowShard, Reason: types.DeferShardLoad, PriorityPpm: 900_000, DueHeight: h,
	}}, apptest.TypedEvents[*types.EventRequestDeferred](t, res[1].Events))
	require.Empty(t, apptest.TypedEvents[*types.EventRequestAssigned](t, res[1].Events))

	res = c.block(
		c.tx(w, completeMsg(w, 1)),
		c.tx(b, &types.MsgCancelRequest{Requester: b.Address.String(), RequestId: 2}),
		c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)),
		c.tx(b, submitMsg(b, low, types.UrgencyNormal, 1)),
	)
	require.Equal(t, []*types.EventRequestCompleted{{RequestId: 1, Worker: w.Address.String(), ResultHash: resultHash(1)}},
		apptest.TypedEvents[*types.EventRequestCompleted](t, res[0].Events))
	// Request 2 was never assigned: exit fee ⌊7_500 × 20_000 / 1e6⌋ = 150,
	// refund 7_500 − 150 = 7_350.
	require.Equal(t, []*types.EventRequestCancelled{{RequestId: 2, Requester: b.Address.String(),
		Refund: urepOf(7_350), PaidToWorkers: urepOf(0), ExitFee: urepOf(150)}},
		apptest.TypedEvents[*types.EventRequestCancelled](t, res[1].Events))
	queuedAt := c.App.LastBlockHeight()

	res = c.block(c.tx(w, &types.MsgFailRequest{Worker: w.Address.String(), RequestId: 3, Reason: "out of memory"}))
	require.Equal(t, []*types.EventRequestFailed{{RequestId: 3, Worker: w.Address.String(), Reason: "out of memory"}},
		apptest.TypedEvents[*types.EventRequestFailed](t, res[0].Events))

	// Request 4 waits in the low-priority shard (no worker) until its time to
	// live runs out: the EndBlock expires it and emits the event.
	for c.next() < queuedAt+int64(p.QueueTtlBlocks) {
		c.block()
		require.Empty(t, apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
	}
	c.block()
	// A queue expiry: the whole fee (1 unit × 1_000) back, no exit fee.
	require.Equal(t, []*types.EventRequestExpired{{RequestId: 4, WhileQueued: true, Refund: urepOf(1_000), ExitFee: urepOf(0)}},
		apptest.TypedEvents[*types.EventRequestExpired](t, c.BlockEvents))
}

// Complete, fail and cancel settle the fee, the worker and the reputation.
func TestCompleteFailCancelSettle(t *testing.T) {
	p := types.DefaultParams()
	p.FailureConfirmations = 1 // one failure report is final here: the test is about a FAILED request
	c := newDChain(t, 3, p)
	w, a, b := c.acc(0), c.acc(1), c.acc(2)
	c.register(workerSpec{w, compute, 10})
	rp, err := c.App.RewardsKeeper.GetParams(c.Committed())
	require.NoError(t, err)

	startA, startB := c.balance(a.Address), c.balance(b.Address)
	h := c.next()
	res := c.block(
		c.tx(a, submitMsg(a, compute, types.UrgencyNormal, 4)),
		c.tx(b, submitMsg(b, compute, types.UrgencyNormal, 3)),
		c.tx(a, submitMsg(a, low, types.UrgencyNormal, 5)),
	)
	completed, failed, cancelled := c.submitResponse(res[0]), c.submitResponse(res[1]), c.submitResponse(res[2])
	require.Equal(t, 7, int(c.shardWorker(w.Address).InFlightUnits))
	require.Equal(t, sdkmath.NewInt(12_000), c.balance(escrowAddr()))

	// Reports at the deadline height are still in time.
	deadline := h + int64(p.AssignmentTimeoutBlocks)
	for c.next() < deadline {
		c.block()
	}
	_, toPool := c.blockToPool(
		c.tx(w, completeMsg(w, completed.RequestId)),
		c.tx(w, &types.MsgFailRequest{Worker: w.Address.String(), RequestId: failed.RequestId, Reason: "bad input"}),
		c.tx(a, &types.MsgCancelRequest{Requester: a.Address.String(), RequestId: cancelled.RequestId}),
	)

	r := c.request(completed.RequestId)
	require.Equal(t, types.StatusCompleted, r.Status)
	require.Equal(t, resultHash(completed.RequestId), r.ResultHash)
	require.Equal(t, deadline, r.FinishHeight)
	r = c.request(failed.RequestId)
	require.Equal(t, types.StatusFailed, r.Status)
	require.Equal(t, "bad input", r.FailureReason)
	require.Equal(t, deadline, r.FinishHeight)
	r = c.request(cancelled.RequestId)
	require.Equal(t, types.StatusCancelled, r.Status)
	require.Equal(t, deadline, r.FinishHeight)

	// 4_000 completed: 5% (200) to the community pool, 3_800 owed to the worker;
	// 3_000 failed: 50% (1_500) back to B, 1_500 owed to the worker;
	// 5_000 cancelled while queued, never assigned: the exit fee
	// ⌊5_000 × 20_000 / 1e6⌋ = 100 to the community pool, 4_900 back to A.
	require.Equal(t, uint32(50_000), rp.ProtocolFeeSharePpm)
	require.Equal(t, uint32(500_000), p.FailureRefundPpm)
	require.Equal(t, uint32(20_000), p.QueueExitFeePpm)
	require.Equal(t, sdkmath.NewInt(3_800+1_500).String(), c.owed(w.Address).String())
	require.True(t, c.balance(escrowAddr()).IsZero())
	require.Equal(t, sdkmath.NewInt(200+100).String(), toPool.String(), "the protocol share and the exit fee")
	require.Equal(t, startA.SubRaw(4_000+100).Sub(txFee.Amount.MulRaw(3)).String(), c.balance(a.Address).String())
	require.Equal(t, startB.SubRaw(1_500).Sub(txFee.Amount).String(), c.balance(b.Address).String())

	wk := c.shardWorker(w.Address)
	require.Zero(t, wk.InFlightUnits)
	require.Equal(t, uint64(1), wk.Completed)
	require.Equal(t, uint64(1), wk.Failed)
	pa, pb := c.profile(a.Address), c.profile(b.Address)
	require.Equal(t, uint64(2), pa.Submitted)
	require.Equal(t, uint64(1), pa.Completed)
	require.Zero(t, pa.Failed+pa.Expired, "a cancellation is no outcome")
	require.Equal(t, uint64(1), pb.Failed)
	require.Zero(t, pb.Completed+pb.Expired)
	require.Greater(t, pa.Score, pb.Score)

	// The requester's open count went back to zero.
	_, err = c.App.DeferralKeeper.OpenRequests.Get(c.Committed(), a.Address)
	require.Error(t, err)
	require.True(t, c.App.RewardsKeeper.EscrowBalance(c.Committed()).IsZero(), "escrow must be empty")
}
