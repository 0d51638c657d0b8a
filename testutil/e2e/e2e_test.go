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
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

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
		{"2_validator_sigkill_mid_load", testValidatorKill},
		{"3_worker_sigkill_holding_assignments", testWorkerKill},
		{"4_governance_changes_deferral_threshold", testGovernance},
		{"5_dapp_grpc_client", testDAppClient},
		{"6_whole_chain_sigkill_and_restart", testChainRestart},
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

// submitted is one request as the test sent it.
type submitted struct {
	requester string
	payload   string
	hash      string
	id        uint64
	// acc and msg are set for gRPC submissions, so one the chain refused
	// for its sequence can be sent again.
	acc *grpcAccount
	msg sdk.Msg
}

// 1. 4 validators, 2 workers: 500 requests from 5 requesters through the
// CLI and gRPC; every request reaches a terminal state; the invariants hold
// when read back through queries; all four nodes agree on the app hash.
func testLoad(t *testing.T, n *network) {
	ctx := context.Background()
	names := []string{"req1", "req2", "req3", "req4", "req5"}
	addrs := n.newKeys(names...)
	const perRequester = 100 // = max_open_requests_per_requester
	const viaCLI = 50        // req1's first 50 go through the CLI

	var subs []*submitted
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
		subs = append(subs, &submitted{requester: addrs[0].String(), payload: p, hash: res.TxHash})
	}
	t.Logf("%d requests through the CLI in %s", viaCLI, time.Since(start).Round(time.Millisecond))
	// req1 goes on through gRPC, whose client reads the committed sequence:
	// let the CLI's txs land first (one account, one signer at a time).
	for _, s := range subs {
		_, err := waitTx(ctx, n.grpcConn, s.hash, 60*time.Second)
		require.NoError(t, err)
	}

	// The rest through gRPC, one goroutine per requester.
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
			for i := first; i < perRequester; i++ {
				p := payload(r, i)
				msg := submitMsg(addrs[r], units(i), p)
				hash, err := acc.broadcast(ctx, msg)
				if err != nil {
					errs <- fmt.Errorf("%s request %d: %w", names[r], i, err)
					return
				}
				// One tx in flight per requester, as a dApp that waits for
				// its confirmation: a burst of pre-sequenced txs from one
				// account can be reordered by mempool gossip on a loaded
				// machine and its tail evicted. The five requesters still
				// submit concurrently.
				if _, err := waitTx(ctx, n.grpcConn, hash, 60*time.Second); err != nil {
					errs <- fmt.Errorf("%s request %d: %w", names[r], i, err)
					return
				}
				mu.Lock()
				subs = append(subs, &submitted{requester: addrs[r].String(), payload: p, hash: hash, acc: acc, msg: msg})
				mu.Unlock()
			}
		}(r, first)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, subs, len(names)*perRequester)
	t.Logf("%d requests through gRPC in %s", len(subs)-viaCLI, time.Since(start).Round(time.Millisecond))

	// Every accepted tx is in a block exactly once and created one request.
	ids := make([]uint64, 0, len(subs))
	seen := map[uint64]bool{}
	resent := 0
	for _, s := range subs {
		res, err := waitTx(ctx, n.grpcConn, s.hash, 60*time.Second)
		require.NoError(t, err)
		// A burst of pre-sequenced txs can reach a block out of order (CometBFT
		// mempool gossip): the chain then refuses the later one for its
		// sequence, executing nothing (code 32 in DeliverTx). A client sends
		// it again with a fresh sequence; the request still counts once.
		for attempt := 0; res.TxResponse.Code == 32 && s.acc != nil && attempt < 5; attempt++ {
			s.acc.loaded = false
			s.hash, err = s.acc.broadcast(ctx, s.msg)
			require.NoError(t, err)
			res, err = waitTx(ctx, n.grpcConn, s.hash, 60*time.Second)
			require.NoError(t, err)
			resent++
		}
		s.id, err = requestIDOf(res)
		require.NoError(t, err, "tx %s", s.hash)
		require.False(t, seen[s.id], "request id %d twice", s.id)
		seen[s.id] = true
		ids = append(ids, s.id)
	}
	if resent > 0 {
		t.Logf("%d submission(s) refused in their block for an out-of-order sequence were sent again", resent)
	}

	done := n.waitTerminal(ids, 4*time.Minute)
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
// closed, one every interval; it returns the hashes CheckTx accepted.
func (n *network) load(ctx context.Context, name string, addr sdk.AccAddress, interval time.Duration, stop <-chan struct{}) (<-chan []string, <-chan error) {
	out := make(chan []string, 1)
	errc := make(chan error, 1)
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
		}
	}()
	return out, errc
}

