package app_test

import (
	"crypto/sha256"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// batchChain is a chain with a requester and three workers: two serve the
// high-priority class with little capacity (so a batch fills them and the
// rest is deferred), one the data-intensive class; low-priority has none.
func batchChain(t *testing.T) (*apptest.Chain, apptest.Account) {
	t.Helper()
	c := apptest.New(t, 5, nil)
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	var txs [][]byte
	for i, class := range []shardtypes.ShardClass{shardtypes.ClassHighPriority, shardtypes.ClassHighPriority, shardtypes.ClassDataIntensive} {
		w := c.Accounts[i+1]
		txs = append(txs, c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{class},
			CapacityUnits: 12, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
		}))
	}
	for _, res := range c.NextBlock(t, txs...) {
		require.Zero(t, res.Code, res.Log)
	}
	return c, c.Accounts[0]
}

// mixedBatch covers every kind of entry: assigned at once, deferred for want
// of capacity and for want of workers, data held elsewhere, each urgency, a
// replicated request and a requester deadline.
func mixedBatch(requester sdk.AccAddress) []*deferraltypes.MsgSubmitRequest {
	fee := sdk.NewInt64Coin(chaincfg.BondDenom, 10_000_000)
	hash := sha256.Sum256([]byte("dataset 7"))
	var out []*deferraltypes.MsgSubmitRequest
	urgencies := []deferraltypes.Urgency{deferraltypes.UrgencyLow, deferraltypes.UrgencyNormal, deferraltypes.UrgencyHigh, deferraltypes.UrgencyCritical}
	for i := 0; i < 10; i++ {
		out = append(out, &deferraltypes.MsgSubmitRequest{
			Requester: requester.String(), Class: shardtypes.ClassHighPriority, Urgency: urgencies[i%4],
			ComputeUnits: uint64(1 + i%3), Payload: []byte{'j', byte('0' + i)}, MaxFee: fee,
		})
	}
	out = append(out,
		&deferraltypes.MsgSubmitRequest{Requester: requester.String(), Class: shardtypes.ClassLowPriority, Urgency: deferraltypes.UrgencyHigh,
			ComputeUnits: 2, Payload: []byte("queued"), MaxFee: fee, DeadlineBlocks: 30},
		&deferraltypes.MsgSubmitRequest{Requester: requester.String(), Class: shardtypes.ClassDataIntensive, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: 3, PayloadHash: hash[:], PayloadUri: "ipfs://dataset-7", DataBytes: 5 << 20, MaxFee: fee},
		&deferraltypes.MsgSubmitRequest{Requester: requester.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: 1, Payload: []byte("replicated"), MaxFee: fee, Replicas: 2},
	)
	return out
}

func batchOf(requester sdk.AccAddress, singles []*deferraltypes.MsgSubmitRequest) *deferraltypes.MsgSubmitRequests {
	b := &deferraltypes.MsgSubmitRequests{Requester: requester.String()}
	for _, m := range singles {
		b.Requests = append(b.Requests, m.Spec())
	}
	return b
}

