// Package loadwave drives the whole repshard app (testutil/apptest: real
// signed transactions, real BeginBlock/EndBlock) through a traffic wave on one
// shard class: a warm-up at base load, a ramp to a peak multiple of the
// workers' throughput, a hold, a ramp down and a cool-down. Workers complete
// their assignments ServiceBlocks blocks after they get them. Every block it
// records the topology (ACTIVE shards, their load and load EMA), the queue
// waits of the requests assigned in the block, the migrations and the
// topology events, and — when asked — checks the app's invariants.
//
// It is test tooling, not state machine: it uses floats and maps freely.
package loadwave

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/repshard/repshard/app"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// Config shapes the wave. Loads are in percent of the workers' throughput
// (Workers × WorkerCapacity / ServiceBlocks one-unit requests per block).
type Config struct {
	Class          shardtypes.ShardClass
	Workers        int
	WorkerCapacity uint64
	ServiceBlocks  int64
	// Requesters are split in two halves: the first half starts with a
	// spotless record (high reputation), the second with a poor one.
	Requesters int

	BaseLoadPct, PeakLoadPct                                   int
	WarmBlocks, RampUpBlocks, HoldBlocks, RampDownBlocks, Cool int

	// ShardParams and DeferralParams edit the genesis params.
	ShardParams    func(*shardtypes.Params)
	DeferralParams func(*deferraltypes.Params)
	// ShardGenesis, if set, edits the x/shard genesis after ShardParams
	// (e.g. a starting topology).
	ShardGenesis func(*shardtypes.GenesisState)
	// CheckInvariants runs App.CheckInvariants after every block.
	CheckInvariants bool
}

// ShardStat is one ACTIVE or DRAINING shard at the end of a block.
type ShardStat struct {
	ID         uint64
	Status     shardtypes.ShardStatus
	LoadPpm    uint32
	LoadEmaPpm uint32
	Workers    uint32
	Queued     uint64
}

// Block is what one block did.
type Block struct {
	Height         int64
	Phase          string
	Arrivals       int
	ActiveShards   int
	Shards         []ShardStat
	NetworkLoadPpm uint32
	Queued         uint64
	Assigned       int
	WaitP50        int64
	WaitP99        int64
	WorkersMoved   uint64
	RequestsMoved  uint64
	Splits         int
	Merges         int
	Retires        int
	ItemFailures   int
	// ExpiredQueued counts requests that expired in the queue (waited
	// queue_ttl_blocks without an assignment).
	ExpiredQueued int
}

// Result is the whole wave.
type Result struct {
	Config       Config
	Blocks       []Block
	MigrationCap uint32
	// HighWaits and LowWaits are the queue waits (blocks from submission to
	// first assignment) of requests whose requester's reputation at
	// submission was at or above / below preferred_reputation_threshold_ppm,
	// over the peak phase ("hold").
	HighWaits, LowWaits []int64
	Submitted           int
	Completed           int
	InvariantErrors     []string
	// Chain is the app after the wave, for queries on its final state.
	Chain *apptest.Chain
}

type pending struct {
	id       uint64
	assigned int64
}

