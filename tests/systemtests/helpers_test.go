//go:build system_test

package systemtests

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cmthttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"cosmossdk.io/systemtests"
)

const (
	// fee is what every test tx pays unless it sets --fees: above the
	// nodes' minimum gas price (0.000001urep) times any gas limit used here,
	// and a round number, so balances can be checked to the unit.
	fee      = 10
	feeCoins = "10urep"
	// repshardGas is the gas limit of the repshard txs (a submission with its
	// routing and escrow costs more than the default 200000).
	repshardGas = "--gas=1000000"
)

// chain is one test's view of the running test network: the framework's
// system under test (node processes, genesis, node homes), its CLI wrapper
// (keyring in testnet/keyring-test, node0's RPC) and a CometBFT RPC client of
// node0 for heights and tx results.
type chain struct {
	t   *testing.T
	sut *systemtests.SystemUnderTest
	cli *systemtests.CLIWrapper
	rpc *cmthttp.HTTP
}

// sharedChainUp says whether the network runs from the suite's standard
// genesis (as sharedChain starts it), not stopped or re-based since.
var sharedChainUp bool

// sharedChain returns the running network the tests share, starting it from
// a fresh genesis first when it is not up: after the first test, after a
// test that stopped or re-based it, and after a failed test (its state is
// then suspect). Tests on the shared network use accounts of their own
// (keys named after the test), so their checks never see another test's
// traffic.
func sharedChain(t *testing.T) *chain {
	t.Helper()
	sut := systemtests.Sut
	if !sharedChainUp || !sut.ChainStarted {
		sharedChainUp = false
		start := time.Now()
		sut.ResetChain(t)
		// One account enters the generated genesis the way operators add one:
		// `genesis add-genesis-account` on node0, then the file goes to every
		// node. Only the bank test uses it.
		c := newChain(t)
		genesisHolder = c.cli.AddKey(genesisHolderKey)
		c.runNode("genesis", "add-genesis-account", genesisHolder, genesisHolderCoins, "--home="+sut.NodeDir(0))
		genesis, err := os.ReadFile(filepath.Join(sut.NodeDir(0), "config", "genesis.json"))
		require.NoError(t, err)
		// An assignment stays with its worker for assignmentTimeout blocks
		// (default 20): a test on a loaded machine, where each CLI run takes
		// seconds, must never see one expire before it completes it.
		genesis, err = sjson.SetBytes(genesis, "app_state.deferral.params.assignment_timeout_blocks",
			strconv.Itoa(assignmentTimeout))
		require.NoError(t, err)
		for i := 0; i < sut.NodesCount(); i++ {
			require.NoError(t, os.WriteFile(filepath.Join(sut.NodeDir(i), "config", "genesis.json"), genesis, 0o600))
		}
		startNetwork(t, snapshotFlags...)
		sharedChainUp = true
		t.Logf("shared network (re)started in %s", time.Since(start).Round(time.Second))
	}
	c := newChain(t)
	t.Cleanup(func() {
		if t.Failed() {
			sharedChainUp = false
		}
	})
	return c
}

// snapshotInterval is the shared network's state-sync snapshot interval:
// every node writes a snapshot of its state every snapshotInterval blocks
// and keeps the last two, as a node serving state sync does.
const snapshotInterval = 5

var snapshotFlags = []string{
	fmt.Sprintf("--state-sync.snapshot-interval=%d", snapshotInterval),
	"--state-sync.snapshot-keep-recent=2",
}

// assignmentTimeout is x/deferral's assignment_timeout_blocks on the shared
// network.
const assignmentTimeout = 500

// The account the shared network's genesis adds with add-genesis-account.
const (
	genesisHolderKey   = "genesis-holder"
	genesisHolderUrep  = 50_000_000
	genesisHolderCoins = "50000000urep,77extra"
)

// genesisHolder is the address of genesisHolderKey on the running shared
// network.
var genesisHolder string

// newChain wraps the network for t without touching it.
func newChain(t *testing.T) *chain {
	t.Helper()
	rpc, err := cmthttp.New(nodeRPC(0), "/websocket")
	require.NoError(t, err)
	cli := systemtests.NewCLIWrapper(t, systemtests.Sut, systemtests.Verbose).WithNodeAddress(nodeRPC(0))
	return &chain{t: t, sut: systemtests.Sut, rpc: rpc, cli: &cli}
}

