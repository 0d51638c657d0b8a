//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/types/query"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	rewardstypes "github.com/repshard/repshard/x/rewards/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

// restBase is node0's REST API port before the offset: the node serves its
// metrics there (scripts/localnet.sh turns telemetry on).
const restBase = 1317

// metricsURL is node i's Prometheus endpoint.
func (n *network) metricsURL(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics?format=prometheus", restBase+n.offset+100*i)
}

// promScrape is one scrape of a node's metrics, by family name.
type promScrape map[string]*dto.MetricFamily

// scrapeMetrics scrapes node i's Prometheus endpoint.
func (n *network) scrapeMetrics(t *testing.T, i int) promScrape {
	t.Helper()
	res, err := http.Get(n.metricsURL(i))
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", n.metricsURL(i), body)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return fams
}

// value sums the samples of family name whose labels include want
// ("name=value"): a counter's or gauge's value, a summary's sample sum, or
// with the suffix "_count" its sample count. found is false when no sample
// matched.
func (s promScrape) value(name string, want ...string) (v float64, found bool) {
	count := strings.HasSuffix(name, "_count")
	fam := s[strings.TrimSuffix(name, "_count")]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for _, kv := range want {
			k, val, _ := strings.Cut(kv, "=")
			match = match && labels[k] == val
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Summary != nil && count:
			v += float64(m.Summary.GetSampleCount())
		case m.Summary != nil:
			v += m.Summary.GetSampleSum()
		}
	}
	return v, found
}

func (s promScrape) must(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	v, found := s.value(name, want...)
	require.True(t, found, "no metric %s%v in the scrape", name, want)
	return v
}