// Run drives the wave through a fresh app.
func Run(t testing.TB, cfg Config) Result {
	t.Helper()
	nAcc := cfg.Workers + cfg.Requesters
	high, low := map[string]bool{}, map[string]bool{}
	bonded := authtypes.NewModuleAddress(stakingtypes.BondedPoolName).String()
	c := apptest.New(t, nAcc, func(g app.GenesisState) {
		apptest.EditGenesis(t, g, shardtypes.ModuleName, &shardtypes.GenesisState{}, func(gs *shardtypes.GenesisState) {
			gs.Params.MaxWorkersPerShard = uint32(cfg.Workers)
			// Half-way between the two groups' scores (a spotless record
			// scores about 0.75 without proof of work, stake or reviews; a
			// poor one about 0.25), so the groups route differently.
			gs.Params.PreferredReputationThresholdPpm = 500_000
			if cfg.ShardParams != nil {
				cfg.ShardParams(&gs.Params)
			}
			if cfg.ShardGenesis != nil {
				cfg.ShardGenesis(gs)
			}
		})
		apptest.EditGenesis(t, g, deferraltypes.ModuleName, &deferraltypes.GenesisState{}, func(gs *deferraltypes.GenesisState) {
			gs.Params.MaxOpenRequestsPerRequester = 1_000_000
			if cfg.DeferralParams != nil {
				cfg.DeferralParams(&gs.Params)
			}
		})
		var bank struct {
			Balances []struct {
				Address string `json:"address"`
			} `json:"balances"`
		}
		require.NoError(t, json.Unmarshal(g[banktypes.ModuleName], &bank))
		var addrs []string
		for _, b := range bank.Balances {
			if b.Address != bonded {
				addrs = append(addrs, b.Address)
			}
		}
		sort.Strings(addrs)
		apptest.EditGenesis(t, g, reputationtypes.ModuleName, &reputationtypes.GenesisState{}, func(gs *reputationtypes.GenesisState) {
			for i := 0; i < cfg.Requesters; i++ {
				// A long record makes the two groups keep their standing
				// through the wave; the request-rate penalty is off so that
				// the simulation's heavy senders are not all pushed down.
				p := reputationtypes.Profile{Address: addrs[i]}
				if i%2 == 0 {
					p.Completed = 100_000
					high[addrs[i]] = true
				} else {
					p.Failed = 100_000
					low[addrs[i]] = true
				}
				gs.Profiles = append(gs.Profiles, p)
			}
			gs.Params.FrequencyPenaltyPerRequestPpm = 0
		})
	})
	var requesters, workers []apptest.Account
	for _, a := range c.Accounts {
		if high[a.Address.String()] || low[a.Address.String()] {
			requesters = append(requesters, a)
		} else {
			workers = append(workers, a)
		}
	}
	require.Len(t, requesters, cfg.Requesters)

	ctx := c.Context()
	sp, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	res := Result{Config: cfg, MigrationCap: sp.MaxMigrationsPerBlock, Chain: c}

	// Workers register (one tx each) in the first block.
	var txs [][]byte
	for _, w := range workers {
		txs = append(txs, c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{cfg.Class},
			CapacityUnits: cfg.WorkerCapacity, StorageBytes: 1 << 30, Bond: sp.MinWorkerBond,
		}))
	}
	for _, r := range c.NextBlock(t, txs...) {
		require.Zero(t, r.Code, r.Log)
	}

	dp, err := c.App.DeferralKeeper.GetParams(ctx)
	require.NoError(t, err)
	// The most a one-unit request of any urgency can cost: the ceiling at the
	// critical multiplier, rounded up.
	price := sdk.NewCoin(sp.PriceCeiling.Denom, sp.PriceCeiling.Amount.MulRaw(int64(dp.UrgencyFeeCriticalPpm)).AddRaw(999_999).QuoRaw(1_000_000))
	throughput := float64(cfg.Workers) * float64(cfg.WorkerCapacity) / float64(cfg.ServiceBlocks)
	work := map[string][]pending{} // worker → its assignments, oldest first
	group := map[uint64]bool{}     // request id → submitted with high reputation
	urgencies := []deferraltypes.Urgency{deferraltypes.UrgencyLow, deferraltypes.UrgencyNormal,
		deferraltypes.UrgencyHigh, deferraltypes.UrgencyCritical}
	carry, seq := 0.0, 0
	for i := 0; i < cfg.Len(); i++ {
		height := c.App.LastBlockHeight() + 1
		phase, pct := cfg.phaseLoad(i)
		carry += throughput * float64(pct) / 100
		arrivals := int(carry)
		carry -= float64(arrivals)

		txs = txs[:0]
		// Workers report the work they have had for ServiceBlocks blocks.
		for _, w := range workers {
			key := w.Address.String()
			var msgs []sdk.Msg
			left := work[key][:0:0]
			for _, p := range work[key] {
				if p.assigned+cfg.ServiceBlocks <= height && len(msgs) < maxMsgsPerTx {
					hash := sha256.Sum256([]byte(fmt.Sprint("result", p.id)))
					msgs = append(msgs, &deferraltypes.MsgCompleteRequest{Worker: key, RequestId: p.id, ResultHash: hash[:]})
				} else {
					left = append(left, p)
				}
			}
			work[key] = left
			if len(msgs) > 0 {
				txs = append(txs, c.SignTx(t, w, msgs...))
				res.Completed += len(msgs)
			}
		}
		// Requesters submit, round robin; one tx per requester per block.
		perRequester := make([][]sdk.Msg, len(requesters))
		for n := 0; n < arrivals; n++ {
			r := seq % len(requesters)
			u := urgencies[(seq/len(requesters))%len(urgencies)]
			seq++
			perRequester[r] = append(perRequester[r], &deferraltypes.MsgSubmitRequest{
				Requester: requesters[r].Address.String(), Class: cfg.Class, Urgency: u, ComputeUnits: 1,
				Payload: []byte("wave"), MaxFee: price,
			})
		}
		for r, msgs := range perRequester {
			for len(msgs) > 0 {
				n := min(len(msgs), maxMsgsPerTx)
				txs = append(txs, c.SignTx(t, requesters[r], msgs[:n]...))
				msgs = msgs[n:]
			}
		}
		results := c.NextBlock(t, txs...)
		res.Submitted += arrivals

		b := Block{Height: height, Phase: phase, Arrivals: arrivals}
		var events []abci.Event
		for _, r := range results {
			require.Zero(t, r.Code, "block %d: %s", height, r.Log)
			events = append(events, r.Events...)
		}
		events = append(events, c.BlockEvents...)
		for _, e := range apptest.TypedEvents[*deferraltypes.EventRequestSubmitted](t, events) {
			group[e.RequestId] = e.ReputationPpm >= sp.PreferredReputationThresholdPpm
		}
		var waits []int64
		for _, e := range apptest.TypedEvents[*deferraltypes.EventRequestAssigned](t, events) {
			work[e.Worker] = append(work[e.Worker], pending{id: e.RequestId, assigned: height})
			if e.Attempt != 1 {
				continue
			}
			waits = append(waits, e.WaitedBlocks)
			if phase == "hold" {
				if group[e.RequestId] {
					res.HighWaits = append(res.HighWaits, e.WaitedBlocks)
				} else {
					res.LowWaits = append(res.LowWaits, e.WaitedBlocks)
				}
			}
		}
		sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
		b.Assigned, b.WaitP50, b.WaitP99 = len(waits), percentile(waits, 50), percentile(waits, 99)
		for _, e := range apptest.TypedEvents[*shardtypes.EventMigrationBatch](t, events) {
			b.WorkersMoved += e.WorkersMoved
			b.RequestsMoved += e.RequestsMoved
		}
		for _, e := range apptest.TypedEvents[*deferraltypes.EventRequestExpired](t, events) {
			if e.WhileQueued {
				b.ExpiredQueued++
			}
		}
		b.Splits = len(apptest.TypedEvents[*shardtypes.EventShardSplit](t, events))
		b.Merges = len(apptest.TypedEvents[*shardtypes.EventShardMerge](t, events))
		b.Retires = len(apptest.TypedEvents[*shardtypes.EventShardRetired](t, events))
		b.ItemFailures = len(apptest.TypedEvents[*shardtypes.EventTopologyItemFailed](t, events)) +
			len(apptest.TypedEvents[*deferraltypes.EventEndBlockItemFailed](t, events))

		ctx := c.Context()
		load, err := c.App.ShardKeeper.NetworkLoadPpm(ctx)
		require.NoError(t, err)
		b.NetworkLoadPpm = load
		require.NoError(t, c.App.ShardKeeper.Shards.Walk(ctx, nil, func(id uint64, s shardtypes.Shard) (bool, error) {
			if s.Class != cfg.Class || s.Status == shardtypes.ShardRetired {
				return false, nil
			}
			if s.Status == shardtypes.ShardActive {
				b.ActiveShards++
			}
			b.Queued += s.QueuedCount
			b.Shards = append(b.Shards, ShardStat{ID: id, Status: s.Status, LoadPpm: s.LoadPpm,
				LoadEmaPpm: s.LoadEmaPpm, Workers: s.WorkerCount, Queued: s.QueuedCount})
			return false, nil
		}))
		if cfg.CheckInvariants {
			if err := c.App.CheckInvariants(ctx); err != nil {
				res.InvariantErrors = append(res.InvariantErrors, fmt.Sprintf("block %d: %v", height, err))
			}
		}
		res.Blocks = append(res.Blocks, b)
	}
	return res
}

