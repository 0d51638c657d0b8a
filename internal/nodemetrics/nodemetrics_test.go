package nodemetrics_test

import (
	"bytes"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/telemetry"

	"github.com/repshard/repshard/internal/nodemetrics"
)

// scrape gathers the Prometheus text format the node's API serves and finds
// the sample of family name with the given label values.
func scrape(t *testing.T, m *telemetry.Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	res, err := m.Gather(telemetry.FormatPrometheus)
	require.NoError(t, err)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(bytes.NewReader(res.Metrics))
	require.NoError(t, err)
	fam := fams[name]
	if fam == nil {
		return nil
	}
	for _, s := range fam.Metric {
		got := map[string]string{}
		for _, l := range s.Label {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) == len(labels) {
			match := true
			for k, v := range labels {
				match = match && got[k] == v
			}
			if match {
				return s
			}
		}
	}
	return nil
}

// Every recorder reaches the Prometheus scrape under its documented name and
// labels when telemetry is on, and records nothing when it is off.
func TestRecordersReachThePrometheusScrape(t *testing.T) {
	// Off (a node's default): nothing is recorded, Start reads no clock.
	require.False(t, nodemetrics.Enabled())
	nodemetrics.ItemQuarantined("deferral", "drain_queues")
	require.Zero(t, nodemetrics.Start())

	m, err := telemetry.New(telemetry.Config{Enabled: true, PrometheusRetentionTime: 60})
	require.NoError(t, err)
	require.True(t, nodemetrics.Enabled())
	t.Cleanup(func() { _, _ = telemetry.New(telemetry.Config{}) })

	nodemetrics.ItemQuarantined("deferral", "expire_assignments")
	nodemetrics.ItemQuarantined("deferral", "expire_assignments")
	nodemetrics.ItemQuarantined("shard", "bond_releases")
	q := scrape(t, m, "repshard_endblock_items_quarantined", map[string]string{"module": "deferral", "step": "expire_assignments"})
	require.NotNil(t, q)
	require.Equal(t, 2.0, q.GetCounter().GetValue())
	require.Equal(t, 1.0, scrape(t, m, "repshard_endblock_items_quarantined", map[string]string{"module": "shard", "step": "bond_releases"}).GetCounter().GetValue())
	require.Nil(t, scrape(t, m, "repshard_endblock_items_quarantined", map[string]string{"module": "deferral", "step": "drain_queues"}),
		"recorded while telemetry was off")

	nodemetrics.SetShardLoad(nodemetrics.ShardLoad{ID: 7, Class: "SHARD_CLASS_HIGH_PRIORITY", QueuedRequests: 12, QueuedUnits: 30,
		InFlightUnits: 40, CapacityUnits: 100, Workers: 2, LoadPpm: 700_000, LoadEmaPpm: 650_000})
	shard := map[string]string{"shard": "7", "class": "SHARD_CLASS_HIGH_PRIORITY"}
	for name, want := range map[string]float64{
		"repshard_shard_queued_requests": 12, "repshard_shard_queued_units": 30, "repshard_shard_in_flight_units": 40,
		"repshard_shard_capacity_units": 100, "repshard_shard_workers": 2, "repshard_shard_load_ppm": 700_000,
		"repshard_shard_load_ema_ppm": 650_000,
	} {
		g := scrape(t, m, name, shard)
		require.NotNil(t, g, name)
		require.Equal(t, want, g.GetGauge().GetValue(), name)
	}

	nodemetrics.SetOpenEpoch(41)
	require.Equal(t, 41.0, scrape(t, m, "repshard_rewards_open_epoch", map[string]string{}).GetGauge().GetValue())

	step := map[string]string{"module": "deferral", "step": "drain_queues"}
	sw := nodemetrics.Start()
	require.NotZero(t, sw)
	nodemetrics.EndBlockStep("deferral", "drain_queues", sw, 5)
	nodemetrics.EndBlockStep("deferral", "drain_queues", nodemetrics.Start(), 3)
	items := scrape(t, m, "repshard_endblock_step_items", step)
	require.NotNil(t, items)
	require.EqualValues(t, 2, items.GetSummary().GetSampleCount())
	require.Equal(t, 8.0, items.GetSummary().GetSampleSum())
	ms := scrape(t, m, "repshard_endblock_step_ms", step)
	require.NotNil(t, ms)
	require.EqualValues(t, 2, ms.GetSummary().GetSampleCount())
	require.GreaterOrEqual(t, ms.GetSummary().GetSampleSum(), 0.0)
}
