package worker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Report states kept on disk.
const (
	// stateSending: the report is signed and about to be broadcast (written
	// and synced before the broadcast, with the tx hash).
	stateSending = "sending"
	// stateCommitted: the tx is in a block and succeeded.
	stateCommitted = "committed"
	// stateRejected: the tx is in a block and failed, or CheckTx refused it
	// for good (the request is no longer this worker's to report).
	stateRejected = "rejected"
	// stateDropped: the tx never reached a block; the request may be reported again.
	stateDropped = "dropped"
	// stateLost: the assignment was no longer this worker's when it came to
	// report it (its deadline passed, the request moved on); not reported.
	stateLost = "lost"

	// Review states (records of kind "review", one per request; sending,
	// committed and rejected as above, rejected meaning the chain refused it).
	// statePending: the worker's report of the request is in a block and the
	// review is still to be sent (or to be sent again: its tx was dropped).
	statePending = "pending"
	// stateSkipped: not reviewable by this worker, so never sent: the request
	// went back to the queue after this worker's failure report (another
	// worker processes it), or the chain already holds a review of it.
	stateSkipped = "skipped"
)

// kindReview marks a review record; report records have no kind.
const kindReview = "review"

// key identifies one assignment: a request and its attempt number. A request
// re-assigned after an expiry is a new assignment.
type key struct {
	ID      uint64
	Attempt uint32
}

func (k key) String() string { return fmt.Sprintf("request %d attempt %d", k.ID, k.Attempt) }

// record is one line of the state file: the state of a report (of one
// assignment, keyed by request and attempt) or of a review (Kind "review", of
// one request: the chain takes one review per request, whatever the attempt).
type record struct {
	Kind    string `json:"kind,omitempty"` // "" (a report) or "review"
	ID      uint64 `json:"id"`
	Attempt uint32 `json:"attempt"` // the assignment reported (for a review: the one that finished the request)
	State   string `json:"state"`
	Outcome string `json:"outcome,omitempty"` // complete or fail (a review: the outcome it rates)
	Rating  uint32 `json:"rating,omitempty"`  // a review's rating, 1..5
	TxHash  string `json:"tx,omitempty"`
	Height  int64  `json:"height,omitempty"` // chain height when sent, or of the block
}

func (r record) isReview() bool { return r.Kind == kindReview }

func (r record) key() key { return key{r.ID, r.Attempt} }

// Store is the worker's durable memory of what it reported and rated: an
// append-only JSON-lines file, one line per state change, synced before each
// broadcast. A restarted daemon reads it back so it never reports an
// assignment twice nor rates a requester twice for one request.
type Store struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	last    map[key]record    // reports, by assignment
	reviews map[uint64]record // reviews, by request
}

// OpenStore opens (or creates) the state file at path, compacting it to the
// last record of each assignment.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	s := &Store{path: path, last: map[key]record{}, reviews: map[uint64]record{}}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		line := 0
		for sc.Scan() {
			line++
			var r record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				// A torn last line (killed mid-write) is ignored; anything else is corruption.
				if !sc.Scan() {
					break
				}
				f.Close()
				return nil, fmt.Errorf("%s line %d: %w", path, line, err)
			}
			s.set(r)
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := s.compact(); err != nil {
		return nil, err
	}
	return s, nil
}

// set keeps r as the last record of its assignment or review.
func (s *Store) set(r record) {
	if r.isReview() {
		s.reviews[r.ID] = r
	} else {
		s.last[r.key()] = r
	}
}

// compact rewrites the file with one line per assignment and per review
// (atomic rename).
func (s *Store) compact() error {
	keys := make([]key, 0, len(s.last))
	for k := range s.last {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ID != keys[j].ID {
			return keys[i].ID < keys[j].ID
		}
		return keys[i].Attempt < keys[j].Attempt
	})
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, k := range keys {
		bz, _ := json.Marshal(s.last[k])
		w.Write(append(bz, '\n')) //nolint:errcheck // checked by Flush
	}
	ids := make([]uint64, 0, len(s.reviews))
	for id := range s.reviews {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		bz, _ := json.Marshal(s.reviews[id])
		w.Write(append(bz, '\n')) //nolint:errcheck // checked by Flush
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	s.f, err = os.OpenFile(s.path, os.O_APPEND|os.O_WRONLY, 0o600)
	return err
}

// Put appends records and syncs the file.
func (s *Store) Put(rs ...record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf []byte
	for _, r := range rs {
		bz, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf = append(append(buf, bz...), '\n')
	}
	if _, err := s.f.Write(buf); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	for _, r := range rs {
		s.set(r)
	}
	return nil
}

// Get returns the last record of an assignment (a report, never a review).
func (s *Store) Get(k key) (record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.last[k]
	return r, ok
}

// Review returns the last review record of a request.
func (s *Store) Review(id uint64) (record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reviews[id]
	return r, ok
}

// Reviews returns the review records whose last state is state, by request id.
func (s *Store) Reviews(state string) []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []record
	for _, r := range s.reviews {
		if r.State == state {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Sending returns the assignments whose last state is "sending": their tx
// was (perhaps) broadcast but its outcome is unknown. Reviews are listed by
// Reviews(stateSending).
func (s *Store) Sending() []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []record
	for _, r := range s.last {
		if r.State == stateSending {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}
