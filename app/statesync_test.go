package app_test

import (
	"path/filepath"
	"testing"

	"cosmossdk.io/log"
	"cosmossdk.io/store/snapshots"
	snapshottypes "cosmossdk.io/store/snapshots/types"
	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/baseapp"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// newSnapshotApp is an app with a state sync snapshot store, as a node has
// (app.toml [state-sync]). It takes no snapshot by itself (interval 0): the
// test takes one where it wants it, with the manager a node's
// snapshot-interval and `repshardd snapshots export` use, so no snapshot is
// written in the background while the test runs.
func newSnapshotApp(t *testing.T) *app.App {
	t.Helper()
	home := t.TempDir()
	store, err := snapshots.NewStore(dbm.NewMemDB(), filepath.Join(home, "data", "snapshots"))
	require.NoError(t, err)
	return app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, true, simtestutil.NewAppOptionsWithFlagHome(home),
		baseapp.SetChainID(chaincfg.DefaultChainID),
		baseapp.SetSnapshot(store, snapshottypes.NewSnapshotOptions(0, 2)))
}

// A node restored from a state sync snapshot holds the same state as the node
// that took it (every request, profile, worker, shard, earning and balance,
// and the app hash) and, given the same blocks, computes the same app hash
// and results block after block: nothing the chain depends on lives outside
// the stores the snapshot carries (no in-memory state to rebuild).
func TestStateSyncRestoreFollowsTheChain(t *testing.T) {
	source := apptest.NewWithApp(t, newSnapshotApp(t), workloadAccounts, nil)
	runWorkload(t, source, 12)
	height := uint64(source.App.LastBlockHeight())
	taken, err := source.App.SnapshotManager().Create(height)
	require.NoError(t, err)
	abciSnapshot, err := taken.ToABCI()
	require.NoError(t, err)
	snapshot := &abciSnapshot
	listed, err := source.App.ListSnapshots(&abci.RequestListSnapshots{})
	require.NoError(t, err)
	require.Equal(t, []*abci.Snapshot{snapshot}, listed.Snapshots, "the snapshot a node offers its peers")
	require.Positive(t, snapshot.Chunks)
	sourceState := readState(t, source, source.Committed())
	requireWorkloadState(t, sourceState)

	// A new node: an app that never ran InitChain, restored chunk by chunk
	// the way CometBFT's state sync drives it.
	restoredApp := newSnapshotApp(t)
	offer, err := restoredApp.OfferSnapshot(&abci.RequestOfferSnapshot{Snapshot: snapshot, AppHash: source.App.LastCommitID().Hash})
	require.NoError(t, err)
	require.Equal(t, abci.ResponseOfferSnapshot_ACCEPT, offer.Result)
	for i := range snapshot.Chunks {
		chunk, err := source.App.LoadSnapshotChunk(&abci.RequestLoadSnapshotChunk{Height: snapshot.Height, Format: snapshot.Format, Chunk: i})
		require.NoError(t, err)
		applied, err := restoredApp.ApplySnapshotChunk(&abci.RequestApplySnapshotChunk{Index: i, Chunk: chunk.Chunk, Sender: "source"})
		require.NoError(t, err)
		require.Equal(t, abci.ResponseApplySnapshotChunk_ACCEPT, applied.Result, "chunk %d", i)
	}
	restored := &apptest.Chain{App: restoredApp, ValSet: source.ValSet, Accounts: source.Accounts}
	require.EqualValues(t, height, restoredApp.LastBlockHeight())
	require.Equal(t, source.App.LastCommitID(), restoredApp.LastCommitID())
	require.Equal(t, sourceState, readState(t, restored, restored.Committed()))

	// Both run the same blocks, past the expiry of worker 1's assignments
	// (assignment_timeout_blocks) so every EndBlock step acts.
	params, err := source.App.DeferralKeeper.GetParams(source.Context())
	require.NoError(t, err)
	expiredBefore := countStatus(sourceState, deferraltypes.StatusExpired) + requeued(sourceState)
	for block := range int(params.AssignmentTimeoutBlocks) + 5 {
		txs := trafficTxs(t, source, block)
		want := source.NextBlock(t, txs...)
		got := restored.NextBlock(t, txs...)
		require.Equal(t, want, got, "results of block %d", source.App.LastBlockHeight())
		require.Equal(t, source.App.LastCommitID(), restoredApp.LastCommitID(), "app hash of block %d", source.App.LastBlockHeight())
	}
	final := readState(t, source, source.Committed())
	require.Equal(t, final, readState(t, restored, restored.Committed()))
	expiredAfter := countStatus(final, deferraltypes.StatusExpired) + requeued(final)
	require.Greater(t, expiredAfter, expiredBefore, "no assignment expired after the restore")
	t.Logf("snapshot at height %d (%d chunks); %d requests, %d expired assignments before, %d after %d more blocks",
		height, snapshot.Chunks, len(sourceState.Requests), expiredBefore, expiredAfter, params.AssignmentTimeoutBlocks+5)
}

func countStatus(s chainState, status deferraltypes.RequestStatus) int {
	n := 0
	for _, r := range s.Requests {
		if r.Status == status {
			n++
		}
	}
	return n
}

// requeued counts the assignments that expired and went back to the queue.
func requeued(s chainState) int {
	n := 0
	for _, r := range s.Requests {
		n += len(r.ExcludedWorkers)
	}
	return n
}
