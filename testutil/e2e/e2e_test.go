//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// TestE2E runs the scenarios in order on one network (starting 4 validators
// costs more than the scenarios): each step leaves the chain healthy for the next.
func TestE2E(t *testing.T) {
	n := startNetwork(t)
	steps := []struct {
		name string
		run  func(*testing.T, *network)
	}{
		{"1_load_500_requests", testLoad},
		{"2_node_metrics", testNodeMetrics},
		{"3_validator_sigkill_mid_load", testValidatorKill},
		{"4_worker_sigkill_holding_assignments", testWorkerKill},
		{"5_governance_changes_deferral_threshold", testGovernance},
		{"6_dapp_grpc_client", testDAppClient},
		{"7_validator_partitioned_and_rejoins", testPartition},
		{"8_whole_chain_sigkill_and_restart", testChainRestart},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, n) }) {
			t.FailNow() // later steps rely on a healthy network
		}
	}
}

func mustHex(s string) []byte {
	bz, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return bz
}

// submittedTx is one tx of submissions as the test sent it: one request per
// message, in order.
type submittedTx struct {
	requester string
	payloads  []string
	hash      string
	ids       []uint64
	// acc and msgs are set for gRPC submissions, so a tx the chain refused
	// for its sequence can be sent again.
	acc  *grpcAccount
	msgs []sdk.Msg
}

