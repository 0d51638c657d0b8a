package types

// HeldBy reports whether worker (a bech32 address) holds r now: r is
// ASSIGNED and worker is its worker or runs one of its replicas that has not
// reported yet. Workers and clients use it to tell whether a report of
// theirs can still be accepted.
func (r Request) HeldBy(worker string) bool {
	if r.Status != StatusAssigned || worker == "" {
		return false
	}
	if r.Replicas <= 1 {
		return r.Worker == worker
	}
	for _, run := range r.ReplicaRuns {
		if run.Worker == worker && run.Status == ReplicaRunning {
			return true
		}
	}
	return false
}
