// Package outcome names how a request ended for the worker and requester
// involved. It is a leaf package: x/deferral reports outcomes, and x/shard
// (worker counters) and x/reputation (requester profiles) count them, without
// either importing the other.
package outcome

// Outcome is how an assignment or request ended.
type Outcome int

const (
	// Completed: a worker completed the request.
	Completed Outcome = iota + 1
	// Failed: the worker reported the request failed.
	Failed
	// Expired: the request ran out of attempts or queue time.
	Expired
	// Released: the request was taken from the worker through no doing of
	// the worker (the requester cancelled it, or the requester's own
	// deadline ran out): the worker's capacity is freed and nothing is
	// counted on it.
	Released
)

// String names the outcome as events print it.
func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Failed:
		return "failed"
	case Expired:
		return "expired"
	case Released:
		return "released"
	default:
		return "unknown"
	}
}

// WorkerOutcome is what one assignment of a request says about the worker
// that held it; x/deferral reports it and x/reputation counts it on the
// worker's profile.
type WorkerOutcome int

const (
	// WorkerCompleted: the worker completed the request (alone, or as a
	// replica whose hash became the result).
	WorkerCompleted WorkerOutcome = iota + 1
	// WorkerExpired: the worker let its assignment expire.
	WorkerExpired
	// WorkerFailureConfirmed: the worker reported a failure and enough other
	// workers reported failure too: the report was honest.
	WorkerFailureConfirmed
	// WorkerFailureContradicted: the worker reported a failure and another
	// worker then completed the request: the report was false.
	WorkerFailureContradicted
	// WorkerQuorumAgreed: a replica whose hash matched the quorum.
	WorkerQuorumAgreed
	// WorkerQuorumDisagreed: a replica whose hash differed from the quorum.
	WorkerQuorumDisagreed
)

// String names the worker outcome as events print it.
func (o WorkerOutcome) String() string {
	switch o {
	case WorkerCompleted:
		return "completed"
	case WorkerExpired:
		return "expired"
	case WorkerFailureConfirmed:
		return "failure_confirmed"
	case WorkerFailureContradicted:
		return "failure_contradicted"
	case WorkerQuorumAgreed:
		return "quorum_agreed"
	case WorkerQuorumDisagreed:
		return "quorum_disagreed"
	default:
		return "unknown"
	}
}