// stop stops every node; the network is no longer the shared one.
func (c *chain) stop() {
	sharedChainUp = false
	c.sut.StopChain()
}

// nodeRPC is node i's CometBFT RPC address.
func nodeRPC(i int) string {
	return fmt.Sprintf("tcp://127.0.0.1:%d", cometRPCBase+portOffset+100*i)
}

// restURL is node0's REST API address.
func restURL() string { return systemtests.Sut.APIAddress() }

// addr is the address of a key of the test keyring.
func (c *chain) addr(key string) string { return c.cli.GetKeyAddr(key) }

// valoper is the validator operator address of node i (looked up once: the
// validators' keys never change).
func (c *chain) valoper(i int) string {
	c.t.Helper()
	if valopers == nil {
		valopers = map[int]string{}
	}
	if _, ok := valopers[i]; !ok {
		valopers[i] = c.cli.GetKeyAddrPrefix(fmt.Sprintf("node%d", i), "val")
	}
	return valopers[i]
}

var valopers map[int]string

// newAccounts adds a key per name to the test keyring and funds each from
// node0's account with amount urep, in one multi-send. It returns the
// addresses in the order of names.
func (c *chain) newAccounts(amount int64, names ...string) []string {
	c.t.Helper()
	addrs := make([]string, len(names))
	for i, n := range names {
		addrs[i] = c.cli.AddKey(n)
	}
	coins := fmt.Sprintf("%d%s", amount, denom)
	if len(addrs) == 1 {
		c.tx("bank", "send", "node0", addrs[0], coins)
	} else {
		c.tx(append(append([]string{"bank", "multi-send", "node0"}, addrs...), coins)...)
	}
	for _, a := range addrs {
		require.Equal(c.t, amount, c.balance(a), "funded account %s", a)
	}
	return addrs
}

// withFees adds the default fee unless args set --fees.
func withFees(args []string) []string {
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--fees") }) {
		return args
	}
	return append(args, "--fees="+feeCoins)
}

// broadcast signs and broadcasts `repshardd tx args...` (sync mode) and
// requires CheckTx to accept it; it returns the tx hash.
func (c *chain) broadcast(args ...string) string {
	c.t.Helper()
	out, _ := c.cli.WithRunErrorsIgnored().RunOnly(withFees(append([]string{"tx"}, args...))...)
	res := lastJSON(out)
	require.True(c.t, res.Get("txhash").Exists(), "no tx hash; `tx %s` printed: %s", strings.Join(args, " "), out)
	require.Equal(c.t, int64(0), res.Get("code").Int(), "CheckTx refused `tx %s`: %s", strings.Join(args, " "), out)
	return res.Get("txhash").String()
}

// lastJSON is the JSON object a command printed last: the CLI prints its
// result as JSON (one line, or indented over several) on stdout, and may
// print notes (gas estimates, the changes of a params proposal) before it.
func lastJSON(out string) gjson.Result {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], "{") {
			continue
		}
		if tail := strings.Join(lines[i:], "\n"); gjson.Valid(tail) {
			return gjson.Parse(tail)
		}
	}
	return gjson.Result{}
}

// waitTx waits until the tx is in a block and returns its result, with the
// fields of the CLI's tx response: height, txhash, code, codespace, raw_log,
// events. It polls node0's tx index, which has the tx once its block is
// committed (CometBFT indexes after Commit), so state queries that follow
// see the tx's effects.
func (c *chain) waitTx(hash string) gjson.Result {
	c.t.Helper()
	bz, err := hex.DecodeString(hash)
	require.NoError(c.t, err)
	deadline := time.Now().Add(txWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := c.rpc.Tx(ctx, bz, false)
		cancel()
		if err == nil {
			out, err := json.Marshal(map[string]any{
				"height": res.Height, "txhash": hash, "code": res.TxResult.Code,
				"codespace": res.TxResult.Codespace, "raw_log": res.TxResult.Log, "events": res.TxResult.Events,
			})
			require.NoError(c.t, err)
			return gjson.ParseBytes(out)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("tx %s not in a block after %s: %v", hash, txWait, err)
		}
		time.Sleep(pollInterval)
	}
}

// pollInterval is the pause between two polls of node0's RPC.
const pollInterval = 200 * time.Millisecond