// A batch decides each entry exactly as the same submissions sent one by one
// would, from the same state: the same responses, events, module stores and
// balances.
func TestBatchDecidesEachEntryAsSingleSubmissions(t *testing.T) {
	c, requester := batchChain(t)
	singles := mixedBatch(requester.Address)
	height := c.App.LastBlockHeight() + 1
	accounts := []sdk.AccAddress{requester.Address, c.Accounts[1].Address, c.Accounts[2].Address, c.Accounts[3].Address}

	one := c.Branch(height)
	var want []deferraltypes.MsgSubmitRequestResponse
	for _, m := range singles {
		res, err := c.App.MsgServiceRouter().Handler(m)(one, m)
		require.NoError(t, err)
		var r deferraltypes.MsgSubmitRequestResponse
		require.NoError(t, r.Unmarshal(res.MsgResponses[0].Value))
		want = append(want, r)
	}

	batch := c.Branch(height)
	msg := batchOf(requester.Address, singles)
	res, err := c.App.MsgServiceRouter().Handler(msg)(batch, msg)
	require.NoError(t, err)
	var got deferraltypes.MsgSubmitRequestsResponse
	require.NoError(t, got.Unmarshal(res.MsgResponses[0].Value))

	require.Equal(t, want, got.Results)
	statuses := map[deferraltypes.RequestStatus]int{}
	for _, r := range got.Results {
		statuses[r.Status]++
	}
	require.Positive(t, statuses[deferraltypes.StatusAssigned], "the batch assigns some entries at once")
	require.Positive(t, statuses[deferraltypes.StatusQueued], "and defers others")
	require.Equal(t, c.DumpRepshardStores(one), c.DumpRepshardStores(batch))
	require.Equal(t, c.Balances(one, accounts...), c.Balances(batch, accounts...))
	require.Equal(t, apptest.DumpStore(one, c.App.GetKey(banktypes.StoreKey)), apptest.DumpStore(batch, c.App.GetKey(banktypes.StoreKey)))
	require.Equal(t, eventsWithoutMsgIndex(one.EventManager().ABCIEvents()), eventsWithoutMsgIndex(batch.EventManager().ABCIEvents()))
}

func eventsWithoutMsgIndex(evs []abci.Event) []abci.Event {
	out := make([]abci.Event, 0, len(evs))
	for _, e := range evs {
		if e.Type == "message" {
			continue // the router's per-msg "message" event (action, module)
		}
		out = append(out, e)
	}
	return out
}

// Refused batches — empty, above max_batch_requests, or with one bad entry —
// fail with a typed error naming the entry, and change no state and no
// balance beyond the transaction fee.
func TestBatchRefusalsChangeNothing(t *testing.T) {
	c, requester := batchChain(t)
	dp, err := c.App.DeferralKeeper.GetParams(c.Context())
	require.NoError(t, err)
	good := mixedBatch(requester.Address)[0]
	tooMany := make([]*deferraltypes.MsgSubmitRequest, dp.MaxBatchRequests+1)
	for i := range tooMany {
		tooMany[i] = good
	}
	badFee := *good
	badFee.MaxFee = sdk.NewInt64Coin(chaincfg.BondDenom, 1)
	badClass := *good
	badClass.Class = shardtypes.ClassUnspecified
	for _, tc := range []struct {
		name    string
		entries []*deferraltypes.MsgSubmitRequest
		err     *errorsmod.Error
		entry   string
	}{
		{"empty", nil, deferraltypes.ErrInvalidBatch, ""},
		{"above the cap", tooMany, deferraltypes.ErrInvalidBatch, ""},
		{"a max fee below the fee in the middle", []*deferraltypes.MsgSubmitRequest{good, good, &badFee, good}, deferraltypes.ErrMaxFeeTooLow, "request 2 of the batch"},
		{"an unknown class last", []*deferraltypes.MsgSubmitRequest{good, &badClass}, deferraltypes.ErrInvalidClass, "request 1 of the batch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.DumpRepshardStores(c.Committed())
			balBefore := c.Balances(c.Committed(), requester.Address)
			gas := uint64(apptest.DefaultTxGas) * 20
			res := c.NextBlock(t, c.SignTxGas(t, requester, gas, batchOf(requester.Address, tc.entries)))[0]
			require.Equal(t, tc.err.ABCICode(), res.Code, res.Log)
			require.Equal(t, deferraltypes.ModuleName, res.Codespace)
			require.Contains(t, res.Log, tc.entry)
			after := c.DumpRepshardStores(c.Committed())
			require.Equal(t, withoutDrainCursor(before["deferral"]), withoutDrainCursor(after["deferral"]), "no request recorded")
			require.Equal(t, before["reputation"], after["reputation"])
			txFee := sdk.NewInt64Coin(chaincfg.BondDenom, int64(gas/100))
			require.Equal(t, balBefore[requester.Address.String()].Sub(txFee), c.Balances(c.Committed(), requester.Address)[requester.Address.String()],
				"only the transaction fee is paid; nothing is escrowed")
		})
	}
}

