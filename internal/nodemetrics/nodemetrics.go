// Package nodemetrics is how the repshard modules export node metrics: gauges,
// counters and timings through the Cosmos SDK's telemetry (go-metrics), which
// a node serves at its API server's /metrics?format=prometheus when app.toml
// has [telemetry] enabled = true and prometheus-retention-time > 0 (the
// localnet's nodes do). The metrics, how they are made and what to alert on:
// docs/metrics.md.
//
// Telemetry is write-only: nothing here reads state, costs gas, or returns a
// value the state machine could act on, so it cannot make validators
// disagree. When telemetry is off (the default) every function returns at
// once. This package is the one place in the state machine that holds
// floating-point values (go-metrics takes float32; the lines carry
// `detcheck:ok`) and reads the wall clock (Start, through telemetry.Now);
// the clock reading is kept in an unexported field of Stopwatch so module
// code cannot use it.
package nodemetrics

import (
	"strconv"
	"time"

	"github.com/hashicorp/go-metrics"

	"github.com/cosmos/cosmos-sdk/telemetry"
)

// Prefix is the first part of every repshard metric name.
const Prefix = "repshard"

// Metric name parts (Prometheus: the parts joined with "_").
var (
	// EndBlock steps: repshard_endblock_step_ms{module,step} (a summary of
	// the step's wall time per block, in milliseconds) and
	// repshard_endblock_step_items{module,step} (a summary of the items the
	// step processed per block; its _sum is the total).
	keyStepMs    = []string{Prefix, "endblock", "step", "ms"}
	keyStepItems = []string{Prefix, "endblock", "step", "items"}
	// Quarantined EndBlock items: repshard_endblock_items_quarantined{module,step}.
	keyQuarantined = []string{Prefix, "endblock", "items", "quarantined"}
	// Shard gauges: repshard_shard_<name>{shard,class}.
	keyShardQueuedRequests = []string{Prefix, "shard", "queued", "requests"}
	keyShardQueuedUnits    = []string{Prefix, "shard", "queued", "units"}
	keyShardInFlightUnits  = []string{Prefix, "shard", "in", "flight", "units"}
	keyShardCapacityUnits  = []string{Prefix, "shard", "capacity", "units"}
	keyShardWorkers        = []string{Prefix, "shard", "workers"}
	keyShardLoadPpm        = []string{Prefix, "shard", "load", "ppm"}
	keyShardLoadEmaPpm     = []string{Prefix, "shard", "load", "ema", "ppm"}
	// Reward epoch: repshard_rewards_open_epoch.
	keyOpenEpoch = []string{Prefix, "rewards", "open", "epoch"}
)

// Label names.
const (
	LabelModule = "module"
	LabelStep   = "step"
	LabelShard  = "shard"
	LabelClass  = "class"
)

// Enabled reports whether the node exports telemetry (app.toml [telemetry]
// enabled). It is decided once when the node starts.
func Enabled() bool { return telemetry.IsTelemetryEnabled() }

// Stopwatch is the start of a measured span. Its time is unexported: module
// code can only hand it back to this package.
type Stopwatch struct{ start time.Time }

// Start starts a Stopwatch: the wall clock when telemetry is on, the zero
// time otherwise (telemetry.Now), read by nothing but EndBlockStep.
func Start() Stopwatch { return Stopwatch{start: telemetry.Now()} }

// EndBlockStep records one run of an EndBlock step of module: its wall time
// since sw and the number of items it processed.
func EndBlockStep(module, step string, sw Stopwatch, items uint64) {
	if !Enabled() {
		return
	}
	labels := []metrics.Label{telemetry.NewLabel(LabelModule, module), telemetry.NewLabel(LabelStep, step)}
	metrics.MeasureSinceWithLabels(keyStepMs, sw.start, labels)
	sample(keyStepItems, items, labels)
}

// ItemQuarantined counts one EndBlock item of module's step moved to
// quarantine after failing max_item_failures times in a row.
func ItemQuarantined(module, step string) {
	IncrCounter(keyQuarantined, 1, telemetry.NewLabel(LabelModule, module), telemetry.NewLabel(LabelStep, step))
}

// ShardLoad is what a shard record says about its work, from the counters
// x/shard keeps on it (nothing is counted by iterating).
type ShardLoad struct {
	ID             uint64
	Class          string
	QueuedRequests uint64
	QueuedUnits    uint64
	InFlightUnits  uint64
	CapacityUnits  uint64
	Workers        uint64
	LoadPpm        uint64
	LoadEmaPpm     uint64
}

// SetShardLoad sets the gauges of one shard.
func SetShardLoad(s ShardLoad) {
	if !Enabled() {
		return
	}
	labels := []metrics.Label{
		telemetry.NewLabel(LabelShard, strconv.FormatUint(s.ID, 10)),
		telemetry.NewLabel(LabelClass, s.Class),
	}
	gauge(keyShardQueuedRequests, s.QueuedRequests, labels)
	gauge(keyShardQueuedUnits, s.QueuedUnits, labels)
	gauge(keyShardInFlightUnits, s.InFlightUnits, labels)
	gauge(keyShardCapacityUnits, s.CapacityUnits, labels)
	gauge(keyShardWorkers, s.Workers, labels)
	gauge(keyShardLoadPpm, s.LoadPpm, labels)
	gauge(keyShardLoadEmaPpm, s.LoadEmaPpm, labels)
}

// SetOpenEpoch sets the number of the open reward epoch.
func SetOpenEpoch(number uint64) {
	if !Enabled() {
		return
	}
	gauge(keyOpenEpoch, number, nil)
}

// IncrCounter adds n to the counter named by key, with labels.
func IncrCounter(key []string, n uint64, labels ...metrics.Label) {
	if !Enabled() || n == 0 {
		return
	}
	telemetry.IncrCounterWithLabels(key, float32(n), labels) // detcheck:ok telemetry value, never read back
}

func gauge(key []string, v uint64, labels []metrics.Label) {
	telemetry.SetGaugeWithLabels(key, float32(v), labels) // detcheck:ok telemetry value, never read back
}

func sample(key []string, v uint64, labels []metrics.Label) {
	metrics.AddSampleWithLabels(key, float32(v), labels) // detcheck:ok telemetry value, never read back
}
