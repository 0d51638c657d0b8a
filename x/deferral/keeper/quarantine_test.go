package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	qtypes "github.com/repshard/repshard/internal/quarantine/types"
	"github.com/repshard/repshard/testutil/apptest"
	"github.com/repshard/repshard/x/deferral/keeper"
	"github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// The EndBlock quarantine of x/deferral: an item (a request in one step)
// that fails max_item_failures blocks in a row leaves its step's index for
// the quarantine, the items behind it go on, and governance retries or
// drops it. Failures are injected by corrupting the stored request record
// (apptest.Tamper writes into the app's working state between blocks).

// corrupt rewrites request id's stored record with edit applied.
func (c *dchain) corrupt(id uint64, edit func(r *types.Request)) {
	c.t.Helper()
	ctx := c.Tamper()
	r, err := c.App.DeferralKeeper.Requests.Get(ctx, id)
	require.NoError(c.t, err)
	edit(&r)
	require.NoError(c.t, c.App.DeferralKeeper.Requests.Set(ctx, id, r))
}

// quarantine lists the quarantined items through the Query service.
func (c *dchain) quarantine(step string) []qtypes.QuarantinedItem {
	c.t.Helper()
	res, err := keeper.NewQueryServerImpl(c.App.DeferralKeeper).Quarantine(c.Committed(), &types.QueryQuarantineRequest{Step: step})
	require.NoError(c.t, err)
	return res.Items
}

// failedItems are the items EndBlock reported failing in the last block.
func (c *dchain) failedItems() []string {
	c.t.Helper()
	var out []string
	for _, e := range apptest.TypedEvents[*types.EventEndBlockItemFailed](c.t, c.BlockEvents) {
		out = append(out, e.Step+" "+e.Item)
	}
	return out
}

// gov runs msg through the module's msg server as the governance module
// account (what an executed proposal does), in the state the next block
// starts from.
func (c *dchain) gov(run func(ms types.MsgServer, ctx sdk.Context) error) error {
	return run(keeper.NewMsgServerImpl(c.App.DeferralKeeper), c.Tamper())
}

