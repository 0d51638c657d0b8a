// Command pprofsplit splits a node's CPU or allocation profile (from
// `LOAD_PPROF=DIR make bench-load`) into exclusive shares: by where in the
// node the time went (CheckTx, recheck, FinalizeBlock, Commit, the tx indexer,
// RPC, ...) and by what it was spent on (signature verification, JSON,
// events, tx decoding, IAVL, ...), each sample counted once, in the first
// matching row. With -txs N it divides by the txs included in the profiled
// window to give a cost per included tx. It prints markdown tables.
//
//	go run ./scripts/pprofsplit -txs 3609 DIR/submit-800.cpu.pprof
//	go run ./scripts/pprofsplit -txs 3609 DIR/submit-800.allocs.pprof
//	go run ./scripts/pprofsplit [-tables] build/bench-load.json
//
// Given the results JSON of a profiled run, it prints one line per phase:
// included tx/s, the node's CPU seconds and allocated bytes in the profiled
// window and their cost per included tx (and, with -tables, the tables).
//
// It reads `go tool pprof -raw`, so it needs no pprof library.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// rule: a sample matches when every one of res matches some frame of it.
type rule struct {
	name string
	res  []*regexp.Regexp
}

func r(name string, exprs ...string) rule {
	ru := rule{name: name}
	for _, e := range exprs {
		ru.res = append(ru.res, regexp.MustCompile(e))
	}
	return ru
}

func (ru rule) match(stack []string) bool {
	for _, re := range ru.res {
		if !matchAny(re, stack) {
			return false
		}
	}
	return true
}

// where: the path through the node, first match wins (order matters:
// recheck calls CheckTx, broadcast_tx_sync calls CheckTx, OE calls
// FinalizeBlock's internals).
var where = []rule{
	r("mempool recheck (CheckTx of the txs left after each block)", `mempool\.\(\*CListMempool\)\.recheckTxs|\(\*CListMempool\)\.resCbRecheck`),
	r("CheckTx of new txs (app: decode, ante, sig verify)", `baseapp\.\(\*BaseApp\)\.CheckTx`),
	r("broadcast_tx_sync outside CheckTx (JSON-RPC, mempool insert)", `rpc/core\.\(\*Environment\)\.BroadcastTxSync`),
	r("FinalizeBlock: txs, ante handler (sig verify, fees, sequence)", `baseapp\.\(\*BaseApp\)\.deliverTx`, `/x/auth/ante\.`),
	r("FinalizeBlock: txs, message handler", `baseapp\.\(\*BaseApp\)\.deliverTx`, `baseapp\.\(\*BaseApp\)\.runMsgs`),
	r("FinalizeBlock: txs, other (decode, cache writes, results)", `baseapp\.\(\*BaseApp\)\.deliverTx`),
	r("FinalizeBlock: EndBlock", `EndBlock`),
	r("FinalizeBlock: PreBlock/BeginBlock", `PreBlock|BeginBlock`),
	r("FinalizeBlock: block state into IAVL, app hash (workingHash)", `baseapp\.\(\*BaseApp\)\.(FinalizeBlock|internalFinalizeBlock)|OptimisticExecution`),
	r("app Commit (IAVL SaveVersion, DB flush)", `baseapp\.\(\*BaseApp\)\.Commit`),
	r("CometBFT tx indexer", `state/txindex|IndexerService`),
	r("mempool update after a block", `\(\*CListMempool\)\.Update`),
	r("RPC block, block_results, status responses (the load generator's polls)",
		`rpc/core\.\(\*Environment\)\.(Block|BlockResults|Status)$|abci/types\.\(\*ExecTxResult\)\.MarshalJSON|rpc/jsonrpc/types\.NewRPCSuccessResponse`),
	r("RPC HTTP and JSON-RPC plumbing (every request, broadcasts included)", `net/http\.|rpc/jsonrpc`),
	r("CometBFT block/state stores, applyBlock bookkeeping", `state\.\(\*BlockExecutor\)|store\.\(\*BlockStore\)|state\.dbStore`),
	r("goleveldb background (compaction, journal)", `goleveldb`),
	r("GC background mark/sweep", `gcBgMarkWorker|bgsweep|bgscavenge`),
	r("consensus, p2p, other CometBFT", `cometbft/(consensus|p2p|blocksync|evidence|libs)`),
	r("other (runtime, scheduler)", `.`),
}

