package worker

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the daemon's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	Registry  *prometheus.Registry
	Assigned  prometheus.Counter
	Completed prometheus.Counter
	Failed    prometheus.Counter
	Rejected  prometheus.Counter
	InFlight  prometheus.Gauge
}

// NewMetrics registers the metrics in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Assigned: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "assigned_total",
			Help: "Assignments picked up (a re-assignment after an expiry counts again).",
		}),
		Completed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "completed_total",
			Help: "Requests reported completed (MsgCompleteRequest in a block).",
		}),
		Failed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "failed_total",
			Help: "Requests reported failed (MsgFailRequest in a block).",
		}),
		Rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "rejected_total",
			Help: "Reports the chain refused (e.g. sent after the deadline).",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "repshard_worker", Name: "in_flight",
			Help: "Assignments picked up and not yet reported in a block.",
		}),
	}
	m.Registry.MustRegister(m.Assigned, m.Completed, m.Failed, m.Rejected, m.InFlight)
	return m
}

func (m *Metrics) assigned() {
	if m != nil {
		m.Assigned.Inc()
		m.InFlight.Inc()
	}
}

func (m *Metrics) finished() {
	if m != nil {
		m.InFlight.Dec()
	}
}

func (m *Metrics) completed() {
	if m != nil {
		m.Completed.Inc()
	}
}

func (m *Metrics) failed() {
	if m != nil {
		m.Failed.Inc()
	}
}

func (m *Metrics) rejected() {
	if m != nil {
		m.Rejected.Inc()
	}
}
