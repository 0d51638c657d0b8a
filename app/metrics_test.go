package app_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"

	"cosmossdk.io/collections"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/telemetry"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
	"github.com/repshard/repshard/testutil/apptest"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

var (
	telemetryOnce    sync.Once
	telemetryMetrics *telemetry.Metrics
	telemetryErr     error
)

// enableTelemetry turns the SDK's telemetry on (in-memory and Prometheus
// sinks, as a node with app.toml [telemetry] enabled) for the test and off
// again after it. The sinks are global to the process and registered once.
func enableTelemetry(t *testing.T) *telemetry.Metrics {
	t.Helper()
	telemetryOnce.Do(func() {
		telemetryMetrics, telemetryErr = telemetry.New(telemetry.Config{Enabled: true, PrometheusRetentionTime: 600})
	})
	require.NoError(t, telemetryErr)
	telemetry.EnableTelemetry()
	t.Cleanup(func() { _, _ = telemetry.New(telemetry.Config{}) }) // Enabled false: telemetry off
	return telemetryMetrics
}

// scrape is one Prometheus scrape of the node metrics, by family name.
type scrape map[string]*dto.MetricFamily

func gather(t *testing.T, m *telemetry.Metrics) scrape {
	t.Helper()
	res, err := m.Gather(telemetry.FormatPrometheus)
	require.NoError(t, err)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(bytes.NewReader(res.Metrics))
	require.NoError(t, err)
	return fams
}

// value sums the samples of family name whose labels include want (a
// counter's or gauge's value; a summary's sample sum, or with the suffix
// "_count" its sample count).
func (s scrape) value(name string, want ...string) float64 {
	count := strings.HasSuffix(name, "_count")
	fam := s[strings.TrimSuffix(name, "_count")]
	if fam == nil {
		return 0
	}
	var sum float64
	for _, m := range fam.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Summary != nil && count:
			sum += float64(m.Summary.GetSampleCount())
		case m.Summary != nil:
			sum += m.Summary.GetSampleSum()
		}
	}
	return sum
}