// what: the kind of work, wherever it happened, first match wins.
var what = []rule{
	r("secp256k1 signature verification", `secp256k1|VerifySignature`),
	r("typed events (EmitTypedEvent: proto → JSON → attributes)", `TypedEventToEvent|EmitTypedEvent|internal/events\.`),
	r("JSON encoding/decoding (RPC responses, ABCI results)", `encoding/json|jsonpb|cometbft/libs/json`),
	r("bech32 address encode/decode", `bech32`),
	r("tx decode, Any unpacking, unknown-field checks", `TxDecoder|UnpackAny|unknownproto|RejectUnknownFields|DefaultJSONTxDecoder`),
	r("IAVL tree (get/set, SaveVersion, node encoding)", `cosmos/iavl`),
	r("goleveldb (reads, writes, compaction)", `goleveldb`),
	r("store caches, gas meter, collections (cachekv, gaskv, collections)", `store/cachekv|store/cachemulti|store/gaskv|cosmossdk\.io/collections|store/internal|btree`),
	r("protobuf marshal/unmarshal (gogoproto, protoreflect)", `gogoproto|protobuf|\.Marshal|\.Unmarshal|\.Size`),
	r("hashing (sha256, tmhash, merkle)", `sha256|crypto/tmhash|merkle`),
	r("GC and allocation", `runtime\.(gc|mallocgc|bgsweep|sweepone|scanobject|scanObjects|markBits|newobject|growslice|makeslice)|gcBgMarkWorker`),
	r("syscalls (network, disk)", `syscall|internal/poll`),
	r("other", `.`),
}

type sample struct {
	v     int64
	stack []string // function names, leaf first (inlined frames expanded)
}

func main() {
	txs := flag.Int("txs", 0, "txs included in the profiled window (for per-tx figures)")
	index := flag.String("sample", "", "sample type: cpu or alloc_space (default: cpu if present, else alloc_space)")
	focus := flag.String("focus", "", "only samples with a frame matching this regexp")
	tables := flag.Bool("tables", false, "with results JSONs: the where/what tables, phases side by side")
	all := flag.Bool("all", false, "with results JSONs: the later windows of each phase too (the whole sending time), not only the first")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: pprofsplit [-txs N] [-sample cpu|alloc_space] [-focus RE] PROFILE... | [-tables] RESULTS.json...")
		os.Exit(2)
	}
	if strings.HasSuffix(flag.Arg(0), ".json") {
		if err := results(flag.Args(), *tables, *all); err != nil {
			fmt.Fprintln(os.Stderr, "pprofsplit:", err)
			os.Exit(1)
		}
		return
	}
	samples, unit, err := read(flag.Args(), *index)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofsplit:", err)
		os.Exit(1)
	}
	if *focus != "" {
		fre := regexp.MustCompile(*focus)
		kept := samples[:0]
		for _, s := range samples {
			if matchAny(fre, s.stack) {
				kept = append(kept, s)
			}
		}
		samples = kept
	}
	total := sum(samples)
	fmt.Printf("%s: total %s", strings.Join(flag.Args(), " + "), format(total, unit))
	if *txs > 0 {
		fmt.Printf(", %d txs included, %s per included tx", *txs, perTx(total, *txs, unit))
	}
	fmt.Println()
	table("where", where, samples, total, unit, *txs)
	table("what", what, samples, total, unit, *txs)
}

// phaseGroup: one kind at one offered rate, over one or more runs.
type phaseGroup struct {
	name                         string
	cpu, allocs                  []string
	seconds                      float64
	sent, included, blocks, runs int
	sustainedTPS                 float64 // summed over runs
}