// tx broadcasts `repshardd tx args...`, waits for its block and requires it
// to have succeeded; it returns the tx result (code, events, raw_log, …).
func (c *chain) tx(args ...string) gjson.Result {
	c.t.Helper()
	res := c.waitTx(c.broadcast(args...))
	require.Equal(c.t, int64(0), res.Get("code").Int(), "`tx %s` failed: %s", strings.Join(args, " "), res.Get("raw_log"))
	return res
}

// txFails broadcasts `repshardd tx args...`, which CheckTx accepts, and
// requires it to fail in its block with a log containing wantLog.
func (c *chain) txFails(wantLog string, args ...string) gjson.Result {
	c.t.Helper()
	res := c.waitTx(c.broadcast(args...))
	require.NotEqual(c.t, int64(0), res.Get("code").Int(), "`tx %s` succeeded, want a failure", strings.Join(args, " "))
	require.Contains(c.t, res.Get("raw_log").String(), wantLog)
	return res
}

// txRefused runs `repshardd tx args...` and requires the command to fail
// before inclusion (client-side validation or CheckTx), with wantOut in its
// output.
func (c *chain) txRefused(wantOut string, args ...string) {
	c.t.Helper()
	out, _ := c.cli.WithRunErrorsIgnored().RunOnly(withFees(append([]string{"tx"}, args...))...)
	if res := lastJSON(out); res.Get("txhash").Exists() {
		require.NotEqual(c.t, int64(0), res.Get("code").Int(), "`tx %s` was accepted, want a refusal: %s", strings.Join(args, " "), out)
	}
	require.Contains(c.t, out, wantOut)
}

// q runs `repshardd q args...` against node0 and returns its JSON output.
func (c *chain) q(args ...string) gjson.Result {
	c.t.Helper()
	out := c.cli.CustomQuery(append([]string{"q"}, args...)...)
	res := lastJSON(out)
	require.True(c.t, res.Exists(), "`q %s` printed no JSON: %s", strings.Join(args, " "), out)
	return res
}

// qAt runs `repshardd q args...` against node i.
func (c *chain) qAt(i int, args ...string) gjson.Result {
	c.t.Helper()
	out := c.cli.WithNodeAddress(nodeRPC(i)).CustomQuery(append([]string{"q"}, args...)...)
	res := lastJSON(out)
	require.True(c.t, res.Exists(), "`q %s` on node%d printed no JSON: %s", strings.Join(args, " "), i, out)
	return res
}

// run runs a repshardd command that is neither a tx nor a query (keys …)
// with the test keyring and returns its output; it fails the test when the
// command fails.
func (c *chain) run(args ...string) string {
	c.t.Helper()
	return c.cli.RunCommandWithArgs(args...)
}

// runNode runs a repshardd command with exactly args (export, genesis,
// snapshots: commands on a node home, which take no keyring or node flags)
// and returns its output; it fails the test when the command fails.
func (c *chain) runNode(args ...string) string {
	c.t.Helper()
	return systemtests.MustRunShellCmd(c.t, c.sut.ExecBinary(), args...)
}

// rest GETs path from node0's REST API (gRPC gateway) and requires 200 OK.
func (c *chain) rest(path string) gjson.Result {
	c.t.Helper()
	return gjson.ParseBytes(systemtests.GetRequest(c.t, restURL()+path))
}

// balance is addr's balance of denom on node0 (REST: no CLI process).
func (c *chain) balanceOf(addr, d string) int64 {
	c.t.Helper()
	return c.rest(fmt.Sprintf("/cosmos/bank/v1beta1/balances/%s/by_denom?denom=%s", addr, d)).Get("balance.amount").Int()
}

// balanceAt is addr's urep balance at height h (REST, with the
// x-cosmos-block-height header).
func (c *chain) balanceAt(addr string, h int64) int64 {
	c.t.Helper()
	raw := systemtests.GetRequestWithHeaders(c.t,
		fmt.Sprintf("%s/cosmos/bank/v1beta1/balances/%s/by_denom?denom=%s", restURL(), addr, denom),
		map[string]string{"x-cosmos-block-height": strconv.FormatInt(h, 10)}, http.StatusOK)
	return gjson.GetBytes(raw, "balance.amount").Int()
}

// balance is addr's urep balance on node0.
func (c *chain) balance(addr string) int64 { return c.balanceOf(addr, denom) }

// height is node0's latest committed height.
func (c *chain) height() int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.rpc.Status(ctx)
	require.NoError(c.t, err)
	return st.SyncInfo.LatestBlockHeight
}