// A queued request whose drain fails in every block (its excluded workers
// hold an address that does not decode) is reported each block while the
// requests behind it are assigned, is quarantined at its third failure
// (max_item_failures 3) and leaves the queue — no more reports — and
// governance drops it: DROPPED, the whole fee back to the requester, its
// shard's queued units freed. Anyone but governance is refused, and so is an
// unknown item; coins are conserved throughout (the invariants after each
// block).
func TestQuarantineDrainItemThenDropByGovernance(t *testing.T) {
	p := types.DefaultParams()
	p.MaxItemFailures = 3
	c := newDChain(t, 3, p)
	a, w := c.acc(0), c.acc(1)
	res := c.block(c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1), submitMsg(a, low, types.UrgencyNormal, 1),
		submitMsg(a, low, types.UrgencyNormal, 1)))
	require.Equal(t, types.StatusQueued, c.submitResponse(res[0]).Status, "no worker yet")
	bad, behind1, behind2 := uint64(1), uint64(2), uint64(3)
	c.corrupt(bad, func(r *types.Request) { r.ExcludedWorkers = []string{"not-an-address"} })

	c.register(workerSpec{w, low, 10}) // its EndBlock drains: the first failure
	require.Equal(t, []string{"drain_queues request/1"}, c.failedItems())
	require.Equal(t, types.StatusAssigned, c.request(behind1).Status, "the step goes on past the failing head")
	require.Equal(t, types.StatusAssigned, c.request(behind2).Status)
	require.Empty(t, c.quarantine(""))
	failures, err := c.App.DeferralKeeper.ItemQuarantine.Failures.Get(c.Committed(), collections.Join(types.StepDrainQueues, "request/1"))
	require.NoError(t, err)
	require.Equal(t, uint32(1), failures.Count)

	c.block() // second failure
	require.Equal(t, []string{"drain_queues request/1"}, c.failedItems())
	c.block() // third: quarantined
	quarantinedAt := c.App.LastBlockHeight()
	require.Equal(t, []string{"drain_queues request/1"}, c.failedItems())
	evs := apptest.TypedEvents[*qtypes.EventItemQuarantined](t, c.BlockEvents)
	require.Len(t, evs, 1)
	require.Equal(t, "deferral", evs[0].Module)
	require.Equal(t, uint32(3), evs[0].Failures)
	items := c.quarantine(types.StepDrainQueues)
	require.Len(t, items, 1)
	q := items[0]
	require.Equal(t, "request/1", q.Item)
	require.Equal(t, uint32(3), q.Failures)
	require.Equal(t, quarantinedAt, q.QuarantinedHeight)
	require.Equal(t, quarantinedAt-2, q.FirstFailureHeight)
	require.Contains(t, q.Error, "bech32", "the error of the last failure: the excluded worker does not decode")
	req := c.request(bad)
	require.Equal(t, types.StatusQueued, req.Status, "quarantine keeps the status")
	has, err := c.App.DeferralKeeper.Queue.Has(c.Committed(), collections.Join3(lowShard, uint64(req.DueHeight), bad))
	require.NoError(t, err)
	require.False(t, has, "out of the queue")
	_, err = c.App.DeferralKeeper.ItemQuarantine.Failures.Get(c.Committed(), collections.Join(types.StepDrainQueues, "request/1"))
	require.ErrorIs(t, err, collections.ErrNotFound, "the counter goes at the quarantine")
	require.Empty(t, c.quarantine(types.StepPruneFinished), "a step filter lists that step only")

	c.blocks(2)
	require.Empty(t, c.failedItems(), "a quarantined item is no longer retried every block")

	// Refused: anyone but governance, an unknown item.
	before := c.DumpRepshardStores(c.Tamper())
	err = c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.DropQuarantined(ctx, &types.MsgDropQuarantined{Authority: a.Address.String(), Step: types.StepDrainQueues, Item: "request/1"})
		return err
	})
	require.ErrorIs(t, err, types.ErrUnauthorized)
	err = c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.RetryQuarantined(ctx, &types.MsgRetryQuarantined{Authority: a.Address.String(), Step: types.StepDrainQueues, Item: "request/1"})
		return err
	})
	require.ErrorIs(t, err, types.ErrUnauthorized)
	err = c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.DropQuarantined(ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepDrainQueues, Item: "request/2"})
		return err
	})
	require.ErrorIs(t, err, types.ErrQuarantinedItemNotFound)
	requireSameStores(t, before, c.DumpRepshardStores(c.Tamper()))

	// Governance drops it.
	requesterBefore, escrowBefore := c.balance(a.Address), c.balance(escrowAddr())
	queuedBefore := c.shard(lowShard).QueuedUnits
	var outcome string
	require.NoError(t, c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		res, err := ms.DropQuarantined(ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepDrainQueues, Item: "request/1"})
		if err == nil {
			outcome = res.Outcome
		}
		return err
	}))
	c.block()
	require.Contains(t, outcome, "DROPPED")
	dropped := c.request(bad)
	require.Equal(t, types.StatusDropped, dropped.Status)
	require.Equal(t, requesterBefore.Add(dropped.Fee.Amount), c.balance(a.Address), "the whole fee back")
	require.Equal(t, escrowBefore.Sub(dropped.Fee.Amount), c.balance(escrowAddr()))
	require.Equal(t, queuedBefore-1, c.shard(lowShard).QueuedUnits)
	require.Empty(t, c.quarantine(""))
	require.Zero(t, c.profile(a.Address).Expired, "counted against nobody")
}

func (c *dchain) shard(id uint64) shardtypes.Shard {
	c.t.Helper()
	s, err := c.App.ShardKeeper.GetShard(c.Committed(), id)
	require.NoError(c.t, err)
	return s
}

