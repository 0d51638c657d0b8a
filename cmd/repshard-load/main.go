// Command repshard-load is the load generator of `make bench-load`: it signs
// transactions with many accounts ahead of time and broadcasts them to a
// node over CometBFT RPC (broadcast_tx_sync) at a fixed offered rate, then
// measures which were included and how long after sending, from the blocks.
//
//	repshard-load genesis -genesis FILE -accounts N   fund the load accounts in a genesis
//	repshard-load run -node URL -rates 25,50,100 ...  run the phases, print and write the figures
//
// With `run -pprof http://127.0.0.1:PORT -pprof-dir DIR` (the node started
// with --rpc.pprof_laddr), each phase's sending window is profiled: a CPU
// profile and an allocation delta over the same seconds are written to
// DIR/<kind>-<rate>.cpu.pprof and .allocs.pprof, and the txs sent and
// included in that window go into the JSON output, to turn CPU seconds into
// a cost per included tx.
//
// Accounts are derived from a fixed secret per index, so `genesis` and `run`
// agree on them without a keyring. Account 0 registers as a worker with a
// large capacity so submissions are assigned (or queued) as on a real chain.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cosmossdk.io/log"
	sdkmath "cosmossdk.io/math"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/client"
	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/internal/chaincfg"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: repshard-load genesis|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "genesis":
		err = cmdGenesis(os.Args[2:])
	case "run":
		err = cmdRun(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "repshard-load:", err)
		os.Exit(1)
	}
}

type account struct {
	key  *secp256k1.PrivKey
	addr sdk.AccAddress
	num  uint64
	seq  uint64
}

func loadAccount(i int) *account {
	key := secp256k1.GenPrivKeyFromSecret([]byte("repshard-load-account-" + strconv.Itoa(i)))
	return &account{key: key, addr: sdk.AccAddress(key.PubKey().Address())}
}

// cmdGenesis adds the load accounts, funded, to a genesis file and lifts the
// per-requester open-request limit (the worker never completes: requests
// stay open for the whole run).
func cmdGenesis(args []string) error {
	fs := flag.NewFlagSet("genesis", flag.ExitOnError)
	path := fs.String("genesis", "", "genesis.json to edit")
	n := fs.Int("accounts", 200, "load accounts")
	amount := fs.String("amount", "1000000000000", "urep per account")
	assignTimeout := fs.Uint64("assignment-timeout-blocks", 0, "x/deferral assignment_timeout_blocks (0: the default); "+
		"the load's worker never reports, so its assignments expire after that many blocks, its score falls, and later "+
		"submissions are queued instead of assigned")
	_ = fs.Parse(args)
	bz, err := os.ReadFile(*path)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(bz, &doc); err != nil {
		return err
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(doc["app_state"], &state); err != nil {
		return err
	}
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, false, noOpts{})
	cdc := a.AppCodec()

	var auth authtypes.GenesisState
	cdc.MustUnmarshalJSON(state[authtypes.ModuleName], &auth)
	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(state[banktypes.ModuleName], &bank)
	amt, ok := sdkmath.NewIntFromString(*amount)
	if !ok {
		return fmt.Errorf("bad amount %q", *amount)
	}
	coins := sdk.NewCoins(sdk.NewCoin(chaincfg.BondDenom, amt))
	accs, err := authtypes.UnpackAccounts(auth.Accounts)
	if err != nil {
		return err
	}
	for i := 0; i < *n; i++ {
		acc := loadAccount(i)
		accs = append(accs, authtypes.NewBaseAccount(acc.addr, nil, uint64(len(accs)), 0))
		bank.Balances = append(bank.Balances, banktypes.Balance{Address: acc.addr.String(), Coins: coins})
		bank.Supply = bank.Supply.Add(coins...)
	}
	if auth.Accounts, err = authtypes.PackAccounts(authtypes.SanitizeGenesisAccounts(accs)); err != nil {
		return err
	}
	bank.Balances = banktypes.SanitizeGenesisBalances(bank.Balances)
	state[authtypes.ModuleName] = cdc.MustMarshalJSON(&auth)
	state[banktypes.ModuleName] = cdc.MustMarshalJSON(&bank)

	var deferral deferraltypes.GenesisState
	cdc.MustUnmarshalJSON(state[deferraltypes.ModuleName], &deferral)
	deferral.Params.MaxOpenRequestsPerRequester = math.MaxUint32
	if *assignTimeout > 0 {
		deferral.Params.AssignmentTimeoutBlocks = *assignTimeout
	}
	state[deferraltypes.ModuleName] = cdc.MustMarshalJSON(&deferral)

	if doc["app_state"], err = json.Marshal(state); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(*path, out, 0o600)
}