// 2. SIGKILL one validator mid-load: blocks keep coming (no gap over 10 s);
// restarted, within 20 s it is within one block of the tip with the same app
// hash; every accepted transaction is committed exactly once. The victim is
// node1, the node worker2 talks to: its event subscription drops and comes
// back.
func testValidatorKill(t *testing.T, n *network) {
	ctx := context.Background()
	addr := n.newKeys("loader")[0]
	stop := make(chan struct{})
	hashesc, errc := n.load(ctx, "loader", addr, 250*time.Millisecond, stop)

	time.Sleep(3 * time.Second)
	killed := n.kill("node1")
	killedAt := n.height(0)
	t.Logf("node1 (pid %d) killed at height %d", killed.PID, killedAt)

	// Blocks keep coming on the other three: watch block times for 12 s.
	startH := n.height(0)
	time.Sleep(12 * time.Second)
	endH := n.height(0)
	// A round whose proposer is node1 waits for timeout_propose (3 s), so
	// blocks come slower, but they come.
	require.Greater(t, endH, startH+1, "the chain stalled without node1")
	var prev time.Time
	for h := startH; h <= endH; h++ {
		b, err := n.rpc[0].Block(ctx, &h)
		require.NoError(t, err)
		if !prev.IsZero() {
			require.Less(t, b.Block.Time.Sub(prev), 10*time.Second, "gap before block %d", h)
		}
		prev = b.Block.Time
	}

	n.restart(killed)
	restartedAt := time.Now()
	require.Eventually(t, func() bool {
		h := n.height(1)
		return h > 0 && h >= n.height(0)-1
	}, 20*time.Second, 200*time.Millisecond, "node1 did not catch up within 20 s")
	t.Logf("node1 restarted, within one block of the tip after %s", time.Since(restartedAt).Round(100*time.Millisecond))
	n.sameAppHash(0, 1)

	// worker2 noticed the drop, polled, and subscribed again.
	require.Eventually(t, func() bool {
		bz, _ := os.ReadFile(filepath.Join(n.dir, "logs", "worker2.log"))
		_, after, found := strings.Cut(string(bz), "event subscription dropped")
		return found && strings.Contains(after, "subscribed to assignments")
	}, 30*time.Second, 500*time.Millisecond, "worker2 did not resubscribe after node1 came back")

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
		res, err := waitTx(ctx, n.grpcConn, h, 60*time.Second)
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
	n.waitTerminal(ids, 2*time.Minute)
}