// An assignment whose expiry fails in every block (its record says a
// deadline far ahead of the deadline index) is quarantined while another
// overdue assignment expires; the worker keeps its units in flight. Once the
// record is repaired, governance retries it: its deadline entry is back, and
// the next block expires it as usual. A second one, dropped instead, frees
// its worker unpenalised and refunds the whole fee.
func TestQuarantineExpiryRetryAndDropByGovernance(t *testing.T) {
	p := types.DefaultParams()
	p.MaxItemFailures = 2
	p.AssignmentTimeoutBlocks = 2
	p.MaxAttempts = 1 // an expired assignment ends the request: EXPIRED, refunded
	p.FailureConfirmations = 1
	c := newDChain(t, 3, p)
	a, w := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 10})
	c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1), submitMsg(a, high, types.UrgencyNormal, 2),
		submitMsg(a, high, types.UrgencyNormal, 3)))
	retried, dropped, fine := uint64(1), uint64(2), uint64(3)
	for _, id := range []uint64{retried, dropped, fine} {
		require.Equal(t, types.StatusAssigned, c.request(id).Status)
	}
	deadline := c.request(retried).DeadlineHeight
	for _, id := range []uint64{retried, dropped} {
		c.corrupt(id, func(r *types.Request) { r.DeadlineHeight += 1_000 })
	}
	for c.App.LastBlockHeight() < deadline {
		c.block()
	}
	require.ElementsMatch(t, []string{"expire_assignments request/1", "expire_assignments request/2"}, c.failedItems())
	require.Equal(t, types.StatusExpired, c.request(fine).Status, "the other overdue assignment expires")
	c.block()
	require.Len(t, c.quarantine(types.StepExpireAssignments), 2)
	require.Equal(t, uint64(3), c.shardWorker(w.Address).InFlightUnits, "the quarantined assignments keep their units")

	// The record repaired, governance retries the first one.
	c.corrupt(retried, func(r *types.Request) { r.DeadlineHeight = deadline })
	require.NoError(t, c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.RetryQuarantined(ctx, &types.MsgRetryQuarantined{Authority: types.GovAuthority(), Step: types.StepExpireAssignments, Item: "request/1"})
		return err
	}))
	c.block()
	require.Empty(t, c.failedItems())
	require.Equal(t, types.StatusExpired, c.request(retried).Status, "retried: expired by the next EndBlock")
	require.Len(t, c.quarantine(""), 1)
	require.Equal(t, uint64(2), c.shardWorker(w.Address).InFlightUnits)

	requesterBefore, bond := c.balance(a.Address), c.shardWorker(w.Address).Bond
	require.NoError(t, c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.DropQuarantined(ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepExpireAssignments, Item: "request/2"})
		return err
	}))
	c.block()
	d := c.request(dropped)
	require.Equal(t, types.StatusDropped, d.Status)
	require.Equal(t, requesterBefore.Add(d.Fee.Amount), c.balance(a.Address))
	require.Zero(t, c.shardWorker(w.Address).InFlightUnits, "its units are freed")
	require.Equal(t, bond, c.shardWorker(w.Address).Bond, "its worker is not slashed for the drop")
	require.Empty(t, c.quarantine(""))

	// Dropped means gone from the quarantine: a second message finds nothing.
	err := c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.RetryQuarantined(ctx, &types.MsgRetryQuarantined{Authority: types.GovAuthority(), Step: types.StepExpireAssignments, Item: "request/2"})
		return err
	})
	require.ErrorIs(t, err, types.ErrQuarantinedItemNotFound)
}

// A quarantined request whose requester cancels it meanwhile cannot be
// retried (ErrQuarantineStale); dropping it only removes the entry, with no
// second refund.
func TestQuarantineStaleItem(t *testing.T) {
	p := types.DefaultParams()
	p.MaxItemFailures = 1
	c := newDChain(t, 3, p)
	a, w := c.acc(0), c.acc(1)
	c.block(c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1)))
	c.corrupt(1, func(r *types.Request) { r.ExcludedWorkers = []string{"bogus"} })
	c.register(workerSpec{w, low, 10})
	require.Len(t, c.quarantine(types.StepDrainQueues), 1, "max_item_failures 1: quarantined at once")

	c.corrupt(1, func(r *types.Request) { r.ExcludedWorkers = nil })
	c.block(c.tx(a, &types.MsgCancelRequest{Requester: a.Address.String(), RequestId: 1}))
	require.Equal(t, types.StatusCancelled, c.request(1).Status)

	err := c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		_, err := ms.RetryQuarantined(ctx, &types.MsgRetryQuarantined{Authority: types.GovAuthority(), Step: types.StepDrainQueues, Item: "request/1"})
		return err
	})
	require.ErrorIs(t, err, types.ErrQuarantineStale)
	balance := c.balance(a.Address)
	var outcome string
	require.NoError(t, c.gov(func(ms types.MsgServer, ctx sdk.Context) error {
		res, err := ms.DropQuarantined(ctx, &types.MsgDropQuarantined{Authority: types.GovAuthority(), Step: types.StepDrainQueues, Item: "request/1"})
		if err == nil {
			outcome = res.Outcome
		}
		return err
	}))
	c.block()
	require.Contains(t, outcome, "already REQUEST_STATUS_CANCELLED")
	require.Equal(t, balance, c.balance(a.Address), "no second refund")
	require.Empty(t, c.quarantine(""))
}