type noOpts struct{}

func (noOpts) Get(string) any { return nil }

// loader holds what the run needs: the node, the tx config, the accounts.
type loader struct {
	rpc      *rpchttp.HTTP
	txCfg    client.TxConfig
	chainID  string
	accounts []*account
	params   deferraltypes.Params
	maxFee   sdk.Coin // the ceiling of the shard price: a one-unit request never costs more
	// batchSize is the entries of each MsgSubmitRequests of a batch phase.
	batchSize int
	// submitted counts, per account index, the requests of its included
	// txs: after the run every one must be on chain.
	submitted []int
	// noResults: do not fetch block_results (whose JSON, events and all, is
	// a large share of the node's CPU under load); every tx of ours in a
	// block then counts as included, whatever its result code.
	noResults bool
}

func (l *loader) sign(acc *account, gas uint64, msg sdk.Msg) ([]byte, error) {
	return l.signMsgs(acc, gas, msg)
}

func (l *loader) signMsgs(acc *account, gas uint64, msgs ...sdk.Msg) ([]byte, error) {
	b := l.txCfg.NewTxBuilder()
	if err := b.SetMsgs(msgs...); err != nil {
		return nil, err
	}
	b.SetGasLimit(gas)
	b.SetFeeAmount(sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, int64(gas/100))))
	if err := b.SetSignatures(signing.SignatureV2{PubKey: acc.key.PubKey(),
		Data: &signing.SingleSignatureData{SignMode: signing.SignMode_SIGN_MODE_DIRECT}, Sequence: acc.seq}); err != nil {
		return nil, err
	}
	sig, err := clienttx.SignWithPrivKey(context.Background(), signing.SignMode_SIGN_MODE_DIRECT,
		authsigning.SignerData{ChainID: l.chainID, AccountNumber: acc.num, Sequence: acc.seq,
			PubKey: acc.key.PubKey(), Address: acc.addr.String()}, b, acc.key, l.txCfg, acc.seq)
	if err != nil {
		return nil, err
	}
	if err := b.SetSignatures(sig); err != nil {
		return nil, err
	}
	acc.seq++
	return l.txCfg.TxEncoder()(b.GetTx())
}

func (l *loader) queryAccount(ctx context.Context, acc *account) error {
	req := &authtypes.QueryAccountRequest{Address: acc.addr.String()}
	bz, err := req.Marshal()
	if err != nil {
		return err
	}
	res, err := l.rpc.ABCIQuery(ctx, "/cosmos.auth.v1beta1.Query/Account", bz)
	if err != nil {
		return err
	}
	if res.Response.Code != 0 {
		return fmt.Errorf("account %s: %s", acc.addr, res.Response.Log)
	}
	var out authtypes.QueryAccountResponse
	if err := out.Unmarshal(res.Response.Value); err != nil {
		return err
	}
	var base authtypes.BaseAccount
	if err := base.Unmarshal(out.Account.Value); err != nil {
		return err
	}
	acc.num, acc.seq = base.AccountNumber, base.Sequence
	return nil
}