// awaitHeight waits until node0 has committed height h. The bound grows
// with the blocks to wait for, at three times the target block time each,
// plus the wait time: a loaded machine slows blocks down, and the wait ends
// as soon as the height is there.
func (c *chain) awaitHeight(h int64) {
	c.t.Helper()
	cur := c.height()
	deadline := time.Now().Add(time.Duration(max(h-cur, 0))*3*c.sut.BlockTime() + txWait)
	for ; cur < h; cur = c.height() {
		if time.Now().After(deadline) {
			c.t.Fatalf("height %d not reached (at %d)", h, cur)
		}
		time.Sleep(pollInterval)
	}
}

// awaitBlocks waits for n more blocks and returns the height reached.
func (c *chain) awaitBlocks(n int64) int64 {
	h := c.height() + n
	c.awaitHeight(h)
	return h
}

// eventually polls cond (each poll one or more CLI runs) until it holds, or
// fails the test after timeout with what.
func (c *chain) eventually(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollInterval)
	}
}

// event returns the value of attribute key of the first event of type typ
// in a tx or block result (gjson.Result{} when absent). Typed events carry
// JSON values: a string comes back unquoted, a coin as an object, a number as
// its digits.
func event(res gjson.Result, typ, key string) gjson.Result {
	return eventIn(res.Get("events").Array(), typ, key)
}

func eventIn(events []gjson.Result, typ, key string) gjson.Result {
	if all := eventsIn(events, typ, key); len(all) > 0 {
		return all[0]
	}
	return gjson.Result{}
}

// events returns the value of attribute key of every event of type typ in
// a tx result, in order.
func events(res gjson.Result, typ, key string) []gjson.Result {
	return eventsIn(res.Get("events").Array(), typ, key)
}

func eventsIn(events []gjson.Result, typ, key string) []gjson.Result {
	var out []gjson.Result
	for _, e := range events {
		if e.Get("type").String() != typ {
			continue
		}
		for _, a := range e.Get("attributes").Array() {
			if a.Get("key").String() != key {
				continue
			}
			// a JSON string, object or array as such; anything else (plain
			// attributes of SDK events, and numbers, whose decimals a float
			// would round) as a string
			v := a.Get("value").String()
			if p := gjson.Parse(v); gjson.Valid(v) && (p.Type == gjson.String || p.IsObject() || p.IsArray()) {
				out = append(out, p)
			} else {
				out = append(out, gjson.Parse(strconv.Quote(v)))
			}
		}
	}
	return out
}

// writeFile writes content to a new file in the test's temp folder.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// govAddress is the gov module account, the authority of every params change.
func (c *chain) govAddress() string {
	c.t.Helper()
	addr := c.q("auth", "module-account", "gov").Get("account.value.address").String()
	require.NotEmpty(c.t, addr)
	return addr
}

// validatorAddrs are the account addresses of the validators' keys
// node0…node<n-1>: the keys never change (the testnet is written once per
// run), so they are looked up once.
var validatorAddrs []string

func (c *chain) validators() []string {
	c.t.Helper()
	for i := len(validatorAddrs); i < c.sut.NodesCount(); i++ {
		validatorAddrs = append(validatorAddrs, c.addr(fmt.Sprintf("node%d", i)))
	}
	return validatorAddrs
}

// deposit is one MsgDeposit: the key of the depositor, the proposal, the
// amount of urep.
type deposit struct {
	from       string
	proposalID string
	amount     int64
}