// TestNodeMetricsThroughTheApp drives the whole app through blocks with
// telemetry on and checks what a Prometheus scrape reports against the
// chain's own records: the request counters against the requests and
// workers in state and the submissions' responses (a failed tx and a
// simulation count nothing), the shard gauges against the shard record, the
// EndBlock step summaries against the blocks run, the epoch gauge against
// x/rewards.
func TestNodeMetricsThroughTheApp(t *testing.T) {
	m := enableTelemetry(t)
	c := apptest.New(t, 4, nil)
	requester, spare, workers := c.Accounts[0], c.Accounts[1], c.Accounts[2:4]
	ctx := c.Context()
	shardParams, err := c.App.ShardKeeper.GetParams(ctx)
	require.NoError(t, err)
	var regs [][]byte
	for _, w := range workers {
		regs = append(regs, c.SignTx(t, w, &shardtypes.MsgRegisterWorker{
			Worker: w.Address.String(), Classes: []shardtypes.ShardClass{shardtypes.ClassHighPriority},
			CapacityUnits: 10, StorageBytes: 1 << 30, Bond: shardParams.MinWorkerBond,
		}))
	}
	for _, res := range c.NextBlock(t, regs...) {
		require.Zero(t, res.Code, res.Log)
	}
	before := gather(t, m)
	blocksBefore := before.value("repshard_endblock_step_items_count", "module=deferral", "step=drain_queues")

	submit := func(from apptest.Account, i int, units uint64) *deferraltypes.MsgSubmitRequest {
		return &deferraltypes.MsgSubmitRequest{
			Requester: from.Address.String(), Class: shardtypes.ClassHighPriority, Urgency: deferraltypes.UrgencyNormal,
			ComputeUnits: units, Payload: []byte(fmt.Sprintf("metrics job %d", i)),
			MaxFee: sdk.NewInt64Coin(chaincfg.BondDenom, 10_000_000),
		}
	}
	// 8 requests of 3 units for 2 workers of 10 units: three for each worker
	// at once, the rest deferred. One more tx fails in its second message:
	// its first (valid) submission is rolled back and must not count.
	var txs [][]byte
	for i := range 8 {
		txs = append(txs, c.SignTx(t, requester, submit(requester, i, 3)))
	}
	txs = append(txs, c.SignTx(t, spare, submit(spare, 100, 1), submit(spare, 101, 0)))
	results := c.NextBlock(t, txs...)
	deferredByReason := map[string]float64{}
	assignedAtSubmission := 0
	for i, res := range results[:8] {
		require.Zero(t, res.Code, "submission %d: %s", i, res.Log)
		var got deferraltypes.MsgSubmitRequestResponse
		c.MsgResponse(t, res, &got)
		if got.Deferred {
			deferredByReason[got.DeferReason.String()]++
		} else {
			assignedAtSubmission++
		}
	}
	require.NotZero(t, results[8].Code, "the tx with a zero-unit request must fail")
	require.NotEmpty(t, deferredByReason, "with 24 units asked of 20, some requests are deferred")

	// The shard gauges are the shard record as this block's EndBlock left it.
	shard, err := c.App.ShardKeeper.GetShard(c.Context(), 1)
	require.NoError(t, err)
	require.NotZero(t, shard.QueuedCount)
	s := gather(t, m)
	label := fmt.Sprintf("shard=%d", shard.Id)
	require.EqualValues(t, shard.QueuedCount, s.value("repshard_shard_queued_requests", label))
	require.EqualValues(t, shard.QueuedUnits, s.value("repshard_shard_queued_units", label))
	require.EqualValues(t, shard.InFlightUnits, s.value("repshard_shard_in_flight_units", label))
	require.EqualValues(t, shard.CapacityUnits, s.value("repshard_shard_capacity_units", label))
	require.EqualValues(t, shard.WorkerCount, s.value("repshard_shard_workers", label))
	require.EqualValues(t, shard.LoadPpm, s.value("repshard_shard_load_ppm", label))
	require.EqualValues(t, shard.LoadEmaPpm, s.value("repshard_shard_load_ema_ppm", label))

	// A simulation runs the handlers but commits nothing: nothing counted.
	simTx := c.SignTx(t, spare, submit(spare, 102, 1))
	_, _, err = c.App.Simulate(simTx)
	require.NoError(t, err)
	c.NextBlock(t)

	// workers[0] completes what it is given; workers[1] never reports, so its
	// assignments expire and are re-queued for workers[0].
	blocks := 2
	for ; blocks < 200; blocks++ {
		ctx := c.Context()
		var msgs []sdk.Msg
		rng := collections.NewPrefixedPairRange[sdk.AccAddress, uint64](workers[0].Address)
		require.NoError(t, c.App.DeferralKeeper.ByWorker.Walk(ctx, rng, func(key collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
			r, err := c.App.DeferralKeeper.Requests.Get(ctx, key.K2())
			if err == nil && r.Status == deferraltypes.StatusAssigned && r.Worker == workers[0].Address.String() {
				sum := sha256.Sum256(r.Payload)
				msgs = append(msgs, &deferraltypes.MsgCompleteRequest{Worker: r.Worker, RequestId: r.Id, ResultHash: sum[:]})
			}
			return false, err
		}))
		var txs [][]byte
		if len(msgs) > 0 {
			txs = append(txs, c.SignTx(t, workers[0], msgs...))
		}
		for _, res := range c.NextBlock(t, txs...) {
			require.Zero(t, res.Code, res.Log)
		}
		if open := openRequests(t, c); open == 0 {
			break
		}
	}
	require.Less(t, blocks, 200, "requests still open after 200 blocks")

	// The chain's records.
	ctx = c.Context()
	var submitted, completed, attempts float64
	require.NoError(t, c.App.DeferralKeeper.Requests.Walk(ctx, nil, func(_ uint64, r deferraltypes.Request) (bool, error) {
		submitted++
		attempts += float64(r.Attempts)
		if r.Status == deferraltypes.StatusCompleted {
			completed++
		}
		return false, nil
	}))
	require.EqualValues(t, 8, submitted)
	silentWorker, err := c.App.ShardKeeper.GetWorker(ctx, workers[1].Address)
	require.NoError(t, err)
	require.NotZero(t, silentWorker.Expired, "the silent worker let assignments expire")

	after := gather(t, m)
	delta := func(name string, labels ...string) float64 {
		return after.value(name, labels...) - before.value(name, labels...)
	}
	require.Equal(t, submitted, delta("repshard_deferral_requests_submitted"))
	require.Equal(t, completed, delta("repshard_deferral_requests_completed"))
	require.Equal(t, attempts, delta("repshard_deferral_requests_assigned"), "one assignment per attempt")
	require.Equal(t, attempts, delta("repshard_deferral_requests_assigned", label), "all in shard 1")
	require.EqualValues(t, silentWorker.Expired, delta("repshard_deferral_assignments_expired"))
	require.EqualValues(t, silentWorker.Expired, delta("repshard_deferral_requests_requeued"))
	for reason, n := range deferredByReason {
		require.Equal(t, n, delta("repshard_deferral_requests_deferred", "reason="+reason), reason)
	}
	silentProfile, found, err := c.App.ReputationKeeper.GetWorkerProfile(ctx, workers[1].Address)
	require.NoError(t, err)
	require.True(t, found)
	require.True(t, silentProfile.Unresponsive, "the silent worker let %d assignments expire in a row", silentProfile.ConsecutiveExpiries)
	require.Equal(t, 1.0, delta("repshard_reputation_workers_unresponsive"), "marked unresponsive once")
	require.Zero(t, delta("repshard_deferral_requests_failed"))
	require.Zero(t, delta("repshard_deferral_requests_expired"))

	// Every EndBlock step ran once per block; the drain's items are the
	// assignments not made at submission.
	ran := after.value("repshard_endblock_step_items_count", "module=deferral", "step=drain_queues") - blocksBefore
	require.EqualValues(t, blocks+1, ran, "drain_queues runs per block")
	for _, step := range []string{"expire_assignments", "shard_topology", "prune_finished"} {
		require.Equal(t, ran, delta("repshard_endblock_step_ms_count", "module=deferral", "step="+step), step)
	}
	require.Equal(t, ran, delta("repshard_endblock_step_items_count", "module=shard", "step=topology"))
	require.Equal(t, attempts-float64(assignedAtSubmission), delta("repshard_endblock_step_items", "module=deferral", "step=drain_queues"))
	require.Equal(t, silentWorker.Expired, uint64(delta("repshard_endblock_step_items", "module=deferral", "step=expire_assignments")))

	open, err := c.App.RewardsKeeper.GetOpenEpoch(ctx)
	require.NoError(t, err)
	require.EqualValues(t, open.Number, after.value("repshard_rewards_open_epoch"))
}

// With telemetry off (a node's default) nothing is recorded.
func TestNodeMetricsOffRecordNothing(t *testing.T) {
	m := enableTelemetry(t)
	before := gather(t, m)
	_, _ = telemetry.New(telemetry.Config{}) // off
	c := apptest.New(t, 1, nil)
	for range 3 {
		c.NextBlock(t)
	}
	telemetry.EnableTelemetry()
	after := gather(t, m)
	require.Equal(t, before.value("repshard_endblock_step_ms_count", "module=deferral", "step=drain_queues"),
		after.value("repshard_endblock_step_ms_count", "module=deferral", "step=drain_queues"))
}
