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
	default:
		return "unknown"
	}
}