// results summarises the phases of bench-load results JSONs, each kind at
// each rate merged over the files given (profiles merged, windows summed).
func results(files []string, tables, all bool) error {
	var groups []*phaseGroup
	byName := map[string]*phaseGroup{}
	for _, file := range files {
		bz, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		type window struct {
			CPU      string  `json:"cpu_profile"`
			Allocs   string  `json:"allocs_profile"`
			Seconds  float64 `json:"seconds"`
			Sent     int     `json:"sent"`
			Included int     `json:"included"`
			Blocks   int     `json:"blocks"`
			Error    string  `json:"error"`
		}
		var doc struct {
			Phases []struct {
				Kind          string    `json:"kind"`
				OfferedTPS    float64   `json:"offered_tps"`
				IncludedTPS   float64   `json:"included_tps"`
				Profile       *window   `json:"profile"`
				LaterProfiles []*window `json:"later_profiles"`
			} `json:"phases"`
		}
		if err := json.Unmarshal(bz, &doc); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, p := range doc.Phases {
			if p.Profile == nil || p.Profile.Included == 0 || p.Profile.Error != "" {
				continue
			}
			name := fmt.Sprintf("%s %g", p.Kind, p.OfferedTPS)
			g := byName[name]
			if g == nil {
				g = &phaseGroup{name: name}
				byName[name] = g
				groups = append(groups, g)
			}
			ws := []*window{p.Profile}
			if all {
				ws = append(ws, p.LaterProfiles...)
			}
			for _, w := range ws {
				if w.Error != "" {
					continue
				}
				g.cpu, g.allocs = append(g.cpu, w.CPU), append(g.allocs, w.Allocs)
				g.seconds += w.Seconds
				g.sent += w.Sent
				g.included += w.Included
				g.blocks += w.Blocks
			}
			g.runs++
			g.sustainedTPS += p.IncludedTPS
		}
	}
	if len(groups) == 0 {
		return errors.New("no profiled phase in " + strings.Join(files, ", "))
	}
	type split struct {
		unit    string
		samples []sample
		total   int64
	}
	cpus, allocs := make([]split, len(groups)), make([]split, len(groups))
	fmt.Printf("| phase | runs | included tx/s (sustained, mean) | profiled: sent, included (tx/s), blocks | node CPU s (cores busy) | CPU per included tx | allocated per included tx |\n")
	fmt.Printf("|---|---:|---:|---|---:|---:|---:|\n")
	for i, g := range groups {
		for _, x := range []struct {
			files []string
			index string
			out   *split
		}{{g.cpu, "cpu", &cpus[i]}, {g.allocs, "alloc_space", &allocs[i]}} {
			samples, unit, err := read(x.files, x.index)
			if err != nil {
				return err
			}
			*x.out = split{unit, samples, sum(samples)}
		}
		cpu, alloc := cpus[i].total, allocs[i].total
		fmt.Printf("| %s | %d | %.1f | %d, %d (%.1f), %d | %.2f (%.2f) | %.3f ms | %.1f kB |\n", g.name, g.runs, g.sustainedTPS/float64(g.runs),
			g.sent, g.included, float64(g.included)/g.seconds, g.blocks, float64(cpu)/1e9, float64(cpu)/1e9/g.seconds,
			float64(cpu)/1e6/float64(g.included), float64(alloc)/1e3/float64(g.included))
	}
	if !tables {
		return nil
	}
	for _, set := range []struct {
		title string
		s     []split
	}{{"CPU per included tx", cpus}, {"allocated per included tx", allocs}} {
		for _, t := range []struct {
			title string
			rules []rule
		}{{"where", where}, {"what", what}} {
			sums := make([][]int64, len(groups))
			for i := range groups {
				sums[i] = ruleSums(t.rules, set.s[i].samples)
			}
			order := make([]int, len(t.rules))
			for j := range order {
				order[j] = j
			}
			sort.SliceStable(order, func(a, b int) bool {
				return sums[len(groups)-1][order[a]] > sums[len(groups)-1][order[b]]
			})
			fmt.Printf("\n%s: %s\n\n| %s |", set.title, t.title, t.title)
			for _, g := range groups {
				fmt.Printf(" %s | share |", g.name)
			}
			fmt.Printf("\n|---|")
			for range groups {
				fmt.Printf("---:|---:|")
			}
			fmt.Println()
			for _, j := range order {
				empty := true
				for i := range groups {
					empty = empty && sums[i][j] == 0
				}
				if empty {
					continue
				}
				fmt.Printf("| %s |", t.rules[j].name)
				for i, g := range groups {
					fmt.Printf(" %s | %.1f%% |", perTx(sums[i][j], g.included, set.s[i].unit),
						100*float64(sums[i][j])/float64(max(set.s[i].total, 1)))
				}
				fmt.Println()
			}
			fmt.Printf("| total |")
			for i, g := range groups {
				fmt.Printf(" %s | 100%% |", perTx(set.s[i].total, g.included, set.s[i].unit))
			}
			fmt.Println()
		}
	}
	return nil
}

func sum(samples []sample) int64 {
	var t int64
	for _, s := range samples {
		t += s.v
	}
	return t
}

func ruleSums(rules []rule, samples []sample) []int64 {
	sums := make([]int64, len(rules))
	for _, s := range samples {
		for i, ru := range rules {
			if ru.match(s.stack) {
				sums[i] += s.v
				break
			}
		}
	}
	return sums
}