// 1. 4 validators, 2 workers: 500 requests from 5 requesters through the
// CLI and gRPC; every request reaches a terminal state; the invariants hold
// when read back through queries; all four nodes agree on the app hash.
func testLoad(t *testing.T, n *network) {
	ctx := context.Background()
	names := []string{"req1", "req2", "req3", "req4", "req5"}
	addrs := n.newKeys(names...)
	const perRequester = 100 // = max_open_requests_per_requester
	const viaCLI = 25        // req1's first 25 go through the CLI, one tx each
	const perTx = 5          // the others through gRPC, 5 in a tx

	var txs []*submittedTx
	var mu sync.Mutex
	payload := func(r, i int) string {
		if i%10 == 3 {
			return fmt.Sprintf("%s job %d FAIL", names[r], i)
		}
		return fmt.Sprintf("%s job %d: sum the first %d integers", names[r], i, 1000*(i+1))
	}
	units := func(i int) uint64 { return uint64(1 + i%5) }

	// req1 through the CLI: signed offline with explicit sequences and
	// broadcast without waiting, so several land in each block.
	info, err := authtypes.NewQueryClient(n.grpcConn).AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: addrs[0].String()})
	require.NoError(t, err)
	seq := info.Info.Sequence
	start := time.Now()
	for i := range viaCLI {
		p := payload(0, i)
		u := units(i)
		out, err := n.cli("tx", "deferral", "submit-request", "high-priority", strconv.FormatUint(u, 10), fmt.Sprintf("%d%s", u*maxFeePerUnit, denom),
			"--payload", p, "--urgency", "normal", "--from", names[0], "--home", n.clientH, "--keyring-backend", "test",
			"--chain-id", chainID, "--node", n.rpcAddr(0), "--offline", "--account-number", strconv.FormatUint(info.Info.AccountNumber, 10),
			"--sequence", strconv.FormatUint(seq, 10), "--fees", txFees, "--gas", "400000", "--broadcast-mode", "sync", "-y", "-o", "json")
		require.NoError(t, err)
		var res struct {
			Code   int    `json:"code"`
			TxHash string `json:"txhash"`
			RawLog string `json:"raw_log"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &res), out)
		require.Zero(t, res.Code, res.RawLog)
		seq++
		txs = append(txs, &submittedTx{requester: addrs[0].String(), payloads: []string{p}, hash: res.TxHash})
	}
	t.Logf("%d requests through the CLI in %s", viaCLI, time.Since(start).Round(time.Millisecond))
	// req1 goes on through gRPC, whose client reads the committed sequence:
	// let the CLI's txs land first (one account, one signer at a time).
	for _, s := range txs {
		_, err := n.waitTx(ctx, s.hash)
		require.NoError(t, err)
	}

	// The rest through gRPC, one goroutine per requester, perTx requests in
	// a tx.
	start = time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	for r := range names {
		first := 0
		if r == 0 {
			first = viaCLI
		}
		wg.Add(1)
		go func(r, first int) {
			defer wg.Done()
			acc := n.grpcAccount(names[r], addrs[r])
			for i := first; i < perRequester; i += perTx {
				tx := &submittedTx{requester: addrs[r].String(), acc: acc}
				for j := i; j < min(i+perTx, perRequester); j++ {
					p := payload(r, j)
					tx.payloads = append(tx.payloads, p)
					tx.msgs = append(tx.msgs, submitMsg(addrs[r], units(j), p))
				}
				hash, err := acc.broadcast(ctx, tx.msgs...)
				if err != nil {
					errs <- fmt.Errorf("%s requests %d+: %w", names[r], i, err)
					return
				}
				tx.hash = hash
				// One tx in flight per requester, as a dApp that waits for
				// its confirmation: a burst of pre-sequenced txs from one
				// account can be reordered by mempool gossip on a loaded
				// machine and its tail evicted. The five requesters still
				// submit concurrently.
				if _, err := n.waitTx(ctx, hash); err != nil {
					errs <- fmt.Errorf("%s requests %d+: %w", names[r], i, err)
					return
				}
				mu.Lock()
				txs = append(txs, tx)
				mu.Unlock()
			}
		}(r, first)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d requests through gRPC in %s", len(names)*perRequester-viaCLI, time.Since(start).Round(time.Millisecond))

	// Every accepted tx is in a block exactly once and created its requests.
	type sent struct {
		requester, payload string
		id                 uint64
	}
	var subs []sent
	var ids []uint64
	seen := map[uint64]bool{}
	resent := 0
	for _, s := range txs {
		res, err := n.waitTx(ctx, s.hash)
		require.NoError(t, err)
		// A burst of pre-sequenced txs can reach a block out of order (CometBFT
		// mempool gossip): the chain then refuses the later one for its
		// sequence, executing nothing (code 32 in DeliverTx). A client sends
		// it again with a fresh sequence; its requests still count once.
		for attempt := 0; res.TxResponse.Code == 32 && s.acc != nil && attempt < 5; attempt++ {
			s.acc.loaded = false
			s.hash, err = s.acc.broadcast(ctx, s.msgs...)
			require.NoError(t, err)
			res, err = n.waitTx(ctx, s.hash)
			require.NoError(t, err)
			resent++
		}
		s.ids, err = requestIDsOf(res)
		require.NoError(t, err, "tx %s", s.hash)
		require.Len(t, s.ids, len(s.payloads), "tx %s", s.hash)
		for k, id := range s.ids {
			require.False(t, seen[id], "request id %d twice", id)
			seen[id] = true
			ids = append(ids, id)
			subs = append(subs, sent{requester: s.requester, payload: s.payloads[k], id: id})
		}
	}
	require.Len(t, subs, len(names)*perRequester)
	if resent > 0 {
		t.Logf("%d tx(s) refused in their block for an out-of-order sequence were sent again", resent)
	}

	done := n.waitTerminal(ids)
	perRequesterCompleted := map[string]uint64{}
	perRequesterFailed := map[string]uint64{}
	var completed, failed uint64
	for _, s := range subs {
		r := done[s.id]
		require.Equal(t, s.requester, r.Requester)
		require.Equal(t, s.payload, string(r.Payload))
		if strings.Contains(s.payload, "FAIL") {
			require.Equal(t, deferraltypes.StatusFailed, r.Status, "request %d (%q)", s.id, s.payload)
			require.Contains(t, r.FailureReason, "input rejected by the e2e executor")
			failed++
			perRequesterFailed[s.requester]++
		} else {
			require.Equal(t, deferraltypes.StatusCompleted, r.Status, "request %d (%q)", s.id, s.payload)
			sum := sha256.Sum256([]byte(s.payload))
			require.Equal(t, sum[:], r.ResultHash, "request %d result", s.id)
			completed++
			perRequesterCompleted[s.requester]++
		}
	}
	t.Logf("500 requests: %d completed, %d failed", completed, failed)

	// Invariants read back through queries.
	for _, a := range addrs {
		p, err := reputationtypes.NewQueryClient(n.grpcConn).Profile(ctx, &reputationtypes.QueryProfileRequest{Address: a.String()})
		require.NoError(t, err)
		require.EqualValues(t, perRequester, p.Profile.Submitted, "%s submitted", a)
		require.Equal(t, perRequesterCompleted[a.String()], p.Profile.Completed, "%s completed", a)
		require.Equal(t, perRequesterFailed[a.String()], p.Profile.Failed, "%s failed", a)
	}
	for _, st := range []deferraltypes.RequestStatus{deferraltypes.StatusQueued, deferraltypes.StatusAssigned} {
		res, err := n.query().RequestsByStatus(ctx, &deferraltypes.QueryRequestsByStatusRequest{Status: st, Pagination: &query.PageRequest{CountTotal: true, Limit: 1}})
		require.NoError(t, err)
		require.Zero(t, res.Pagination.Total, "requests still %s", st)
	}
	shards, err := shardtypes.NewQueryClient(n.grpcConn).Shards(ctx, &shardtypes.QueryShardsRequest{})
	require.NoError(t, err)
	for _, s := range shards.Shards {
		require.Zero(t, s.InFlightUnits, "shard %d in-flight units", s.Id)
		require.Zero(t, s.QueuedUnits, "shard %d queued units", s.Id)
	}
	var workerCompleted, workerFailed uint64
	for _, w := range n.workerAddrs() {
		res, err := shardtypes.NewQueryClient(n.grpcConn).Worker(ctx, &shardtypes.QueryWorkerRequest{Address: w})
		require.NoError(t, err)
		require.Zero(t, res.Worker.InFlightUnits, "worker %s in-flight units", w)
		workerCompleted += res.Worker.Completed
		workerFailed += res.Worker.Failed
	}
	require.Equal(t, completed, workerCompleted, "completions counted by the workers")
	// Both workers fail a FAIL request: it ends FAILED once
	// failure_confirmations of them reported it, each report counted.
	dp, err := n.query().Params(ctx, &deferraltypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, failed*uint64(dp.Params.FailureConfirmations), workerFailed, "failure reports counted by the workers")

	h := n.sameAppHash(0, 1, 2, 3)
	t.Logf("all 4 nodes: same app hash at height %d", h)
}

// workerAddrs are the worker accounts of the localnet.
func (n *network) workerAddrs() []string {
	var out []string
	for j := 1; ; j++ {
		home := filepath.Join(n.dir, fmt.Sprintf("worker%d", j))
		if _, err := os.Stat(home); err != nil {
			return out
		}
		addr, err := n.cli("keys", "show", fmt.Sprintf("worker%d", j), "-a", "--keyring-backend", "test", "--home", home)
		require.NoError(n.t, err)
		out = append(out, strings.TrimSpace(addr))
	}
}

// load submits requests from one account through gRPC until stop is
// closed, one every interval; it returns the hashes CheckTx accepted, and
// counts them in accepted as it goes.
func (n *network) load(ctx context.Context, name string, addr sdk.AccAddress, interval time.Duration, stop <-chan struct{}) (<-chan []string, <-chan error, *atomic.Int64) {
	out := make(chan []string, 1)
	errc := make(chan error, 1)
	accepted := new(atomic.Int64)
	go func() {
		acc := n.grpcAccount(name, addr)
		var hashes []string
		defer func() { out <- hashes }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
			hash, err := acc.broadcast(ctx, submitMsg(addr, 1, fmt.Sprintf("%s background job %d", name, i)))
			if err != nil {
				errc <- err
				return
			}
			hashes = append(hashes, hash)
			accepted.Add(1)
		}
	}()
	return out, errc, accepted
}

// liveTip is the highest height the given nodes report now (asked directly,
// not through the tracker).
func (n *network) liveTip(which ...int) int64 {
	var h int64
	for _, i := range which {
		h = max(h, n.height(i))
	}
	return h
}

// checkSignedWithout asserts that blocks from..to of node i's chain were
// committed by at least 2/3 of the validators (3 of 4) without the
// validator addr: they carry no vote of it in their LastCommit.
func (n *network) checkSignedWithout(t *testing.T, node int, addr []byte, from, to int64) {
	t.Helper()
	ctx := context.Background()
	for h := from; h <= to; h++ {
		b, err := n.rpc[node].Block(ctx, &h)
		require.NoError(t, err)
		signed := 0
		for _, sig := range b.Block.LastCommit.Signatures {
			if bytes.Equal(sig.ValidatorAddress, addr) {
				require.Equal(t, cmttypes.BlockIDFlagAbsent, sig.BlockIDFlag, "block %d carries a vote of the cut-off validator", h)
			}
			if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit {
				signed++
			}
		}
		require.GreaterOrEqual(t, signed, 3, "block %d: commit of %d votes", h, signed)
	}
}

// validatorAddress is node i's consensus address.
func (n *network) validatorAddress(t *testing.T, i int) []byte {
	t.Helper()
	st, err := n.rpc[i].Status(context.Background())
	require.NoError(t, err)
	return st.ValidatorInfo.Address
}

// 3. SIGKILL one validator mid-load: the other three go on committing blocks
// (without its vote); restarted, it catches up with the tip and has the same
// app hash; every accepted transaction is committed exactly once. The victim
// is node1, the node worker2 talks to: its event subscription drops and
// comes back.
func testValidatorKill(t *testing.T, n *network) {
	ctx := context.Background()
	addr := n.newKeys("loader")[0]
	node1 := n.validatorAddress(t, 1)
	stop := make(chan struct{})
	hashesc, errc, accepted := n.load(ctx, "loader", addr, 250*time.Millisecond, stop)

	n.waitFor(t, "the load is under way", txBlocks, func() bool { return accepted.Load() >= 5 })
	killed := n.kill("node1")
	killedAt := n.liveTip(0, 2, 3)
	t.Logf("node1 (pid %d) killed at height %d, %d txs of the load accepted", killed.PID, killedAt, accepted.Load())

	// Blocks keep coming on the other three. Votes for the first heights
	// after the kill may still be node1's (it can have been a height ahead
	// of the others); from killedAt+4 on none can be.
	const window = 6
	n.waitHeight(t, killedAt+4+window)
	n.checkSignedWithout(t, 0, node1, killedAt+4, killedAt+4+window)
	var gap time.Duration
	prev, err := n.rpc[0].Block(ctx, &killedAt)
	require.NoError(t, err)
	for h := killedAt + 1; h <= killedAt+4+window; h++ {
		b, err := n.rpc[0].Block(ctx, &h)
		require.NoError(t, err)
		gap = max(gap, b.Block.Time.Sub(prev.Block.Time))
		prev = b
	}
	t.Logf("blocks %d-%d committed by the other three validators (longest gap %s)", killedAt+1, killedAt+4+window, gap.Round(time.Millisecond))

	n.restart(killed)
	restartedAt, target := time.Now(), n.tip()
	n.waitFor(t, "node1 catches up", 60, func() bool { return n.height(1) >= target })
	t.Logf("node1 restarted, at height %d (the tip when it restarted) after %s", target, time.Since(restartedAt).Round(100*time.Millisecond))
	n.sameAppHash(0, 1)

	// worker2 noticed the drop, polled, and subscribed again.
	n.waitFor(t, "worker2 resubscribes after node1 came back", 60, func() bool {
		bz, _ := os.ReadFile(filepath.Join(n.dir, "logs", "worker2.log"))
		_, after, found := strings.Cut(string(bz), "event subscription dropped")
		return found && strings.Contains(after, "subscribed to assignments")
	})

	close(stop)
	hashes := <-hashesc
	select {
	case err := <-errc:
		require.NoError(t, err)
	default:
	}
	require.NotEmpty(t, hashes)
	// Exactly once: each accepted tx is in a block (once: the hash is
	// unique), and the requester has exactly as many requests as txs that
	// succeeded. With worker2 cut off, its assignments stay open until they
	// expire, so a submission may hit max_open_requests_per_requester: that
	// tx is committed too, and creates nothing.
	seen := map[uint64]bool{}
	refused := 0
	for _, h := range hashes {
		res, err := n.waitTx(ctx, h)
		require.NoError(t, err)
		if res.TxResponse.Code != 0 {
			require.Contains(t, res.TxResponse.RawLog, "too many open requests")
			refused++
			continue
		}
		id, err := requestIDOf(res)
		require.NoError(t, err)
		require.False(t, seen[id])
		seen[id] = true
	}
	all, err := n.query().RequestsByRequester(ctx, &deferraltypes.QueryRequestsByRequesterRequest{Requester: addr.String(), Pagination: &query.PageRequest{CountTotal: true, Limit: 1}})
	require.NoError(t, err)
	require.EqualValues(t, len(seen), all.Pagination.Total, "requests on chain vs successful txs")
	t.Logf("%d accepted txs during the fault, each committed once (%d refused in the block: too many open requests)", len(hashes), refused)
	ids := make([]uint64, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	n.waitTerminal(ids)
}

// workerProfile is a worker's x/reputation profile.
func (n *network) workerProfile(t *testing.T, addr string) reputationtypes.WorkerProfile {
	t.Helper()
	res, err := reputationtypes.NewQueryClient(n.grpcConn).WorkerProfile(context.Background(), &reputationtypes.QueryWorkerProfileRequest{Address: addr})
	require.NoError(t, err)
	return res.Profile
}

// worker is a worker's record on chain.
func (n *network) worker(t *testing.T, addr string) shardtypes.Worker {
	t.Helper()
	res, err := shardtypes.NewQueryClient(n.grpcConn).Worker(context.Background(), &shardtypes.QueryWorkerRequest{Address: addr})
	require.NoError(t, err)
	return res.Worker
}

// setCapacity changes worker j's capacity (tx shard update-worker, signed
// with its key). Its daemon must be stopped: it signs with the same account.
func (n *network) setCapacity(t *testing.T, j int, addr string, units uint64) {
	t.Helper()
	w := n.worker(t, addr)
	home := filepath.Join(n.dir, fmt.Sprintf("worker%d", j))
	n.waitTxJSON(n.cliBroadcast(home, fmt.Sprintf("worker%d", j), "shard", "update-worker",
		strconv.FormatUint(units, 10), strconv.FormatUint(w.StorageBytes, 10)))
	require.Equal(t, units, n.worker(t, addr).CapacityUnits)
}

// 4. SIGKILL a worker daemon while it executes assignments: they expire
// and are re-assigned to the other worker, never back to the killed one;
// after max_consecutive_expiries expiries in a row the killed worker is
// marked unresponsive and gets no new work; restarted, its daemon resumes it
// (tx shard resume-worker), reports none of the requests it held and no
// request twice.
//
// Nothing here races: the other worker (worker1) is made too small for the
// requests while they are submitted, so they can only go to the victim
// (worker2); the victim's executor holds them until the test opens a gate
// (HOLD payloads, see execScript), so it cannot finish them before it is
// killed; and the other worker gets its capacity back before the gate
// opens, with its daemon stopped meanwhile so the test can sign with its key.
func testWorkerKill(t *testing.T, n *network) {
	ctx := context.Background()
	workers := n.workerAddrs()
	require.Len(t, workers, 2)
	otherAddr, victimAddr := workers[0], workers[1]
	const other, victim = "worker1", "worker2"
	// Re-assignment stays within a shard. Test 1's load may have split the
	// class, putting the workers in different shards; once idle the shards
	// merge back (x/shard topology), so wait until both serve one shard.
	sp, err := shardtypes.NewQueryClient(n.grpcConn).Params(ctx, &shardtypes.QueryParamsRequest{})
	require.NoError(t, err)
	mergeBlocks := 4*int64(sp.Params.SustainBlocks+sp.Params.TopologyCooldownBlocks) + 20
	n.waitFor(t, "both workers in one shard (a merge after the load)", mergeBlocks, func() bool {
		res0, err0 := shardtypes.NewQueryClient(n.grpcConn).Worker(ctx, &shardtypes.QueryWorkerRequest{Address: otherAddr})
		res1, err1 := shardtypes.NewQueryClient(n.grpcConn).Worker(ctx, &shardtypes.QueryWorkerRequest{Address: victimAddr})
		return err0 == nil && err1 == nil && res0.Worker.ShardId == res1.Worker.ShardId
	})
	// Both take work. A worker whose assignments expired while its node was
	// down (step 3) may be marked unresponsive; its daemon resumes it at its
	// next full poll, which comes at the latest after its resync interval
	// (30 s, 75 blocks of 400 ms) — twice that, should the first send lose a
	// sequence race with its reports.
	n.waitFor(t, "both workers eligible for new work", 150, func() bool {
		return !n.worker(t, otherAddr).Paused && !n.worker(t, victimAddr).Paused
	})
	otherProc := n.stop(other)
	capacity := n.worker(t, otherAddr).CapacityUnits
	n.setCapacity(t, 1, otherAddr, 1)
	expiredBefore := n.worker(t, victimAddr).Expired

	// The gate is closed: HOLD jobs wait. Six requests of 5 units in one tx:
	// only the victim fits them.
	require.NoError(t, os.WriteFile(n.gate, nil, 0o644))
	addr := n.newKeys("held")[0]
	acc := n.grpcAccount("held", addr)
	var msgs []sdk.Msg
	payloads := map[uint64]string{}
	for i := range 6 {
		msgs = append(msgs, submitMsg(addr, 5, fmt.Sprintf("held job %d HOLD", i)))
	}
	hash, err := acc.broadcast(ctx, msgs...)
	require.NoError(t, err)
	res, err := n.waitTx(ctx, hash)
	require.NoError(t, err)
	held, err := requestIDsOf(res)
	require.NoError(t, err)
	require.Len(t, held, len(msgs))
	for i, id := range held {
		payloads[id] = string(msgs[i].(*deferraltypes.MsgSubmitRequest).Payload)
	}

	// The victim holds them all, and its executor is running each.
	n.waitFor(t, victim+" executes the held requests", txBlocks, func() bool {
		for _, id := range held {
			r, err := n.query().Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
			if err != nil || r.Request.Status != deferraltypes.StatusAssigned || r.Request.Worker != victimAddr {
				return false
			}
			if _, err := os.Stat(filepath.Join(n.heldDir, strconv.FormatUint(id, 10))); err != nil {
				return false
			}
		}
		return true
	})
	p := n.kill(victim)
	t.Logf("%s (%s, pid %d) killed while executing requests %v", victim, victimAddr, p.PID, held)

	// The other worker takes work again; then the gate opens (the killed
	// daemon's executors finish into closed pipes).
	n.setCapacity(t, 1, otherAddr, capacity)
	n.restart(otherProc)
	n.waitSubscribed(t, other)
	require.NoError(t, os.Remove(n.gate))

	// They expire (assignment_timeout_blocks) and go to the other worker.
	final := n.waitTerminal(held)
	for _, id := range held {
		r := final[id]
		require.Equal(t, deferraltypes.StatusCompleted, r.Status, "request %d", id)
		require.Equal(t, otherAddr, r.Worker, "request %d completed by the other worker", id)
		require.EqualValues(t, 2, r.Attempts, "request %d: one attempt by the victim, then one by the other worker", id)
		sum := sha256.Sum256([]byte(payloads[id]))
		require.Equal(t, sum[:], r.ResultHash, "request %d result", id)
	}
	require.Equal(t, expiredBefore+uint64(len(held)), n.worker(t, victimAddr).Expired, "expiries on the victim's record")
	t.Logf("%d held assignments expired and were completed by %s", len(held), other)

	// Six expiries in a row: the victim is unresponsive and gets no new work.
	rp, err := reputationtypes.NewQueryClient(n.grpcConn).Params(ctx, &reputationtypes.QueryParamsRequest{})
	require.NoError(t, err)
	maxExpiries := rp.Params.MaxConsecutiveExpiries
	require.LessOrEqual(t, maxExpiries, uint32(len(held)), "the scenario lets max_consecutive_expiries assignments expire")
	prof := n.workerProfile(t, victimAddr)
	require.True(t, prof.Unresponsive, "%s after %d expiries in a row (max_consecutive_expiries %d)", victim, prof.ConsecutiveExpiries, maxExpiries)
	require.GreaterOrEqual(t, prof.ConsecutiveExpiries, maxExpiries)
	require.True(t, n.worker(t, victimAddr).Paused, "x/shard gives the unresponsive %s no new work", victim)
	probes := n.submitAndWait(t, "held", addr, acc, 3)
	for _, id := range probes {
		r := n.request(id)
		require.Equal(t, otherAddr, r.Worker, "request %d submitted while %s is unresponsive", id, victim)
		require.EqualValues(t, 1, r.Attempts, "request %d", id)
	}
	t.Logf("%s unresponsive after %d expiries in a row; requests %v went to %s", victim, prof.ConsecutiveExpiries, probes, other)

	// Restart the victim: its daemon resumes it, reports none of the
	// requests it held, and nothing twice.
	n.restart(p)
	n.waitSubscribed(t, victim)
	n.waitFor(t, victim+" resumes itself (tx shard resume-worker)", 60, func() bool {
		return !n.workerProfile(t, victimAddr).Unresponsive && !n.worker(t, victimAddr).Paused
	})
	more := n.submitAndWait(t, "held", addr, acc, 10)
	n.waitHeight(t, n.tip()+5) // any late report of the restarted daemon is in a block by now
	reports := n.reportsOf(ctx, victimAddr)
	counts := map[uint64]int{}
	for _, id := range reports {
		counts[id]++
		require.NotContains(t, held, id, "%s reported request %d, which it held when it was killed", victim, id)
	}
	for id, c := range counts {
		require.Equal(t, 1, c, "%s reported request %d %d times", victim, id, c)
	}
	logBytes, err := os.ReadFile(filepath.Join(n.dir, "logs", victim+".log"))
	require.NoError(t, err)
	lineRe := regexp.MustCompile(`request (\d+) attempt (\d+): .* reported in block`)
	lines := map[string]int{}
	for _, m := range lineRe.FindAllStringSubmatch(string(logBytes), -1) {
		lines[m[1]+"/"+m[2]]++
	}
	for k, c := range lines {
		require.Equal(t, 1, c, "%s logged request/attempt %s reported %d times", victim, k, c)
	}
	t.Logf("%s reported %d requests in its txs, none twice and none it held; %d more requests completed after its restart", victim, len(reports), len(more))
}

// submitAndWait submits k quick requests in one tx and waits until they
// are finished; they must complete.
func (n *network) submitAndWait(t *testing.T, name string, addr sdk.AccAddress, acc *grpcAccount, k int) []uint64 {
	ctx := context.Background()
	var msgs []sdk.Msg
	for i := range k {
		msgs = append(msgs, submitMsg(addr, 1, fmt.Sprintf("%s quick job %d at %d", name, i, time.Now().UnixNano())))
	}
	h, err := acc.broadcast(ctx, msgs...)
	require.NoError(t, err)
	res, err := n.waitTx(ctx, h)
	require.NoError(t, err)
	ids, err := requestIDsOf(res)
	require.NoError(t, err)
	require.Len(t, ids, k)
	final := n.waitTerminal(ids)
	for _, id := range ids {
		require.Equal(t, deferraltypes.StatusCompleted, final[id].Status, "request %d", id)
	}
	return ids
}

// reportsOf lists the request ids of every MsgCompleteRequest and
// MsgFailRequest in the txs signed by worker.
func (n *network) reportsOf(ctx context.Context, worker string) []uint64 {
	var ids []uint64
	svc := txtypes.NewServiceClient(n.grpcConn)
	for page := uint64(1); ; page++ {
		res, err := svc.GetTxsEvent(ctx, &txtypes.GetTxsEventRequest{
			Query: fmt.Sprintf("message.sender='%s'", worker), Page: page, Limit: 100,
		})
		require.NoError(n.t, err)
		for _, tx := range res.Txs {
			for _, anyMsg := range tx.Body.Messages {
				var msg sdk.Msg
				require.NoError(n.t, n.cdc.InterfaceRegistry.UnpackAny(anyMsg, &msg))
				switch m := msg.(type) {
				case *deferraltypes.MsgCompleteRequest:
					ids = append(ids, m.RequestId)
				case *deferraltypes.MsgFailRequest:
					ids = append(ids, m.RequestId)
				}
			}
		}
		if page*100 >= res.Total {
			break
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// 5. A governance proposal through the CLI changes the deferral thresholds;
// the next submissions follow the new rule.
func testGovernance(t *testing.T, n *network) {
	ctx := context.Background()
	addr := n.newKeys("govtest")[0]
	acc := n.grpcAccount("govtest", addr)
	reasonOf := func() deferraltypes.DeferReason {
		h, err := acc.broadcast(ctx, submitMsg(addr, 1, fmt.Sprintf("gov probe %d", time.Now().UnixNano())))
		require.NoError(t, err)
		res, err := n.waitTx(ctx, h)
		require.NoError(t, err)
		id, err := requestIDOf(res)
		require.NoError(t, err)
		return n.request(id).DeferReason
	}
	before := reasonOf()
	require.NotEqual(t, deferraltypes.DeferReputation, before, "a new requester (default score) is not deferred for reputation yet")

	// Every requester with a score above 0 is now deferred for reputation.
	res := n.cliTx(0, "deferral", "update-params-proposal", `{"defer_reputation_threshold_ppm": 0}`,
		"--title", "Defer every requester", "--summary", "e2e: defer_reputation_threshold_ppm to 0", "--deposit", "10000000"+denom)
	raw, _ := json.Marshal(res)
	m := regexp.MustCompile(`"key":"proposal_id","value":"(\d+)"`).FindStringSubmatch(string(raw))
	require.NotNil(t, m, "no proposal_id in %s", raw)
	id, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	// The four validators vote at once (each with its own key), so every
	// vote is in long before the voting period ends.
	votes := make([]string, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			votes[i], errs[i] = n.broadcastCLI(n.nodeHome(i), fmt.Sprintf("node%d", i), "gov", "vote", m[1], "yes")
		}(i)
	}
	wg.Wait()
	for i := range nodes {
		require.NoError(t, errs[i], "vote of node%d", i)
		n.waitTxJSON(votes[i])
	}
	// The proposal ends at its voting_end_time (block time): wait for its
	// final status, at most as many blocks as fit in the voting period.
	gov := govv1.NewQueryClient(n.grpcConn)
	gp, err := gov.Params(ctx, &govv1.QueryParamsRequest{})
	require.NoError(t, err)
	votingBlocks := int64(*gp.Params.VotingPeriod/timeout) + 20
	var status govv1.ProposalStatus
	n.waitFor(t, "proposal "+m[1]+" ends", votingBlocks, func() bool {
		p, err := gov.Proposal(ctx, &govv1.QueryProposalRequest{ProposalId: id})
		if err != nil {
			return false
		}
		status = p.Proposal.Status
		return status != govv1.StatusVotingPeriod
	})
	require.Equal(t, govv1.StatusPassed, status, "proposal %d", id)
	p, err := deferraltypes.NewQueryClient(n.grpcConn).Params(ctx, &deferraltypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Zero(t, p.Params.DeferReputationThresholdPpm)
	t.Logf("proposal %d passed: defer_reputation_threshold_ppm = 0", id)

	after := reasonOf()
	require.Equal(t, deferraltypes.DeferReputation, after, "after the proposal a request is deferred for reputation (was %s)", before)
}

// broadcastCLI is cliBroadcast for any goroutine: it returns an error.
func (n *network) broadcastCLI(home, key string, args ...string) (string, error) {
	full := append([]string{"tx"}, args...)
	full = append(full, "--home", home, "--from", key, "--keyring-backend", "test",
		"--chain-id", chainID, "--node", n.rpcAddr(0), "--fees", txFees, "--gas", "500000", "-y", "-o", "json")
	out, err := n.cli(full...)
	if err != nil {
		return "", err
	}
	var res struct {
		Code   int    `json:"code"`
		TxHash string `json:"txhash"`
		RawLog string `json:"raw_log"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	if res.Code != 0 {
		return "", fmt.Errorf("CheckTx code %d: %s", res.Code, res.RawLog)
	}
	return res.TxHash, nil
}

// 6. A dApp-style Go client using only the generated gRPC clients submits a
// signed request and follows it to completion.
func testDAppClient(t *testing.T, n *network) {
	ctx := context.Background()
	addr := n.newKeys("dapp")[0]
	acc := n.grpcAccount("dapp", addr) // auth Query + tx Service clients
	payload := "dapp: render frame 42"
	hash, err := acc.broadcast(ctx, submitMsg(addr, 3, payload))
	require.NoError(t, err)
	res, err := n.waitTx(ctx, hash)
	require.NoError(t, err)
	id, err := requestIDOf(res)
	require.NoError(t, err)
	q := deferraltypes.NewQueryClient(n.grpcConn)
	var statuses []string
	n.waitFor(t, fmt.Sprintf("request %d completes", id), 60, func() bool {
		r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
		if err != nil {
			return false
		}
		if len(statuses) == 0 || statuses[len(statuses)-1] != r.Request.Status.String() {
			statuses = append(statuses, r.Request.Status.String())
		}
		return r.Request.Status == deferraltypes.StatusCompleted
	})
	r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(payload))
	require.Equal(t, sum[:], r.Request.ResultHash)
	t.Logf("request %d followed through %v; result %x", id, statuses, r.Request.ResultHash)
}

