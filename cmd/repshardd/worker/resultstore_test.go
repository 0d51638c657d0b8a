package worker

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for the result store.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func bytesResult(content string) Result {
	sum := sha256.Sum256([]byte(content))
	return Result{Hash: sum[:], Bytes: []byte(content)}
}

func readResult(t *testing.T, s *ResultStore, id uint64) string {
	t.Helper()
	_, f, err := s.Open(id)
	require.NoError(t, err)
	defer f.Close()
	bz, err := io.ReadAll(f)
	require.NoError(t, err)
	return string(bz)
}

func objectCount(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "objects"))
	require.NoError(t, err)
	return len(entries)
}

// The store stays within its size bound (oldest out first), expires results
// by retention, shares one file between equal results, and a new instance on
// the same directory finds everything as it was.
func TestResultStoreBoundsRetentionAndRestart(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := ResultStoreConfig{Dir: dir, MaxBytes: 100, Retention: time.Hour, Now: clock.now}
	s, err := OpenResultStore(cfg)
	require.NoError(t, err)

	ten := func(c byte) string { return string([]byte{c, c, c, c, c, c, c, c, c, c}) }
	for i := range 10 { // 10 results of 10 bytes, a second apart: exactly full
		clock.t = clock.t.Add(time.Second)
		_, err := s.Put(uint64(i+1), "rep1alice", bytesResult(ten('a'+byte(i))))
		require.NoError(t, err)
	}
	n, size := s.Usage()
	require.Equal(t, 10, n)
	require.EqualValues(t, 100, size)

	// One more: the oldest (request 1) goes.
	clock.t = clock.t.Add(time.Second)
	meta, err := s.Put(11, "rep1bob", bytesResult(ten('z')))
	require.NoError(t, err)
	require.Equal(t, "rep1bob", meta.Requester)
	require.EqualValues(t, 10, meta.Size)
	require.Equal(t, clock.t.Unix(), meta.StoredAt)
	_, ok := s.Meta(1)
	require.False(t, ok, "the oldest result was not evicted")
	_, ok = s.Meta(2)
	require.True(t, ok)
	n, size = s.Usage()
	require.Equal(t, 10, n)
	require.EqualValues(t, 100, size)

	// A 35-byte result pushes out the next four oldest (2..5), not more.
	clock.t = clock.t.Add(time.Second)
	_, err = s.Put(12, "rep1alice", bytesResult(string(make([]byte, 35))))
	require.NoError(t, err)
	for id := uint64(2); id <= 5; id++ {
		_, ok := s.Meta(id)
		require.False(t, ok, "request %d", id)
	}
	_, ok = s.Meta(6)
	require.True(t, ok)
	_, size = s.Usage()
	require.LessOrEqual(t, size, int64(100))

	// Equal results share one content file.
	clock.t = clock.t.Add(time.Second)
	_, err = s.Put(13, "rep1carol", bytesResult(ten('z')))
	require.NoError(t, err)
	require.Equal(t, ten('z'), readResult(t, s, 13))
	n, size = s.Usage()
	require.Equal(t, objectCount(t, dir), n-1, "requests 11 and 13 share a file")

	// Larger than the whole store: refused, nothing evicted for it.
	_, err = s.Put(14, "rep1alice", bytesResult(string(make([]byte, 101))))
	require.ErrorIs(t, err, ErrResultTooLarge)
	n2, size2 := s.Usage()
	require.Equal(t, n, n2)
	require.Equal(t, size, size2)

	// A result file moves in by rename.
	src := filepath.Join(s.TmpDir(), "job-x")
	require.NoError(t, os.WriteFile(src, []byte("from a file"), 0o600))
	sum := sha256.Sum256([]byte("from a file"))
	_, err = s.Put(15, "rep1dave", Result{Hash: sum[:], File: src})
	require.NoError(t, err)
	require.NoFileExists(t, src)
	require.Equal(t, "from a file", readResult(t, s, 15))
	// Bytes that are not the hash's are refused.
	_, err = s.Put(16, "rep1dave", Result{Hash: sum[:], Bytes: []byte("other")})
	require.Error(t, err)

	// Restart: a new instance on the same directory has the same results.
	before := map[uint64]ResultMeta{}
	for id := uint64(1); id <= 16; id++ {
		if m, ok := s.Meta(id); ok {
			before[id] = m
		}
	}
	nBefore, sizeBefore := s.Usage()
	require.NoError(t, s.Close())
	s, err = OpenResultStore(cfg)
	require.NoError(t, err)
	for id := uint64(1); id <= 16; id++ {
		m, ok := s.Meta(id)
		want, wantOK := before[id]
		require.Equal(t, wantOK, ok, "request %d", id)
		require.Equal(t, want, m, "request %d", id)
	}
	n, size = s.Usage()
	require.Equal(t, nBefore, n)
	require.Equal(t, sizeBefore, size)
	require.Equal(t, ten('j'), readResult(t, s, 10))
	require.Equal(t, "from a file", readResult(t, s, 15))

	// Retention: an hour after request 6..10 were stored they expire, the
	// younger ones stay; after the restart too.
	clock.t = time.Unix(before[10].StoredAt, 0).Add(time.Hour)
	require.NoError(t, s.Prune())
	for id := uint64(6); id <= 10; id++ {
		_, ok := s.Meta(id)
		require.False(t, ok, "request %d outlived its retention", id)
	}
	_, ok = s.Meta(11)
	require.True(t, ok)
	require.NoError(t, s.Close())
	clock.t = clock.t.Add(time.Hour)
	s, err = OpenResultStore(cfg) // everything expired while the daemon was down
	require.NoError(t, err)
	n, size = s.Usage()
	require.Zero(t, n)
	require.Zero(t, size)
	require.Zero(t, objectCount(t, dir))
	require.NoError(t, s.Close())
}

// A crash between a content and its record: the restarted store drops a
// record without content and a content without record, and ignores a torn
// last index line.
func TestResultStoreRecoversFromACrash(t *testing.T) {
	dir := t.TempDir()
	cfg := ResultStoreConfig{Dir: dir}
	s, err := OpenResultStore(cfg)
	require.NoError(t, err)
	_, err = s.Put(1, "rep1alice", bytesResult("one"))
	require.NoError(t, err)
	_, err = s.Put(2, "rep1alice", bytesResult("two"))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	two := sha256.Sum256([]byte("two"))
	require.NoError(t, os.Remove(filepath.Join(dir, "objects", hex.EncodeToString(two[:]))))
	orphan := sha256.Sum256([]byte("orphan"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "objects", hex.EncodeToString(orphan[:])), []byte("orphan"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tmp", "in-123"), []byte("partial"), 0o600))
	f, err := os.OpenFile(filepath.Join(dir, "index.jsonl"), os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString(`{"op":"put","request_id":3,"requ`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	s, err = OpenResultStore(cfg)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, "one", readResult(t, s, 1))
	_, ok := s.Meta(2)
	require.False(t, ok)
	require.Equal(t, 1, objectCount(t, dir))
	entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
	require.NoError(t, err)
	require.Empty(t, entries)
}