func matchAny(re *regexp.Regexp, stack []string) bool {
	for _, f := range stack {
		if re.MatchString(f) {
			return true
		}
	}
	return false
}

func table(title string, rules []rule, samples []sample, total int64, unit string, txs int) {
	sums := ruleSums(rules, samples)
	order := make([]int, len(rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sums[order[a]] > sums[order[b]] })
	fmt.Printf("\n| %s | %s | share |", title, unitName(unit))
	if txs > 0 {
		fmt.Printf(" per included tx |")
	}
	fmt.Printf("\n|---|---:|---:|")
	if txs > 0 {
		fmt.Printf("---:|")
	}
	fmt.Println()
	for _, i := range order {
		if sums[i] == 0 {
			continue
		}
		fmt.Printf("| %s | %s | %.1f%% |", rules[i].name, format(sums[i], unit), 100*float64(sums[i])/float64(max(total, 1)))
		if txs > 0 {
			fmt.Printf(" %s |", perTx(sums[i], txs, unit))
		}
		fmt.Println()
	}
}

func unitName(unit string) string {
	if unit == "nanoseconds" {
		return "CPU s"
	}
	return "MB"
}

func format(v int64, unit string) string {
	if unit == "nanoseconds" {
		return fmt.Sprintf("%.2f", float64(v)/1e9)
	}
	return fmt.Sprintf("%.1f", float64(v)/1e6)
}

func perTx(v int64, txs int, unit string) string {
	if unit == "nanoseconds" {
		return fmt.Sprintf("%.3f ms", float64(v)/1e6/float64(txs))
	}
	return fmt.Sprintf("%.1f kB", float64(v)/1e3/float64(txs))
}

// read parses `go tool pprof -raw FILE`.
// Several files are merged by pprof.
func read(files []string, index string) ([]sample, string, error) {
	out, err := exec.Command("go", append([]string{"tool", "pprof", "-raw"}, files...)...).Output()
	if err != nil {
		return nil, "", fmt.Errorf("go tool pprof -raw %s: %w", strings.Join(files, " "), err)
	}
	type rawSample struct {
		vals []int64
		locs []int
	}
	var (
		types   []string
		raw     []rawSample
		locs    = map[int][]string{}
		section string
		lastLoc int
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "Samples:" || line == "Locations" || line == "Mappings":
			section = line
			continue
		}
		switch section {
		case "Samples:":
			if types == nil {
				types = strings.Fields(line)
				continue
			}
			vs, ls, ok := strings.Cut(line, ":")
			if !ok || strings.Contains(vs, "bytes") || strings.TrimSpace(vs) == "" {
				continue // label lines (bytes:[208])
			}
			var s rawSample
			for _, f := range strings.Fields(vs) {
				n, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					return nil, "", fmt.Errorf("sample %q: %w", line, err)
				}
				s.vals = append(s.vals, n)
			}
			for _, f := range strings.Fields(ls) {
				n, err := strconv.Atoi(f)
				if err != nil {
					return nil, "", fmt.Errorf("sample %q: %w", line, err)
				}
				s.locs = append(s.locs, n)
			}
			raw = append(raw, s)
		case "Locations":
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if strings.HasSuffix(f[0], ":") { // "   12: 0xaddr M=1 func file:line s=0"
				id, err := strconv.Atoi(strings.TrimSuffix(f[0], ":"))
				if err != nil {
					return nil, "", fmt.Errorf("location %q: %w", line, err)
				}
				lastLoc = id
				if len(f) >= 4 {
					locs[id] = append(locs[id], f[3])
				}
			} else { // an inlined caller of the line above
				locs[lastLoc] = append(locs[lastLoc], f[0])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, "", err
	}
	col, unit := -1, ""
	for i, t := range types {
		name, u, _ := strings.Cut(t, "/")
		if (index == "" && name == "cpu") || name == index {
			col, unit = i, u
		}
	}
	if col < 0 && index == "" {
		for i, t := range types {
			if name, u, _ := strings.Cut(t, "/"); name == "alloc_space" {
				col, unit = i, u
			}
		}
	}
	if col < 0 {
		return nil, "", fmt.Errorf("no sample type %q in %v", index, types)
	}
	samples := make([]sample, 0, len(raw))
	for _, s := range raw {
		if col >= len(s.vals) || s.vals[col] == 0 {
			continue
		}
		var stack []string
		for _, l := range s.locs {
			stack = append(stack, locs[l]...)
		}
		samples = append(samples, sample{v: s.vals[col], stack: stack})
	}
	return samples, unit, nil
}