// A step that cannot read its own state (here the drain cursor, and then
// the params) is reported with EventEndBlockStepFailed and skipped for the
// block: EndBlock returns no error, so the chain does not halt, and the
// other steps run.
func TestEndBlockStepErrorIsReportedNotReturned(t *testing.T) {
	p := types.DefaultParams()
	p.AssignmentTimeoutBlocks = 2
	p.MaxAttempts = 1
	p.FailureConfirmations = 1
	c := newDChain(t, 3, p)
	a, w := c.acc(0), c.acc(1)
	c.register(workerSpec{w, high, 10})
	c.block(c.tx(a, submitMsg(a, high, types.UrgencyNormal, 1)))
	deadline := c.request(1).DeadlineHeight
	for c.App.LastBlockHeight() < deadline-1 {
		c.block()
	}

	k := c.App.DeferralKeeper
	ctx := c.Branch(c.next()).WithEventManager(sdk.NewEventManager())
	ctx.KVStore(c.App.GetKey(types.StoreKey)).Set(types.DrainCursorKey.Bytes(), []byte{1}) // not a uint64
	require.NoError(t, k.EndBlocker(ctx), "a step error must not halt the chain")
	stepFailed := apptest.TypedEvents[*qtypes.EventEndBlockStepFailed](t, ctx.EventManager().ABCIEvents())
	require.Len(t, stepFailed, 1)
	require.Equal(t, qtypes.EventEndBlockStepFailed{Module: "deferral", Step: types.StepDrainQueues, Error: stepFailed[0].Error}, *stepFailed[0])
	r, err := k.Requests.Get(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, types.StatusExpired, r.Status, "the expiry step before it ran")

	ctx = c.Branch(c.next()).WithEventManager(sdk.NewEventManager())
	ctx.KVStore(c.App.GetKey(types.StoreKey)).Set(types.ParamsKey.Bytes(), []byte{0xff, 0xff})
	require.NoError(t, k.EndBlocker(ctx))
	stepFailed = apptest.TypedEvents[*qtypes.EventEndBlockStepFailed](t, ctx.EventManager().ABCIEvents())
	require.Len(t, stepFailed, 1)
	require.Equal(t, "params", stepFailed[0].Step)
}

// The 1→2 migration sets max_item_failures, absent from a version-1 store,
// to its default and leaves the other params as they are.
func TestMigrate1to2SetsMaxItemFailures(t *testing.T) {
	p := types.DefaultParams()
	p.MaxWaitBlocks = 77
	c := newDChain(t, 1, p)
	ctx := c.Branch(c.next())
	v1 := p
	v1.MaxItemFailures = 0 // what a version-1 store decodes to
	require.NoError(t, c.App.DeferralKeeper.Params.Set(ctx, v1))
	require.NoError(t, keeper.NewMigrator(c.App.DeferralKeeper).Migrate1to2(ctx))
	got, err := c.App.DeferralKeeper.Params.Get(ctx)
	require.NoError(t, err)
	want := p
	want.MaxItemFailures = types.DefaultParams().MaxItemFailures
	require.Equal(t, want, got)
}

// Quarantined items and failure counts travel through a genesis export and
// import: the imported store is byte-identical to the exported one, the
// quarantined request's queue entry included (left out, as it was).
func TestQuarantineGenesisRoundTrip(t *testing.T) {
	p := types.DefaultParams()
	p.MaxItemFailures = 2
	c := newDChain(t, 3, p)
	a, w := c.acc(0), c.acc(1)
	c.block(c.tx(a, submitMsg(a, low, types.UrgencyNormal, 1), submitMsg(a, low, types.UrgencyNormal, 2)))
	c.corrupt(1, func(r *types.Request) { r.ExcludedWorkers = []string{"bogus"} })
	c.register(workerSpec{w, low, 1}) // request 1 fails; request 2 (2 units) fits nobody and waits
	c.block()
	require.Len(t, c.quarantine(""), 1, "request 1 quarantined")
	c.corrupt(2, func(r *types.Request) { r.ExcludedWorkers = []string{"bogus"} })
	c.block()
	failures, err := c.App.DeferralKeeper.ItemQuarantine.Failures.Get(c.Committed(), collections.Join(types.StepDrainQueues, "request/2"))
	require.NoError(t, err)
	require.Equal(t, uint32(1), failures.Count, "request 2 counts one failure")

	exported, err := c.App.DeferralKeeper.ExportGenesis(c.Committed())
	require.NoError(t, err)
	require.Len(t, exported.QuarantinedItems, 1)
	require.Len(t, exported.ItemFailures, 1)
	// Records that do not decode their excluded workers are not valid
	// genesis records: repair them in the export, as an operator would.
	for i := range exported.Requests {
		exported.Requests[i].ExcludedWorkers = nil
	}
	f := newFixture(t)
	require.NoError(t, f.keeper.InitGenesis(f.ctx, *exported))
	for _, id := range []uint64{1, 2} {
		c.corrupt(id, func(r *types.Request) { r.ExcludedWorkers = nil })
	}
	require.Empty(t, diffKV(apptest.DumpStore(c.Tamper(), c.App.GetKey(types.StoreKey)), apptest.DumpStore(f.ctx, f.store.Key)))
}