// 2. Node metrics: after the load, every node's Prometheus endpoint reports
// the request lifecycle exactly as the chain records it (requests,
// assignments = attempts, completions, failures), the shard gauges as the
// shard records, one EndBlock step sample per block, and the open epoch.
// Every node has run every block since genesis in this process, so its
// counters cover the whole chain.
func testNodeMetrics(t *testing.T, n *network) {
	ctx := context.Background()
	var submitted, completed, failed, attempts float64
	for _, st := range []deferraltypes.RequestStatus{deferraltypes.StatusCompleted, deferraltypes.StatusFailed,
		deferraltypes.StatusExpired, deferraltypes.StatusCancelled, deferraltypes.StatusQueued, deferraltypes.StatusAssigned} {
		var key []byte
		for {
			res, err := n.query().RequestsByStatus(ctx, &deferraltypes.QueryRequestsByStatusRequest{Status: st, Pagination: &query.PageRequest{Key: key, Limit: 200}})
			require.NoError(t, err)
			for _, r := range res.Requests {
				submitted++
				attempts += float64(r.Attempts)
				switch r.Status {
				case deferraltypes.StatusCompleted:
					completed++
				case deferraltypes.StatusFailed:
					failed++
				}
			}
			if key = res.Pagination.GetNextKey(); len(key) == 0 {
				break
			}
		}
	}
	require.NotZero(t, completed)

	for i := range nodes {
		s := n.scrapeMetrics(t, i)
		require.Equal(t, submitted, s.must(t, "repshard_deferral_requests_submitted"), "node%d submitted", i)
		require.Equal(t, attempts, s.must(t, "repshard_deferral_requests_assigned"), "node%d assigned: one per attempt", i)
		require.Equal(t, completed, s.must(t, "repshard_deferral_requests_completed"), "node%d completed", i)
		require.Equal(t, failed, s.must(t, "repshard_deferral_requests_failed"), "node%d failed", i)
		deferred, _ := s.value("repshard_deferral_requests_deferred")
		require.LessOrEqual(t, deferred, submitted, "node%d deferred", i)
	}
	t.Logf("all 4 nodes: %v requests submitted, %v assignments, %v completed, %v failed", submitted, attempts, completed, failed)

	// Gauges and summaries against the state read around one scrape of node0
	// (read again when a block changed the shards in between).
	shardsNow := func() []shardtypes.Shard {
		res, err := shardtypes.NewQueryClient(n.grpcConn).Shards(ctx, &shardtypes.QueryShardsRequest{})
		require.NoError(t, err)
		return res.Shards
	}
	epochNow := func() uint64 {
		res, err := rewardstypes.NewQueryClient(n.grpcConn).Epoch(ctx, &rewardstypes.QueryEpochRequest{})
		require.NoError(t, err)
		return res.Current.Number
	}
	var s promScrape
	var shards []shardtypes.Shard
	var h0, h1 int64
	var e0, e1 uint64
	n.waitFor(t, "a scrape of node0 while its shards do not change", 60, func() bool {
		h0, e0 = n.height(0), epochNow()
		shards = shardsNow()
		s = n.scrapeMetrics(t, 0)
		h1, e1 = n.height(0), epochNow()
		after := shardsNow()
		if len(after) != len(shards) {
			return false
		}
		for k := range shards {
			a, b := shards[k], after[k]
			if a.Status != b.Status || a.QueuedCount != b.QueuedCount || a.InFlightUnits != b.InFlightUnits ||
				a.CapacityUnits != b.CapacityUnits || a.WorkerCount != b.WorkerCount {
				return false
			}
		}
		return true
	})
	checked := 0
	for _, sh := range shards {
		if sh.Status != shardtypes.ShardActive {
			continue
		}
		label := fmt.Sprintf("shard=%d", sh.Id)
		require.EqualValues(t, sh.QueuedCount, s.must(t, "repshard_shard_queued_requests", label), "shard %d", sh.Id)
		require.EqualValues(t, sh.QueuedUnits, s.must(t, "repshard_shard_queued_units", label), "shard %d", sh.Id)
		require.EqualValues(t, sh.InFlightUnits, s.must(t, "repshard_shard_in_flight_units", label), "shard %d", sh.Id)
		require.EqualValues(t, sh.CapacityUnits, s.must(t, "repshard_shard_capacity_units", label), "shard %d", sh.Id)
		require.EqualValues(t, sh.WorkerCount, s.must(t, "repshard_shard_workers", label), "shard %d", sh.Id)
		checked++
	}
	require.NotZero(t, checked)
	// One sample of each EndBlock step per block this process ran
	// (blocks 1..h; the block being executed may be counted already).
	for _, step := range []string{"expire_assignments", "drain_queues", "shard_topology", "prune_finished"} {
		c := s.must(t, "repshard_endblock_step_ms_count", "module=deferral", "step="+step)
		require.GreaterOrEqual(t, c, float64(h0), "step %s samples", step)
		require.LessOrEqual(t, c, float64(h1+1), "step %s samples", step)
	}
	require.Equal(t, s.must(t, "repshard_endblock_step_ms_count", "module=deferral", "step=drain_queues"),
		s.must(t, "repshard_endblock_step_items_count", "module=shard", "step=topology"))
	drained := s.must(t, "repshard_endblock_step_items", "module=deferral", "step=drain_queues")
	require.LessOrEqual(t, drained, attempts, "assignments made by the drain")
	require.Positive(t, drained, "the load queued requests that the drain assigned")
	// The gauge is set in each EndBlock before the close: the epoch open
	// then, which a close in the last block may have moved on by one.
	epoch := s.must(t, "repshard_rewards_open_epoch")
	require.GreaterOrEqual(t, epoch, float64(e0)-1)
	require.LessOrEqual(t, epoch, float64(e1))
	ms := s.must(t, "repshard_endblock_step_ms", "module=deferral", "step=drain_queues")
	t.Logf("node0 at heights %d-%d: %d active shard(s) match their records; drain: %v assignments in %.0f ms over %v blocks; open epoch %v",
		h0, h1, checked, drained, ms, s.must(t, "repshard_endblock_step_ms_count", "module=deferral", "step=drain_queues"), epoch)
}