// depositAndVote sends, in one tx, the deposits that complete proposals'
// minimum deposits and every validator's vote on each (proposal id → yes,
// no, abstain or no_with_veto), and returns the tx result. A proposal's
// voting period starts when its deposit is complete; with the deposits and
// the votes in one tx (msgs run in order: the deposit opens the vote, the
// votes follow), every vote is in whatever the CLI's latency on a loaded
// machine and however short the voting period. The tx is built and signed
// in amino-JSON by each signer in turn — the depositors, then the validators
// (the first depositor pays the fee) — and broadcast through node0's RPC.
func (c *chain) depositAndVote(deposits []deposit, votes map[string]string) gjson.Result {
	c.t.Helper()
	var msgs, signers []string
	for _, d := range deposits {
		msgs = append(msgs, fmt.Sprintf(`{"@type":"/cosmos.gov.v1.MsgDeposit","proposal_id":%q,"depositor":%q,"amount":[{"denom":%q,"amount":"%d"}]}`,
			d.proposalID, c.addr(d.from), denom, d.amount))
		if !slices.Contains(signers, d.from) {
			signers = append(signers, d.from)
		}
	}
	ids := make([]string, 0, len(votes))
	for id := range votes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		option := "VOTE_OPTION_" + strings.ToUpper(votes[id])
		for _, v := range c.validators() {
			msgs = append(msgs, fmt.Sprintf(`{"@type":"/cosmos.gov.v1.MsgVote","proposal_id":%q,"voter":%q,"option":%q,"metadata":""}`,
				id, v, option))
		}
	}
	for i := range c.validators() {
		signers = append(signers, fmt.Sprintf("node%d", i))
	}
	d := deposits[0]
	out, _ := c.cli.RunOnly("tx", "gov", "deposit", d.proposalID, fmt.Sprintf("%d%s", d.amount, denom), "--from="+d.from,
		"--generate-only", fmt.Sprintf("--gas=%d", 250_000*len(msgs)), "--fees="+feeCoins)
	tx := lastJSON(out)
	require.True(c.t, tx.Get("body.messages").Exists(), out)
	raw, err := sjson.SetRaw(tx.Raw, "body.messages", "["+strings.Join(msgs, ",")+"]")
	require.NoError(c.t, err)
	file := writeFile(c.t, "deposit-and-vote.json", raw)
	for _, s := range signers { // in the order the msgs name them
		file = c.signTx(file, s, "--sign-mode=amino-json")
	}
	return c.waitTx(c.broadcastSigned(file))
}

// awaitProposalEnd waits until the proposal has left its deposit and voting
// periods and returns its final status.
func (c *chain) awaitProposalEnd(proposalID string) string {
	c.t.Helper()
	var status string
	c.eventually(votingPeriod+txWait, "proposal "+proposalID+" to be tallied", func() bool {
		status = c.rest("/cosmos/gov/v1/proposals/" + proposalID).Get("proposal.status").String()
		return status != "PROPOSAL_STATUS_VOTING_PERIOD" && status != "PROPOSAL_STATUS_DEPOSIT_PERIOD"
	})
	return status
}

// proposalID is the id of the proposal a submit-proposal tx created.
func proposalID(t *testing.T, res gjson.Result) string {
	t.Helper()
	id := event(res, "submit_proposal", "proposal_id").String()
	require.NotEmpty(t, id, "no submit_proposal event: %s", res.Get("events"))
	return id
}

// signTx signs the tx in file with key (online: account number and sequence
// come from node0) and returns the signed tx JSON, written to a new file.
func (c *chain) signTx(file, key string, extra ...string) string {
	c.t.Helper()
	out, _ := c.cli.WithRunErrorsIgnored().RunOnly(append([]string{"tx", "sign", file, "--from=" + key}, extra...)...)
	signed := lastJSON(out)
	require.True(c.t, signed.Get("signatures").Exists(), "`tx sign %s --from %s` printed: %s", file, key, out)
	return writeFile(c.t, "signed-"+key+".json", signed.Raw)
}

// broadcastSigned broadcasts a signed tx file (sync) and requires CheckTx to
// accept it; it returns the tx hash.
func (c *chain) broadcastSigned(file string) string {
	c.t.Helper()
	out, _ := c.cli.WithRunErrorsIgnored().RunOnly("tx", "broadcast", file)
	res := lastJSON(out)
	require.True(c.t, res.Get("txhash").Exists(), "`tx broadcast %s` printed: %s", file, out)
	require.Equal(c.t, int64(0), res.Get("code").Int(), "CheckTx refused %s: %s", file, out)
	return res.Get("txhash").String()
}

// mustJSON is v as JSON.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	bz, err := json.Marshal(v)
	require.NoError(t, err)
	return string(bz)
}

// votingPower is node i's validator's voting power in CometBFT's current
// validator set (0 when it is not in it).
func (c *chain) votingPower(i int) int64 {
	c.t.Helper()
	pub := systemtests.LoadValidatorPubKeyForNode(c.t, c.sut, i).Bytes()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vals, err := c.rpc.Validators(ctx, nil, nil, nil)
	require.NoError(c.t, err)
	for _, v := range vals.Validators {
		if bytes.Equal(v.PubKey.Bytes(), pub) {
			return v.VotingPower
		}
	}
	return 0
}
