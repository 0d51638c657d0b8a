package types

// Outcome is how a requester's request finished, as x/deferral reports it.
type Outcome int

const (
	// OutcomeCompleted: a worker completed the request.
	OutcomeCompleted Outcome = iota + 1
	// OutcomeFailed: the worker reported the request failed.
	OutcomeFailed
	// OutcomeExpired: the request ran out of attempts or queue time.
	OutcomeExpired
)

// String names the outcome as events print it.
func (o Outcome) String() string {
	switch o {
	case OutcomeCompleted:
		return "completed"
	case OutcomeFailed:
		return "failed"
	case OutcomeExpired:
		return "expired"
	default:
		return "unknown"
	}
}