// 8. Stop the whole chain with SIGKILL and restart it: it resumes from the
// last height with the same app hash and accepts new requests.
func testChainRestart(t *testing.T, n *network) {
	ctx := context.Background()
	lastH := n.sameAppHash(0, 1, 2, 3)
	for _, name := range []string{"worker1", "worker2", "node0", "node1", "node2", "node3"} {
		n.kill(name)
	}
	// Each node's own last state (ABCI Info is served by the app, from disk).
	out, err := n.localnet("start")
	require.NoError(t, err, out)
	var heights []int64
	for i := range nodes {
		info, err := n.rpc[i].ABCIInfo(ctx)
		require.NoError(t, err)
		heights = append(heights, info.Response.LastBlockHeight)
		require.GreaterOrEqual(t, info.Response.LastBlockHeight, lastH, "node%d went back in height", i)
	}
	h := n.sameAppHash(0, 1, 2, 3)
	require.Greater(t, h, lastH)
	// The block at the height every node had before the kill is unchanged.
	b0, err := n.rpc[0].Block(ctx, &lastH)
	require.NoError(t, err)
	for i := 1; i < nodes; i++ {
		b, err := n.rpc[i].Block(ctx, &lastH)
		require.NoError(t, err)
		require.Equal(t, b0.Block.AppHash, b.Block.AppHash)
	}
	t.Logf("restarted: nodes resumed at heights %v (killed after %d); same app hash at %d", heights, lastH, h)

	addr := n.newKeys("after-restart")[0]
	ids := n.submitAndWait(t, "after-restart", addr, n.grpcAccount("after-restart", addr), 5)
	t.Logf("requests %v completed after the restart", ids)
}
