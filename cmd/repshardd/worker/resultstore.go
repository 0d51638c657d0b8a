package worker

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Result store defaults (--result-retention, --result-store-max-bytes).
const (
	DefaultResultRetention     = 7 * 24 * time.Hour
	DefaultResultStoreMaxBytes = 1 << 30
)

// ResultMeta is the record of one kept result: whose request it was, so the
// result server can tell who may fetch it after the chain pruned the
// request, and what was reported.
type ResultMeta struct {
	RequestID  uint64 `json:"request_id"`
	Requester  string `json:"requester"`
	ResultHash string `json:"result_hash"` // hex sha256 of the content, as reported on chain
	Size       int64  `json:"size"`
	StoredAt   int64  `json:"stored_at"` // unix seconds
	// Seq orders the results stored in one second: the oldest goes first.
	Seq uint64 `json:"seq"`
}

// ResultStoreConfig configures a ResultStore.
type ResultStoreConfig struct {
	// Dir holds the store: objects/<hex sha256> (the contents), index.jsonl
	// (the metadata log) and tmp/ (files on their way in, and the jobs'
	// working directories).
	Dir string
	// Retention: a result older than this is removed (default 7 days).
	Retention time.Duration
	// MaxBytes bounds the contents' total size; the oldest results go first
	// (default 1 GiB). A result larger than MaxBytes alone is not kept.
	MaxBytes int64
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// ResultStore keeps the results the worker reported, content-addressed by
// their sha256 (two requests with the same result share one file), with a
// metadata record per request in an append-only JSON-lines log that is
// replayed and compacted at open, so the store survives a restart. It is the
// same technique as the state file (Store), in its own file: results come
// and go by age and size, reports stay until the request is done.
type ResultStore struct {
	mu    sync.Mutex
	cfg   ResultStoreConfig
	index *os.File
	lines int // lines in the index log, for compaction

	metas map[uint64]ResultMeta // by request id
	refs  map[string]int        // requests per content hash
	sizes map[string]int64      // content sizes, by hash
	total int64                 // sum of sizes
	seq   uint64                // the last Seq given
}

// ErrResultTooLarge: a result larger than the whole store is not kept.
var ErrResultTooLarge = errors.New("result larger than --result-store-max-bytes")

// indexLine is one line of index.jsonl.
type indexLine struct {
	Op string `json:"op"` // "put" or "del"
	ResultMeta
}

// OpenResultStore opens (or creates) the store in cfg.Dir: it replays the
// index, drops the records whose content is missing and the contents no
// record names (a crash between the two writes), removes what is past its
// retention or over the size bound, and compacts the index.
func OpenResultStore(cfg ResultStoreConfig) (*ResultStore, error) {
	if cfg.Dir == "" {
		return nil, errors.New("result store: no directory")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultResultRetention
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultResultStoreMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &ResultStore{cfg: cfg, metas: map[uint64]ResultMeta{}, refs: map[string]int{}, sizes: map[string]int64{}}
	for _, d := range []string{s.objectsDir(), s.TmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("result store: %w", err)
		}
	}
	// Files on their way in when the daemon stopped are of no use now.
	if entries, err := os.ReadDir(s.TmpDir()); err == nil {
		for _, e := range entries {
			os.RemoveAll(filepath.Join(s.TmpDir(), e.Name()))
		}
	}
	if err := s.replay(); err != nil {
		return nil, err
	}
	// Records whose content is gone are dropped; contents no record names are removed.
	for id, m := range s.metas {
		st, err := os.Stat(s.objectPath(m.ResultHash))
		if err != nil || st.Size() != m.Size {
			delete(s.metas, id)
		}
	}
	for _, m := range s.metas {
		s.refs[m.ResultHash]++
		if _, ok := s.sizes[m.ResultHash]; !ok {
			s.sizes[m.ResultHash] = m.Size
			s.total += m.Size
		}
	}
	if entries, err := os.ReadDir(s.objectsDir()); err == nil {
		for _, e := range entries {
			if s.refs[e.Name()] == 0 {
				os.Remove(filepath.Join(s.objectsDir(), e.Name()))
			}
		}
	}
	if err := s.compact(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.pruneLocked(); err != nil {
		s.index.Close()
		return nil, err
	}
	return s, nil
}

// Dir is the store's directory.
func (s *ResultStore) Dir() string { return s.cfg.Dir }

func (s *ResultStore) objectsDir() string { return filepath.Join(s.cfg.Dir, "objects") }

func (s *ResultStore) indexPath() string { return filepath.Join(s.cfg.Dir, "index.jsonl") }

// TmpDir is where files on their way into the store are written (the same
// file system, so they move in by rename); emptied at open.
func (s *ResultStore) TmpDir() string { return filepath.Join(s.cfg.Dir, "tmp") }

func (s *ResultStore) objectPath(hexHash string) string {
	return filepath.Join(s.objectsDir(), hexHash)
}

// replay reads index.jsonl into s.metas.
func (s *ResultStore) replay() error {
	f, err := os.Open(s.indexPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("result store: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		var l indexLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || !validIndexLine(l) {
			// A torn last line (killed mid-write) is ignored; anything else is corruption.
			if !sc.Scan() {
				break
			}
			return fmt.Errorf("result store: %s line %d: not a result record", s.indexPath(), line)
		}
		if l.Op == "put" {
			s.metas[l.RequestID] = l.ResultMeta
			s.seq = max(s.seq, l.Seq)
		} else {
			delete(s.metas, l.RequestID)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("result store: read %s: %w", s.indexPath(), err)
	}
	return nil
}

func validIndexLine(l indexLine) bool {
	switch l.Op {
	case "del":
		return true
	case "put":
		h, err := hex.DecodeString(l.ResultHash)
		return err == nil && len(h) == sha256.Size && hex.EncodeToString(h) == l.ResultHash && l.Size >= 0
	}
	return false
}

// compact rewrites the index with one line per kept result (atomic rename).
func (s *ResultStore) compact() error {
	if s.index != nil {
		s.index.Close()
		s.index = nil
	}
	ids := make([]uint64, 0, len(s.metas))
	for id := range s.metas {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var buf bytes.Buffer
	for _, id := range ids {
		bz, err := json.Marshal(indexLine{Op: "put", ResultMeta: s.metas[id]})
		if err != nil {
			return err
		}
		buf.Write(append(bz, '\n'))
	}
	tmp := s.indexPath() + ".tmp"
	if err := writeFileSync(tmp, buf.Bytes()); err != nil {
		return fmt.Errorf("result store: %w", err)
	}
	if err := os.Rename(tmp, s.indexPath()); err != nil {
		return fmt.Errorf("result store: %w", err)
	}
	f, err := os.OpenFile(s.indexPath(), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("result store: %w", err)
	}
	s.index, s.lines = f, len(ids)
	return nil
}

// appendLocked writes index lines and syncs them; the log is compacted when
// it has grown well past the records it holds.
func (s *ResultStore) appendLocked(lines ...indexLine) error {
	var buf []byte
	for _, l := range lines {
		bz, err := json.Marshal(l)
		if err != nil {
			return err
		}
		buf = append(append(buf, bz...), '\n')
	}
	if _, err := s.index.Write(buf); err != nil {
		return fmt.Errorf("result store: %w", err)
	}
	if err := s.index.Sync(); err != nil {
		return fmt.Errorf("result store: %w", err)
	}
	s.lines += len(lines)
	if s.lines > 2*len(s.metas)+1024 {
		return s.compact()
	}
	return nil
}

// Put keeps res (its Bytes, or its File, which is moved into the store) as
// the result of request requestID of requester, replacing an earlier one of
// that request. Then the expired
// and, over MaxBytes, the oldest results are removed.
func (s *ResultStore) Put(requestID uint64, requester string, res Result) (ResultMeta, error) {
	if len(res.Hash) != sha256.Size || !res.Kept() {
		return ResultMeta{}, errors.New("result store: no result bytes to keep")
	}
	hexHash := hex.EncodeToString(res.Hash)
	var size int64
	if res.File != "" {
		st, err := os.Stat(res.File)
		if err != nil {
			return ResultMeta{}, fmt.Errorf("result store: %w", err)
		}
		size = st.Size()
	} else {
		if sum := sha256.Sum256(res.Bytes); !bytes.Equal(sum[:], res.Hash) {
			return ResultMeta{}, errors.New("result store: the result bytes do not have the result hash")
		}
		size = int64(len(res.Bytes))
	}
	if size > s.cfg.MaxBytes {
		return ResultMeta{}, fmt.Errorf("%w: %d bytes, the store holds %d", ErrResultTooLarge, size, s.cfg.MaxBytes)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeObjectLocked(hexHash, res); err != nil {
		return ResultMeta{}, err
	}
	s.seq++
	meta := ResultMeta{RequestID: requestID, Requester: requester, ResultHash: hexHash, Size: size, StoredAt: s.cfg.Now().Unix(), Seq: s.seq}
	if err := s.appendLocked(indexLine{Op: "put", ResultMeta: meta}); err != nil {
		s.releaseLocked(hexHash) // the content is no one's if the record did not make it
		return ResultMeta{}, err
	}
	if old, ok := s.metas[requestID]; ok {
		s.releaseLocked(old.ResultHash)
	}
	s.metas[requestID] = meta
	return meta, s.pruneLocked()
}

// writeObjectLocked puts the content under objects/ (unless the same
// content is there already) and counts one more reference to it.
func (s *ResultStore) writeObjectLocked(hexHash string, res Result) error {
	dst := s.objectPath(hexHash)
	if s.refs[hexHash] == 0 {
		var err error
		if res.File != "" {
			err = moveFile(res.File, dst, s.TmpDir())
		} else {
			err = writeFileAtomic(dst, res.Bytes, s.TmpDir())
		}
		if err != nil {
			return fmt.Errorf("result store: %w", err)
		}
		st, err := os.Stat(dst)
		if err != nil {
			return fmt.Errorf("result store: %w", err)
		}
		s.sizes[hexHash] = st.Size()
		s.total += st.Size()
	} else if res.File != "" {
		os.Remove(res.File) // the store holds this content already
	}
	s.refs[hexHash]++
	return nil
}

// releaseLocked drops one reference to a content, removing it with the last.
func (s *ResultStore) releaseLocked(hexHash string) {
	s.refs[hexHash]--
	if s.refs[hexHash] > 0 {
		return
	}
	delete(s.refs, hexHash)
	s.total -= s.sizes[hexHash]
	delete(s.sizes, hexHash)
	os.Remove(s.objectPath(hexHash))
}

// removeLocked forgets the results of requests.
func (s *ResultStore) removeLocked(ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	lines := make([]indexLine, len(ids))
	for i, id := range ids {
		lines[i] = indexLine{Op: "del", ResultMeta: ResultMeta{RequestID: id}}
	}
	if err := s.appendLocked(lines...); err != nil {
		return err
	}
	for _, id := range ids {
		m := s.metas[id]
		delete(s.metas, id)
		s.releaseLocked(m.ResultHash)
	}
	return nil
}

// Prune removes the results past their retention, then the oldest ones
// while the store is over MaxBytes. Put does it too; the daemon also runs it
// on a timer so results expire while no new ones come in.
func (s *ResultStore) Prune() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pruneLocked()
}

func (s *ResultStore) pruneLocked() error {
	oldest := make([]ResultMeta, 0, len(s.metas))
	for _, m := range s.metas {
		oldest = append(oldest, m)
	}
	sort.Slice(oldest, func(i, j int) bool {
		if oldest[i].StoredAt != oldest[j].StoredAt {
			return oldest[i].StoredAt < oldest[j].StoredAt
		}
		return oldest[i].Seq < oldest[j].Seq
	})
	cutoff := s.cfg.Now().Add(-s.cfg.Retention).Unix()
	var remove []uint64
	total := s.total
	refs := map[string]int{}
	for _, m := range oldest {
		expired := m.StoredAt <= cutoff
		if !expired && total <= s.cfg.MaxBytes {
			break // sorted by age: nothing younger is expired either
		}
		remove = append(remove, m.RequestID)
		refs[m.ResultHash]++
		if refs[m.ResultHash] == s.refs[m.ResultHash] { // its last reference: the content goes
			total -= s.sizes[m.ResultHash]
		}
	}
	return s.removeLocked(remove)
}

// Meta returns the record of a request's result.
func (s *ResultStore) Meta(requestID uint64) (ResultMeta, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.metas[requestID]
	return m, ok
}

// Open opens a request's result content. The file stays readable to the
// caller even if the store removes it meanwhile (an unlinked open file).
func (s *ResultStore) Open(requestID uint64) (ResultMeta, *os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.metas[requestID]
	if !ok {
		return ResultMeta{}, nil, os.ErrNotExist
	}
	f, err := os.Open(s.objectPath(m.ResultHash))
	if err != nil {
		return ResultMeta{}, nil, err
	}
	return m, f, nil
}

// Usage returns how many results are kept and their contents' total size.
func (s *ResultStore) Usage() (results int, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.metas), s.total
}

// Close closes the index.
func (s *ResultStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index == nil {
		return nil
	}
	err := s.index.Close()
	s.index = nil
	return err
}

// writeFileSync writes and syncs a new file.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFileAtomic writes data to dst through a synced file in tmpDir.
func writeFileAtomic(dst string, data []byte, tmpDir string) error {
	f, err := os.CreateTemp(tmpDir, "in-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	if err := writeFileSync(tmp, data); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// moveFile moves src to dst: a rename, or a copy through tmpDir when they
// are on different file systems.
func moveFile(src, dst, tmpDir string) error {
	if f, err := os.Open(src); err == nil { // the content is on disk before its record is
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	err := os.Rename(src, dst)
	var linkErr *os.LinkError
	if err == nil || !errors.As(err, &linkErr) || !errors.Is(linkErr.Err, syscall.EXDEV) {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(tmpDir, "in-")
	if err != nil {
		return err
	}
	tmp := out.Name()
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	out.Close()
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Remove(src)
}