// kinds of load
const (
	kindSend   = "send"
	kindSubmit = "submit"
	kindMix    = "mix"
	kindBatch  = "batch"
)

// requestsIn is how many requests a tx of kind i carries.
func (l *loader) requestsIn(kind string, i int) int {
	switch {
	case kind == kindSubmit, kind == kindMix && i%2 == 1:
		return 1
	case kind == kindBatch:
		return l.batchSize
	}
	return 0
}

func (l *loader) msgFor(kind string, i int, from *account) (sdk.Msg, uint64) {
	if kind == kindBatch {
		b := &deferraltypes.MsgSubmitRequests{Requester: from.addr.String()}
		for j := 0; j < l.batchSize; j++ {
			b.Requests = append(b.Requests, l.request(i*l.batchSize+j, from).Spec())
		}
		return b, uint64(l.batchSize) * 80_000
	}
	if kind == kindMix {
		kind = kindSend
		if i%2 == 1 {
			kind = kindSubmit
		}
	}
	if kind == kindSend {
		to := l.accounts[1+(i*7)%(len(l.accounts)-1)]
		return banktypes.NewMsgSend(from.addr, to.addr, sdk.NewCoins(sdk.NewInt64Coin(chaincfg.BondDenom, 1))), 150_000
	}
	return l.request(i, from), 300_000
}

// request is the i-th one-unit request of the run (its data held elsewhere).
func (l *loader) request(i int, from *account) *deferraltypes.MsgSubmitRequest {
	sum := sha256.Sum256([]byte(strconv.Itoa(i)))
	return &deferraltypes.MsgSubmitRequest{
		Requester: from.addr.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
		ComputeUnits: 1, PayloadHash: sum[:], PayloadUri: "ipfs://load", MaxFee: l.maxFee,
	}
}

type sent struct {
	at      time.Time
	checkOK bool
	owner   int // the load account's index in loader.accounts
	reqs    int // requests the tx carries
}

// phaseResult is what one phase (one kind of tx at one offered rate) measured.
type phaseResult struct {
	Kind        string  `json:"kind"`
	OfferedTPS  float64 `json:"offered_tps"`
	Seconds     float64 `json:"seconds"`
	Sent        int     `json:"sent"`
	CheckTxOK   int     `json:"checktx_ok"`
	Included    int     `json:"included_ok"`
	IncludedTPS float64 `json:"included_tps"`
	P50Ms       float64 `json:"p50_inclusion_ms"`
	P99Ms       float64 `json:"p99_inclusion_ms"`
	Blocks      int     `json:"blocks"`
	// RequestsPerTx and IncludedRequestsPerSec count requests, not txs
	// (a batch tx carries many).
	RequestsPerTx          int     `json:"requests_per_tx"`
	IncludedRequestsPerSec float64 `json:"included_requests_per_sec"`
	// Start and End: the first send and the block that included the last tx.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// With -pprof: the profiled window (the sending part of the phase) and
	// what the node did in it, to divide the profiles' CPU seconds by.
	Profile *profileWindow `json:"profile,omitempty"`
	// The windows after the first, while the senders were still sending.
	LaterProfiles []*profileWindow `json:"later_profiles,omitempty"`
	// Each block seen during the phase: when, and how many of the phase's
	// txs it included (result code 0).
	BlockLog []blockSeen `json:"block_log,omitempty"`
}

type blockSeen struct {
	At     time.Time `json:"at"`
	Height int64     `json:"height"`
	Txs    int       `json:"txs"`
}

// profileWindow is what happened while the node was being profiled.
type profileWindow struct {
	CPUProfile     string  `json:"cpu_profile"`
	AllocsProfile  string  `json:"allocs_profile"`
	Seconds        float64 `json:"seconds"`
	SentInWindow   int     `json:"sent"`            // broadcast in the window
	CheckOKWindow  int     `json:"checktx_ok"`      // of those, accepted by CheckTx
	IncludedWindow int     `json:"included"`        // included (code 0) in blocks seen in the window
	BlocksWindow   int     `json:"blocks"`          // blocks seen in the window
	IncludedPerSec float64 `json:"included_per_s"`  // IncludedWindow / Seconds
	Error          string  `json:"error,omitempty"` // a profile that could not be fetched

	start, end time.Time
}