// maxMsgsPerTx keeps each simulated tx within apptest.DefaultTxGas.
const maxMsgsPerTx = 12

// phaseLoad is the load in percent of throughput at block i of the wave.
func (cfg Config) phaseLoad(i int) (string, int) {
	switch {
	case i < cfg.WarmBlocks:
		return "warm", cfg.BaseLoadPct
	case i < cfg.WarmBlocks+cfg.RampUpBlocks:
		k := i - cfg.WarmBlocks + 1
		return "ramp-up", cfg.BaseLoadPct + (cfg.PeakLoadPct-cfg.BaseLoadPct)*k/cfg.RampUpBlocks
	case i < cfg.WarmBlocks+cfg.RampUpBlocks+cfg.HoldBlocks:
		return "hold", cfg.PeakLoadPct
	case i < cfg.WarmBlocks+cfg.RampUpBlocks+cfg.HoldBlocks+cfg.RampDownBlocks:
		k := i - cfg.WarmBlocks - cfg.RampUpBlocks - cfg.HoldBlocks + 1
		return "ramp-down", cfg.PeakLoadPct - (cfg.PeakLoadPct-cfg.BaseLoadPct)*k/cfg.RampDownBlocks
	default:
		return "cool", cfg.BaseLoadPct
	}
}

// Len is the number of blocks of the wave.
func (cfg Config) Len() int {
	return cfg.WarmBlocks + cfg.RampUpBlocks + cfg.HoldBlocks + cfg.RampDownBlocks + cfg.Cool
}