// A batch through a real signed transaction: every entry gets its record, and
// the requester's requests are all there afterwards.
func TestBatchThroughASignedTransaction(t *testing.T) {
	c, requester := batchChain(t)
	singles := mixedBatch(requester.Address)
	res := c.NextBlock(t, c.SignTxGas(t, requester, apptest.DefaultTxGas*5, batchOf(requester.Address, singles)))[0]
	var out deferraltypes.MsgSubmitRequestsResponse
	c.MsgResponse(t, res, &out)
	require.Len(t, out.Results, len(singles))
	for i, r := range out.Results {
		req, err := c.App.DeferralKeeper.GetRequest(c.Committed(), r.RequestId)
		require.NoError(t, err)
		require.Equal(t, requester.Address.String(), req.Requester)
		require.Equal(t, singles[i].ComputeUnits, req.ComputeUnits, "entry %d", i)
		require.Equal(t, singles[i].Class, req.Class, "entry %d", i)
		if i > 0 {
			require.Equal(t, out.Results[i-1].RequestId+1, r.RequestId, "entries get consecutive ids in order")
		}
	}
	submitted := apptest.TypedEvents[*deferraltypes.EventRequestSubmitted](t, res.Events)
	require.Len(t, submitted, len(singles))
}

// withoutDrainCursor drops the drain's round-robin cursor, which every
// block's EndBlock moves, from a dump of the x/deferral store.
func withoutDrainCursor(kvs []apptest.KV) []apptest.KV {
	var out []apptest.KV
	for _, kv := range kvs {
		if kv.Key[0] != deferraltypes.DrainCursorKey[0] {
			out = append(out, kv)
		}
	}
	return out
}

// A worker reports a whole batch's worth of results (max_batch_requests
// reports) in one transaction: every report is accepted.
func TestWorkerReportsABatchInOneTransaction(t *testing.T) {
	dp := deferraltypes.DefaultParams()
	c := apptest.New(t, 3, apptest.WithDeferralParams(t, dp))
	requester, worker := c.Accounts[0], c.Accounts[1]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	for _, res := range c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 10_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})) {
		require.Zero(t, res.Code, res.Log)
	}
	n := int(dp.MaxBatchRequests)
	b := &deferraltypes.MsgSubmitRequests{Requester: requester.Address.String()}
	for i := 0; i < n; i++ {
		b.Requests = append(b.Requests, submitMsg(requester.Address, shardtypes.ClassHighPriority).Spec())
	}
	var out deferraltypes.MsgSubmitRequestsResponse
	c.MsgResponse(t, c.NextBlock(t, c.SignTxGas(t, requester, 20_000_000, b))[0], &out)
	reports := make([]sdk.Msg, 0, n)
	for _, r := range out.Results {
		require.Equal(t, deferraltypes.StatusAssigned, r.Status)
		reports = append(reports, &deferraltypes.MsgCompleteRequest{Worker: worker.Address.String(), RequestId: r.RequestId, ResultHash: make([]byte, 32)})
	}
	res := c.NextBlock(t, c.SignTxGas(t, worker, 50_000_000, reports...))[0]
	require.Zero(t, res.Code, res.Log)
	for _, r := range out.Results {
		req, err := c.App.DeferralKeeper.GetRequest(c.Committed(), r.RequestId)
		require.NoError(t, err)
		require.Equal(t, deferraltypes.StatusCompleted, req.Status)
	}
	require.Len(t, apptest.TypedEvents[*deferraltypes.EventRequestCompleted](t, res.Events), n)
	t.Logf("%d reports in one tx: %d gas (%d per report)", n, res.GasUsed, res.GasUsed/int64(n))
}