// profiler fetches a CPU and an allocation profile (a delta over the same
// seconds) from a node's pprof server (CometBFT's --rpc.pprof_laddr).
type profiler struct {
	url string // http://host:port
	dir string
}

func (p *profiler) fetch(ctx context.Context, path, file string, secs int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs+60)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s%s?seconds=%d", p.url, path, secs), nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s: %s: %s", path, res.Status, strings.TrimSpace(string(msg)))
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// capture profiles the node for secs seconds from now, CPU and allocations
// at once, into DIR/<name>.cpu.pprof and DIR/<name>.allocs.pprof.
func (p *profiler) capture(ctx context.Context, name string, secs int) (cpu, allocs string, err error) {
	cpu = filepath.Join(p.dir, name+".cpu.pprof")
	allocs = filepath.Join(p.dir, name+".allocs.pprof")
	errs := make(chan error, 2)
	go func() { errs <- p.fetch(ctx, "/debug/pprof/profile", cpu, secs) }()
	go func() { errs <- p.fetch(ctx, "/debug/pprof/allocs", allocs, secs) }()
	return cpu, allocs, errors.Join(<-errs, <-errs)
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func (l *loader) phase(ctx context.Context, kind string, rate float64, dur time.Duration, senders int, prof *profiler) (phaseResult, error) {
	n := int(rate * dur.Seconds())
	load := l.accounts[1:]
	txs := make([][]byte, n)
	owner := make([]int, n)
	for i := range txs {
		a := i % len(load)
		msg, gas := l.msgFor(kind, i, load[a])
		bz, err := l.sign(load[a], gas, msg)
		if err != nil {
			return phaseResult{}, err
		}
		txs[i], owner[i] = bz, a
	}
	startHeight, err := l.height(ctx)
	if err != nil {
		return phaseResult{}, err
	}
	var mu sync.Mutex
	sentAt := make(map[[32]byte]*sent, n)
	// Each sender goroutine owns a fixed set of accounts, so one account's
	// txs reach the node in sequence order.
	queues := make([]chan int, senders)
	var wg sync.WaitGroup
	for s := range queues {
		queues[s] = make(chan int, n)
		wg.Add(1)
		go func(q chan int) {
			defer wg.Done()
			for i := range q {
				h := sha256.Sum256(txs[i])
				rec := &sent{at: time.Now(), owner: 1 + owner[i], reqs: l.requestsIn(kind, i)}
				mu.Lock()
				sentAt[h] = rec
				mu.Unlock()
				res, err := l.rpc.BroadcastTxSync(ctx, txs[i])
				ok := err == nil && res.Code == 0
				mu.Lock()
				rec.checkOK = ok
				mu.Unlock()
			}
		}(queues[s])
	}
	// Blocks are watched while the load runs and until the mempool drains.
	watchCtx, stopWatch := context.WithCancel(ctx)
	incl := make(map[[32]byte]time.Time)
	var blocks []blockSeen
	watchDone := make(chan error, 1)
	go func() { watchDone <- l.watch(watchCtx, startHeight, &mu, sentAt, incl, &blocks) }()

	interval := time.Duration(float64(time.Second) / rate)
	begin := time.Now()
	// The profiles cover the sending part of the phase, where the offered
	// load is steady; the drain afterwards is not profiled.
	// The first window is the phase's nominal length; while the senders
	// are still at it (broadcast_tx_sync waits for CheckTx, so a saturated
	// node stretches the phase) further windows of the same length follow,
	// DIR/<kind>-<rate>.2.cpu.pprof and so on.
	var windows []*profileWindow
	profDone, sendDone := make(chan struct{}), make(chan struct{})
	if prof != nil {
		secs := max(1, int(dur.Seconds()))
		go func() {
			defer close(profDone)
			for k := 1; ; k++ {
				name := fmt.Sprintf("%s-%g", kind, rate)
				if k > 1 {
					name += fmt.Sprintf(".%d", k)
				}
				w := &profileWindow{start: time.Now()}
				cpu, allocs, err := prof.capture(ctx, name, secs)
				w.end = time.Now()
				w.CPUProfile, w.AllocsProfile = cpu, allocs
				if err != nil {
					w.Error = err.Error()
				}
				windows = append(windows, w)
				select {
				case <-sendDone:
					return
				default:
				}
				if err != nil {
					return
				}
			}
		}()
	} else {
		close(profDone)
	}
	for i := 0; i < n; i++ {
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		queues[owner[i]%senders] <- i
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	elapsed := time.Since(begin)
	close(sendDone)
	<-profDone
	// Let the node include what is in its mempool (at most 30 s).
	for wait := 0; wait < 60; wait++ {
		mu.Lock()
		pending := 0
		for h, s := range sentAt {
			if _, ok := incl[h]; s.checkOK && !ok {
				pending++
			}
		}
		mu.Unlock()
		if pending == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	stopWatch()
	if err := <-watchDone; err != nil && !errors.Is(err, context.Canceled) {
		return phaseResult{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	res := phaseResult{Kind: kind, OfferedTPS: rate, Seconds: elapsed.Seconds(), Sent: n, Blocks: len(blocks)}
	lat := make([]time.Duration, 0, len(incl))
	var last time.Time
	for h, s := range sentAt {
		if s.checkOK {
			res.CheckTxOK++
		}
		if seen, ok := incl[h]; ok {
			l.submitted[s.owner] += s.reqs
			lat = append(lat, seen.Sub(s.at))
			if seen.After(last) {
				last = seen
			}
		}
	}
	slices.Sort(lat)
	res.Included = len(lat)
	for i, pw := range windows {
		from, to := pw.start, pw.end
		if i == 0 {
			from = begin
		}
		pw.Seconds = to.Sub(from).Seconds()
		for h, s := range sentAt {
			if !s.at.Before(from) && s.at.Before(to) {
				pw.SentInWindow++
				if s.checkOK {
					pw.CheckOKWindow++
				}
			}
			if seen, ok := incl[h]; ok && !seen.Before(from) && seen.Before(to) {
				pw.IncludedWindow++
			}
		}
		for _, b := range blocks {
			if !b.At.Before(from) && b.At.Before(to) {
				pw.BlocksWindow++
			}
		}
		if pw.Seconds > 0 {
			pw.IncludedPerSec = float64(pw.IncludedWindow) / pw.Seconds
		}
		if i == 0 {
			res.Profile = pw
		} else {
			res.LaterProfiles = append(res.LaterProfiles, pw)
		}
	}
	res.BlockLog = blocks
	// Sustained throughput: included txs over the time from the first send
	// to the block that included the last of them (≥ the phase length).
	res.IncludedTPS = float64(res.Included) / max(last.Sub(begin).Seconds(), dur.Seconds())
	res.P50Ms, res.P99Ms = percentile(lat, 0.50), percentile(lat, 0.99)
	res.RequestsPerTx = l.requestsIn(kind, 1)
	res.IncludedRequestsPerSec = res.IncludedTPS * float64(res.RequestsPerTx)
	res.Start, res.End = begin, last
	return res, nil
}

func (l *loader) height(ctx context.Context) (int64, error) {
	st, err := l.rpc.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

// watch polls for new blocks; a tx counts as included (with latency = the
// time its block was seen − the time it was sent) when its result code is 0.
func (l *loader) watch(ctx context.Context, from int64, mu *sync.Mutex, sentAt map[[32]byte]*sent,
	incl map[[32]byte]time.Time, blocks *[]blockSeen,
) error {
	next := from + 1
	for {
		h, err := l.height(ctx)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		for ; next <= h; next++ {
			hh := next
			blk, err := l.rpc.Block(ctx, &hh)
			if err != nil {
				break // not stored yet: retry at the next poll
			}
			seen := time.Now()
			var codeOK func(i int) bool
			if l.noResults {
				codeOK = func(int) bool { return true }
			} else {
				results, err := l.rpc.BlockResults(ctx, &hh)
				if err != nil {
					break
				}
				codeOK = func(i int) bool { return i < len(results.TxsResults) && results.TxsResults[i].Code == 0 }
			}
			mu.Lock()
			ours := 0
			for i, tx := range blk.Block.Txs {
				key := sha256.Sum256(tx)
				if _, ok := sentAt[key]; ok && codeOK(i) {
					incl[key] = seen
					ours++
				}
			}
			*blocks = append(*blocks, blockSeen{At: seen, Height: hh, Txs: ours})
			mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	node := fs.String("node", "tcp://127.0.0.1:17657", "CometBFT RPC address")
	chainID := fs.String("chain-id", "repshard-load-1", "chain id")
	n := fs.Int("accounts", 200, "load accounts (as given to genesis)")
	ratesFlag := fs.String("rates", "25,50,100,200", "offered rates to step through, tx/s")
	dur := fs.Duration("duration", 60*time.Second, "length of each phase")
	senders := fs.Int("senders", 16, "concurrent broadcasting connections")
	out := fs.String("out", "", "write the results as JSON here")
	batchSize := fs.Int("batch-size", 100, "requests per MsgSubmitRequests in the batch phase")
	batchRate := fs.Float64("batch-rate", 40, "offered batch txs per second in the batch phase (0: no batch phase)")
	kindsFlag := fs.String("kinds", "send,submit,mix", "phases to run at each rate, in order (send, submit, mix)")
	pprofURL := fs.String("pprof", "", "the node's pprof server (http://127.0.0.1:PORT): profile each phase's sending window")
	pprofDir := fs.String("pprof-dir", "", "with -pprof: write <kind>-<rate>.cpu.pprof and .allocs.pprof here")
	blockResults := fs.Bool("block-results", true, "check each included tx's result code (block_results); false: count every tx in a block")
	_ = fs.Parse(args)
	var kinds []string
	for _, k := range strings.Split(*kindsFlag, ",") {
		switch k = strings.TrimSpace(k); k {
		case kindSend, kindSubmit, kindMix:
			kinds = append(kinds, k)
		default:
			return fmt.Errorf("bad kind %q (send, submit, mix)", k)
		}
	}
	var prof *profiler
	if *pprofURL != "" {
		if *pprofDir == "" {
			return errors.New("-pprof needs -pprof-dir")
		}
		if err := os.MkdirAll(*pprofDir, 0o755); err != nil {
			return err
		}
		prof = &profiler{url: strings.TrimRight(*pprofURL, "/"), dir: *pprofDir}
	}

	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), nil, false, noOpts{})
	rpc, err := rpchttp.New(*node, "/websocket")
	if err != nil {
		return err
	}
	l := &loader{rpc: rpc, txCfg: a.TxConfig(), chainID: *chainID, noResults: !*blockResults, batchSize: *batchSize, submitted: make([]int, *n)}
	ctx := context.Background()
	for i := 0; i < *n; i++ {
		acc := loadAccount(i)
		if err := l.queryAccount(ctx, acc); err != nil {
			return err
		}
		l.accounts = append(l.accounts, acc)
	}
	l.params = deferraltypes.DefaultParams()
	if res, err := rpc.ABCIQuery(ctx, "/repshard.deferral.v1.Query/Params", nil); err == nil && res.Response.Code == 0 {
		var p deferraltypes.QueryParamsResponse
		if err := p.Unmarshal(res.Response.Value); err == nil {
			l.params = p.Params
		}
	}
	// Account 0 is the worker, with room for every request of the run.
	worker := l.accounts[0]
	var shardParams shardtypes.QueryParamsResponse
	res, err := rpc.ABCIQuery(ctx, "/repshard.shard.v1.Query/Params", nil)
	if err != nil || res.Response.Code != 0 {
		return fmt.Errorf("shard params: %v %v", err, res)
	}
	if err := shardParams.Unmarshal(res.Response.Value); err != nil {
		return err
	}
	l.maxFee = shardParams.Params.PriceCeiling
	reg, err := l.sign(worker, 300_000, &shardtypes.MsgRegisterWorker{Worker: worker.addr.String(),
		Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority}, CapacityUnits: 1 << 40, StorageBytes: 1 << 40, Bond: shardParams.Params.MinWorkerBond})
	if err != nil {
		return err
	}
	if r, err := rpc.BroadcastTxCommit(ctx, reg); err != nil || r.CheckTx.Code != 0 || r.TxResult.Code != 0 {
		return fmt.Errorf("register worker: %v %+v", err, r)
	}
	fmt.Printf("worker %s registered (capacity 2^40 units)\n", worker.addr)

	var rates []float64
	for _, s := range strings.Split(*ratesFlag, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("bad rate %q", s)
		}
		rates = append(rates, r)
	}
	var results []phaseResult
	fmt.Printf("%-7s %8s %6s %8s %8s %9s %9s %9s %6s\n", "kind", "offered", "sent", "checktx", "incl", "incl/s", "p50 ms", "p99 ms", "blocks")
	for _, rate := range rates {
		for _, kind := range kinds {
			r, err := l.phase(ctx, kind, rate, *dur, *senders, prof)
			if err != nil {
				return err
			}
			results = append(results, r)
			fmt.Printf("%-7s %8.0f %6d %8d %8d %9.1f %9.0f %9.0f %6d\n", r.Kind, r.OfferedTPS, r.Sent, r.CheckTxOK, r.Included, r.IncludedTPS, r.P50Ms, r.P99Ms, r.Blocks)
			if p := r.Profile; p != nil {
				fmt.Printf("        profiled %.1f s: %d sent, %d checktx ok, %d included in %d blocks (%.1f tx/s)\n",
					p.Seconds, p.SentInWindow, p.CheckOKWindow, p.IncludedWindow, p.BlocksWindow, p.IncludedPerSec)
				if p.Error != "" {
					fmt.Printf("        profile error: %s\n", p.Error)
				}
			}
			// A failed CheckTx leaves the account's sequence behind: resync.
			for _, acc := range l.accounts {
				if err := l.queryAccount(ctx, acc); err != nil {
					return err
				}
			}
		}
	}
	// The ratio of included tx/s, request over send, at each offered rate;
	// "below saturation" when the node included ≥ 95% of the offered sends.
	type ratio struct {
		OfferedTPS       float64 `json:"offered_tps"`
		SubmitOverSend   float64 `json:"submit_over_send"`
		MixOverSend      float64 `json:"mix_over_send"`
		BelowSaturation  bool    `json:"below_saturation"`
		SendIncludedTPS  float64 `json:"send_included_tps"`
		SubmitIncludedTP float64 `json:"submit_included_tps"`
	}
	var ratios []ratio
	for i := 0; i+len(kinds) <= len(results); i += len(kinds) {
		byKind := map[string]phaseResult{}
		for _, r := range results[i : i+len(kinds)] {
			byKind[r.Kind] = r
		}
		send, okSend := byKind[kindSend]
		submit, mix := byKind[kindSubmit], byKind[kindMix]
		if !okSend {
			continue // the ratios are over the send phase
		}
		r := ratio{OfferedTPS: send.OfferedTPS, BelowSaturation: send.IncludedTPS >= 0.95*send.OfferedTPS,
			SendIncludedTPS: send.IncludedTPS, SubmitIncludedTP: submit.IncludedTPS}
		if send.IncludedTPS > 0 {
			r.SubmitOverSend = submit.IncludedTPS / send.IncludedTPS
			r.MixOverSend = mix.IncludedTPS / send.IncludedTPS
		}
		ratios = append(ratios, r)
		fmt.Printf("offered %4.0f tx/s: request/send %.2f", r.OfferedTPS, r.SubmitOverSend)
		if _, ok := byKind[kindMix]; ok {
			fmt.Printf(", mix/send %.2f", r.MixOverSend)
		}
		fmt.Printf(", below saturation: %v\n", r.BelowSaturation)
	}
	report := map[string]any{"phases": results, "ratios": ratios}
	if *batchRate > 0 {
		// Against the sends of the highest offered rate of the same run.
		var send phaseResult
		for _, r := range results {
			if r.Kind == kindSend {
				send = r
			}
		}
		r, err := l.phase(ctx, kindBatch, *batchRate, *dur, *senders, prof)
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Printf("%-7s %8.0f %6d %8d %8d %9.1f %9.0f %9.0f %6d  (%d requests per tx: %.0f requests/s)\n", r.Kind, r.OfferedTPS, r.Sent, r.CheckTxOK, r.Included,
			r.IncludedTPS, r.P50Ms, r.P99Ms, r.Blocks, r.RequestsPerTx, r.IncludedRequestsPerSec)
		if send.IncludedTPS > 0 {
			report["batch_requests_over_send"] = r.IncludedRequestsPerSec / send.IncludedTPS
			fmt.Printf("batches of %d: %.0f requests/s included, %.2f× the %.0f tx/s of MsgSend at offered %.0f tx/s\n",
				r.RequestsPerTx, r.IncludedRequestsPerSec, r.IncludedRequestsPerSec/send.IncludedTPS, send.IncludedTPS, send.OfferedTPS)
		}
		report["phases"] = results
	}
	// Nothing lost: every request of an included tx is on chain, by requester.
	lost, total := 0, 0
	for i, acc := range l.accounts {
		have, err := l.requestsOf(ctx, acc)
		if err != nil {
			return err
		}
		total += l.submitted[i]
		if have != l.submitted[i] {
			lost++
			fmt.Printf("account %d (%s): %d requests included, %d on chain\n", i, acc.addr, l.submitted[i], have)
		}
	}
	report["requests_included"] = total
	report["accounts_not_accounted_for"] = lost
	fmt.Printf("accounted for: %d requests of included txs, queried by requester after the run; %d accounts differ\n", total, lost)
	if *out != "" {
		bz, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, bz, 0o644); err != nil {
			return err
		}
	}
	if lost > 0 {
		return fmt.Errorf("%d accounts have a different number of requests on chain than were included", lost)
	}
	return nil
}

// requestsOf counts the requests of acc on chain (RequestsByRequester).
func (l *loader) requestsOf(ctx context.Context, acc *account) (int, error) {
	req := &deferraltypes.QueryRequestsByRequesterRequest{Requester: acc.addr.String(),
		Pagination: &query.PageRequest{Limit: 1, CountTotal: true}}
	bz, err := req.Marshal()
	if err != nil {
		return 0, err
	}
	res, err := l.rpc.ABCIQuery(ctx, "/repshard.deferral.v1.Query/RequestsByRequester", bz)
	if err != nil {
		return 0, err
	}
	if res.Response.Code != 0 {
		return 0, fmt.Errorf("requests of %s: %s", acc.addr, res.Response.Log)
	}
	var out deferraltypes.QueryRequestsResponse
	if err := out.Unmarshal(res.Response.Value); err != nil {
		return 0, err
	}
	if out.Pagination == nil {
		return len(out.Requests), nil
	}
	return int(out.Pagination.Total), nil
}