func percentile(sorted []int64, p int) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

// Mean is the arithmetic mean of xs (0 for none).
func Mean(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s int64
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(len(xs))
}

// MaxMigratedPerBlock is the most workers + requests moved in one block.
func (r Result) MaxMigratedPerBlock() uint64 {
	var m uint64
	for _, b := range r.Blocks {
		m = max(m, b.WorkersMoved+b.RequestsMoved)
	}
	return m
}

// MaxActiveShards is the most ACTIVE shards of the class in one block.
func (r Result) MaxActiveShards() int {
	m := 0
	for _, b := range r.Blocks {
		m = max(m, b.ActiveShards)
	}
	return m
}

// Count sums f over the blocks.
func (r Result) Count(f func(Block) int) int {
	n := 0
	for _, b := range r.Blocks {
		n += f(b)
	}
	return n
}

// WriteCSV writes one row per block: height, phase, arrivals, ACTIVE shard
// count, network load, queue length, assignments, p50/p99 queue wait of the
// block's assignments, migrations, topology events, then load and load EMA
// (ppm) of each shard id ever seen (empty while the shard is not ACTIVE).
func (r Result) WriteCSV(w io.Writer) error {
	ids := r.shardIDs()
	cols := []string{"height", "phase", "arrivals", "active_shards", "network_load_ppm", "queued", "assigned",
		"wait_p50_blocks", "wait_p99_blocks", "workers_moved", "requests_moved", "splits", "merges", "retires", "expired_in_queue"}
	for _, id := range ids {
		cols = append(cols, fmt.Sprintf("shard%d_load_ppm", id), fmt.Sprintf("shard%d_load_ema_ppm", id))
	}
	if _, err := fmt.Fprintln(w, strings.Join(cols, ",")); err != nil {
		return err
	}
	for _, b := range r.Blocks {
		row := []string{
			fmt.Sprint(b.Height), b.Phase, fmt.Sprint(b.Arrivals), fmt.Sprint(b.ActiveShards), fmt.Sprint(b.NetworkLoadPpm),
			fmt.Sprint(b.Queued), fmt.Sprint(b.Assigned), fmt.Sprint(b.WaitP50), fmt.Sprint(b.WaitP99),
			fmt.Sprint(b.WorkersMoved), fmt.Sprint(b.RequestsMoved), fmt.Sprint(b.Splits), fmt.Sprint(b.Merges), fmt.Sprint(b.Retires),
			fmt.Sprint(b.ExpiredQueued),
		}
		byID := map[uint64]ShardStat{}
		for _, s := range b.Shards {
			if s.Status == shardtypes.ShardActive {
				byID[s.ID] = s
			}
		}
		for _, id := range ids {
			if s, ok := byID[id]; ok {
				row = append(row, fmt.Sprint(s.LoadPpm), fmt.Sprint(s.LoadEmaPpm))
			} else {
				row = append(row, "", "")
			}
		}
		if _, err := fmt.Fprintln(w, strings.Join(row, ",")); err != nil {
			return err
		}
	}
	return nil
}

func (r Result) shardIDs() []uint64 {
	seen := map[uint64]bool{}
	var ids []uint64
	for _, b := range r.Blocks {
		for _, s := range b.Shards {
			if s.Status == shardtypes.ShardActive && !seen[s.ID] {
				seen[s.ID] = true
				ids = append(ids, s.ID)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