// 3. SIGKILL a worker daemon holding assignments: they expire and are
// re-assigned to the other worker; the restarted daemon does not report any
// request twice.
func testWorkerKill(t *testing.T, n *network) {
	ctx := context.Background()
	workers := n.workerAddrs()
	require.Len(t, workers, 2)
	// Re-assignment stays within a shard. Test 1's load may have split the
	// class, putting the workers in different shards; once idle the shards
	// merge back (x/shard topology), so wait until both serve one shard.
	shardOf := func(w string) uint64 {
		res, err := shardtypes.NewQueryClient(n.grpcConn).Worker(ctx, &shardtypes.QueryWorkerRequest{Address: w})
		if err != nil {
			return 0
		}
		return res.Worker.ShardId
	}
	require.Eventually(t, func() bool {
		s0 := shardOf(workers[0])
		return s0 != 0 && s0 == shardOf(workers[1])
	}, 120*time.Second, time.Second, "the two workers never shared a shard again (no merge after the load)")
	// Best fit assigns to the worker with the least free capacity that fits,
	// ties to the lower address: after the expiry both are idle, so the
	// requests go back to the lower one. Kill the higher one.
	lowIdx, highIdx := 0, 1
	a0, _ := sdk.AccAddressFromBech32(workers[0])
	a1, _ := sdk.AccAddressFromBech32(workers[1])
	if bytes.Compare(a0, a1) > 0 {
		lowIdx, highIdx = 1, 0
	}
	victim := fmt.Sprintf("worker%d", highIdx+1)
	victimAddr, otherAddr := workers[highIdx], workers[lowIdx]

	// Slow requests (4 s each) that fill the lower worker (capacity 100) so
	// the victim gets some too.
	addr := n.newKeys("slow")[0]
	acc := n.grpcAccount("slow", addr)
	// Broadcast in the background: under a loaded machine 30 sync broadcasts
	// take seconds, longer than a slow job, so the victim is watched while
	// they go out.
	var hashes []string
	broadcastErr := make(chan error, 1)
	go func() {
		for i := range 30 {
			h, err := acc.broadcast(ctx, submitMsg(addr, 5, fmt.Sprintf("slow job %d SLOW", i)))
			if err != nil {
				broadcastErr <- err
				return
			}
			hashes = append(hashes, h)
		}
		broadcastErr <- nil
	}()
	// Kill the victim while it holds assignments — polled right after the
	// broadcast, so it dies within ~100 ms of its first assignment, well
	// inside the 4 s its executor takes (waiting for the submissions first
	// let it finish and report under a loaded CI machine).
	var held []uint64
	require.Eventually(t, func() bool {
		held = held[:0]
		res, err := n.query().RequestsByWorker(ctx, &deferraltypes.QueryRequestsByWorkerRequest{Worker: victimAddr, Pagination: &query.PageRequest{Limit: 1000}})
		if err != nil {
			return false
		}
		for _, r := range res.Requests {
			if r.Status == deferraltypes.StatusAssigned {
				held = append(held, r.Id)
			}
		}
		return len(held) > 0
	}, 30*time.Second, 100*time.Millisecond, "%s never held an assignment", victim)
	p := n.kill(victim)
	t.Logf("%s (%s, pid %d) killed holding %d assignment(s): %v", victim, victimAddr, p.PID, len(held), held)
	require.NoError(t, <-broadcastErr)
	var ids []uint64
	for _, h := range hashes {
		res, err := waitTx(ctx, n.grpcConn, h, time.Minute)
		require.NoError(t, err)
		id, err := requestIDOf(res)
		require.NoError(t, err)
		ids = append(ids, id)
	}

	// They expire (deadline 20 blocks) and go to the other worker.
	final := n.waitTerminal(ids, 3*time.Minute)
	var moved int
	for _, id := range held {
		r := final[id]
		if r.Status == deferraltypes.StatusCompleted && r.Worker == otherAddr && r.Attempts > 1 {
			moved++
		}
	}
	// A request the victim had reported before the kill is completed by it;
	// the others must have moved to the other worker.
	victimDone := 0
	for _, id := range held {
		if final[id].Worker == victimAddr {
			victimDone++
		}
	}
	require.Equal(t, len(held), moved+victimDone, "held requests: %d moved to %s, %d completed by the victim before dying", moved, otherAddr, victimDone)
	require.Positive(t, moved, "no held assignment was re-assigned to the other worker")
	t.Logf("%d held assignment(s) expired and were completed by the other worker", moved)

	// Restart the victim; give it time to look at its state and the chain.
	n.restart(p)
	require.Eventually(t, func() bool {
		bz, _ := os.ReadFile(filepath.Join(n.dir, "logs", victim+".log"))
		parts := strings.Split(string(bz), "restarted by the e2e test")
		return len(parts) > 1 && strings.Contains(parts[len(parts)-1], "subscribed to assignments")
	}, 30*time.Second, 200*time.Millisecond)
	more := n.submitAndWait(t, "slow", addr, acc, 10)
	_ = more
	time.Sleep(3 * time.Second)

	// No request reported twice: every report message of the victim's txs
	// names a different (request, attempt), and its log has one line each.
	reports := n.reportsOf(ctx, victimAddr)
	counts := map[uint64]int{}
	for _, id := range reports {
		counts[id]++
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
	t.Logf("%s reported %d requests in its txs, none twice", victim, len(reports))
}

// submitAndWait submits k quick requests and waits until they are finished.
func (n *network) submitAndWait(t *testing.T, name string, addr sdk.AccAddress, acc *grpcAccount, k int) []uint64 {
	ctx := context.Background()
	var ids []uint64
	for i := range k {
		h, err := acc.broadcast(ctx, submitMsg(addr, 1, fmt.Sprintf("%s quick job %d at %d", name, i, time.Now().UnixNano())))
		require.NoError(t, err)
		res, err := waitTx(ctx, n.grpcConn, h, time.Minute)
		require.NoError(t, err)
		id, err := requestIDOf(res)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	final := n.waitTerminal(ids, 2*time.Minute)
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

// 4. A governance proposal through the CLI changes the deferral thresholds;
// the next submissions follow the new rule.
func testGovernance(t *testing.T, n *network) {
	ctx := context.Background()
	addr := n.newKeys("govtest")[0]
	acc := n.grpcAccount("govtest", addr)
	reasonOf := func() deferraltypes.DeferReason {
		h, err := acc.broadcast(ctx, submitMsg(addr, 1, fmt.Sprintf("gov probe %d", time.Now().UnixNano())))
		require.NoError(t, err)
		res, err := waitTx(ctx, n.grpcConn, h, time.Minute)
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
	for i := range nodes {
		n.cliTx(i, "gov", "vote", m[1], "yes")
	}
	require.Eventually(t, func() bool {
		p, err := deferraltypes.NewQueryClient(n.grpcConn).Params(ctx, &deferraltypes.QueryParamsRequest{})
		return err == nil && p.Params.DeferReputationThresholdPpm == 0
	}, 60*time.Second, time.Second, "proposal %s did not pass", m[1])
	t.Logf("proposal %s passed: defer_reputation_threshold_ppm = 0", m[1])

	after := reasonOf()
	require.Equal(t, deferraltypes.DeferReputation, after, "after the proposal a request is deferred for reputation (was %s)", before)
}

// 5. A dApp-style Go client using only the generated gRPC clients submits a
// signed request and follows it to completion.
func testDAppClient(t *testing.T, n *network) {
	ctx := context.Background()
	addr := n.newKeys("dapp")[0]
	acc := n.grpcAccount("dapp", addr) // auth Query + tx Service clients
	payload := "dapp: render frame 42"
	hash, err := acc.broadcast(ctx, submitMsg(addr, 3, payload))
	require.NoError(t, err)
	res, err := waitTx(ctx, n.grpcConn, hash, time.Minute)
	require.NoError(t, err)
	id, err := requestIDOf(res)
	require.NoError(t, err)
	q := deferraltypes.NewQueryClient(n.grpcConn)
	var statuses []string
	require.Eventually(t, func() bool {
		r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
		if err != nil {
			return false
		}
		if len(statuses) == 0 || statuses[len(statuses)-1] != r.Request.Status.String() {
			statuses = append(statuses, r.Request.Status.String())
		}
		return r.Request.Status == deferraltypes.StatusCompleted
	}, 90*time.Second, 200*time.Millisecond)
	r, err := q.Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(payload))
	require.Equal(t, sum[:], r.Request.ResultHash)
	t.Logf("request %d followed through %v; result %x", id, statuses, r.Request.ResultHash)
}

// 6. Stop the whole chain with SIGKILL and restart it: it resumes from the
// last height with the same app hash and accepts new requests.
func testChainRestart(t *testing.T, n *network) {
	ctx := context.Background()
	lastH := n.sameAppHash(0, 1, 2, 3)
	procs := n.status()
	for _, name := range []string{"worker1", "worker2", "node0", "node1", "node2", "node3"} {
		n.kill(name)
	}
	_ = procs
	// Each node's own last state (ABCI Info is served by the app, from disk).
	out, err := n.localnet("start")
	require.NoError(t, err, out)
	var heights []int64
	var hashes [][]byte
	for i := range nodes {
		info, err := n.rpc[i].ABCIInfo(ctx)
		require.NoError(t, err)
		heights = append(heights, info.Response.LastBlockHeight)
		hashes = append(hashes, info.Response.LastBlockAppHash)
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
