package app_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// kvBytes is the size of a store's key/value pairs (keys + values), the
// payload the IAVL tree stores for it.
func kvBytes(kvs []apptest.KV) (n int) {
	for _, kv := range kvs {
		n += len(kv.Key) + len(kv.Value)
	}
	return n
}

func repshardBytes(c *apptest.Chain) (deferral, all int) {
	stores := c.DumpRepshardStores(c.Committed())
	for name, kvs := range stores {
		if name == deferraltypes.StoreKey {
			deferral = kvBytes(kvs)
		}
		all += kvBytes(kvs)
	}
	return deferral, all
}

// TestStateBytesPerRequest measures the state one request costs while it is
// open and after it finished and was pruned (docs/BENCHMARKS.md): 200
// requests (32-byte payload hash, 19-byte URI) are submitted, assigned,
// completed, and pruned after retention_blocks. After pruning nothing of
// them may remain in x/deferral's store but the request id counter.
func TestStateBytesPerRequest(t *testing.T) {
	const n = 200
	params := deferraltypes.DefaultParams()
	params.RetentionBlocks = 20
	params.MaxPrunesPerBlock = 100
	c := apptest.New(t, 5, func(g app.GenesisState) {
		g[deferraltypes.ModuleName] = mustJSON(t, &deferraltypes.GenesisState{Params: params, NextRequestId: 1})
	})
	worker, requesters := c.Accounts[0], c.Accounts[1:]
	sp, err := c.App.ShardKeeper.GetParams(c.Context())
	require.NoError(t, err)
	for _, res := range c.NextBlock(t, c.SignTx(t, worker, &shardtypes.MsgRegisterWorker{
		Worker: worker.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
		CapacityUnits: 10_000, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
	})) {
		require.Zero(t, res.Code, res.Log)
	}
	// One submission per requester first, so their reputation profiles and
	// open counts exist: the figures then count what each further request adds.
	price := shardtypes.DefaultParams().PriceFloor
	submit := func(from apptest.Account, i int) []byte {
		sum := sha256.Sum256([]byte(fmt.Sprint(i)))
		return c.SignTx(t, from, &deferraltypes.MsgSubmitRequest{
			Requester: from.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: 1, PayloadHash: sum[:], PayloadUri: "ipfs://bafy/" + fmt.Sprintf("%07d", i), MaxFee: price,
		})
	}
	deliver := func(txs [][]byte) {
		for i := 0; i < len(txs); i += 50 {
			for _, res := range c.NextBlock(t, txs[i:min(i+50, len(txs))]...) {
				require.Zero(t, res.Code, res.Log)
			}
		}
	}
	var warm [][]byte
	for i := range requesters {
		warm = append(warm, submit(requesters[i], n+i))
	}
	deliver(warm)
	completeAll := func() {
		var ids []uint64
		require.NoError(t, c.App.DeferralKeeper.Requests.Walk(c.Committed(), nil, func(id uint64, r deferraltypes.Request) (bool, error) {
			if r.Status == deferraltypes.StatusAssigned {
				ids = append(ids, id)
			}
			return false, nil
		}))
		var done [][]byte
		for _, id := range ids {
			sum := sha256.Sum256([]byte{byte(id)})
			done = append(done, c.SignTx(t, worker, &deferraltypes.MsgCompleteRequest{
				Worker: worker.Address.String(), RequestId: id, ResultHash: sum[:],
			}))
		}
		deliver(done)
	}
	awaitPruning := func() {
		for range params.RetentionBlocks + 5 {
			c.NextBlock(t)
		}
	}
	completeAll()
	awaitPruning()
	base, baseAll := repshardBytes(c)

	var txs [][]byte
	for i := 0; i < n; i++ {
		txs = append(txs, submit(requesters[i%len(requesters)], i))
	}
	deliver(txs)
	open, openAll := repshardBytes(c)

	completeAll()
	finished, finishedAll := repshardBytes(c)
	awaitPruning()
	pruned, prunedAll := repshardBytes(c)

	perOpen := float64(open-base) / n
	perFinished := float64(finished-base) / n
	perPruned := float64(pruned-base) / n
	t.Logf("x/deferral store bytes per request: open (assigned) %.1f, finished %.1f, after pruning %.2f", perOpen, perFinished, perPruned)
	t.Logf("four repshard stores bytes per request: open %.1f, finished %.1f, after pruning %.2f",
		float64(openAll-baseAll)/n, float64(finishedAll-baseAll)/n, float64(prunedAll-baseAll)/n)
	fmt.Printf("STATE-BYTES deferral_open=%.1f deferral_finished=%.1f deferral_pruned=%.2f all_open=%.1f all_finished=%.1f all_pruned=%.2f\n",
		perOpen, perFinished, perPruned, float64(openAll-baseAll)/n, float64(finishedAll-baseAll)/n, float64(prunedAll-baseAll)/n)

	ctx := c.Committed()
	var left int
	require.NoError(t, c.App.DeferralKeeper.Requests.Walk(ctx, nil, func(uint64, deferraltypes.Request) (bool, error) {
		left++
		return false, nil
	}))
	require.Zero(t, left, "every finished request is pruned after retention_blocks")
	require.Positive(t, perOpen)
	// The id counter is the only x/deferral entry that grows with requests
	// (a varint, at most a few bytes); records, indexes and counts are gone.
	require.LessOrEqual(t, pruned-base, 8, "x/deferral keeps %d bytes after pruning", pruned-base)
}
