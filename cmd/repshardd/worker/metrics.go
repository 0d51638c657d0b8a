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
	Lost      prometheus.Counter
	InFlight  prometheus.Gauge

	ReviewsSent    prometheus.Counter
	ReviewsRefused prometheus.Counter
	ReviewsSkipped prometheus.Counter
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
			Help: "Reports the chain refused for another reason than a lost assignment.",
		}),
		Lost: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "lost_total",
			Help: "Assignments no longer this worker's when it came to report them (deadline passed, request re-queued or re-assigned): dropped, not reported.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "repshard_worker", Name: "in_flight",
			Help: "Assignments picked up and not yet reported in a block.",
		}),
		ReviewsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "reviews_sent_total",
			Help: "Ratings of requesters (MsgSubmitReview) in a block.",
		}),
		ReviewsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "reviews_refused_total",
			Help: "Ratings the chain refused (e.g. a duplicate, or the worker's bond gone); not retried.",
		}),
		ReviewsSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "repshard_worker", Name: "reviews_skipped_total",
			Help: "Ratings not sent: the request was not this worker's to rate (re-queued after its failure report) or already rated.",
		}),
	}
	m.Registry.MustRegister(m.Assigned, m.Completed, m.Failed, m.Rejected, m.Lost, m.InFlight,
		m.ReviewsSent, m.ReviewsRefused, m.ReviewsSkipped)
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

func (m *Metrics) lost() {
	if m != nil {
		m.Lost.Inc()
	}
}

func (m *Metrics) reviewSent() {
	if m != nil {
		m.ReviewsSent.Inc()
	}
}

func (m *Metrics) reviewRefused() {
	if m != nil {
		m.ReviewsRefused.Inc()
	}
}

func (m *Metrics) reviewSkipped() {
	if m != nil {
		m.ReviewsSkipped.Inc()
	}
}
