package worker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The state file survives a restart: the last record of each assignment
// wins, "sending" records are listed for the tracker, and a torn last line
// (a daemon killed mid-write) is ignored.
func TestStoreReopenKeepsLastStateAndToleratesTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w", "state.jsonl")
	s, err := OpenStore(path)
	require.NoError(t, err)
	require.NoError(t, s.Put(
		record{ID: 1, Attempt: 1, State: stateSending, Outcome: "complete", TxHash: "AA"},
		record{ID: 2, Attempt: 1, State: stateSending, Outcome: "fail", TxHash: "AA"},
	))
	require.NoError(t, s.Put(record{ID: 1, Attempt: 1, State: stateCommitted, TxHash: "AA", Height: 7}))
	require.NoError(t, s.Put(record{ID: 3, Attempt: 2, State: stateDropped, TxHash: "BB"}))
	require.NoError(t, s.Close())

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString(`{"id":4,"attempt":1,"sta`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	s, err = OpenStore(path)
	require.NoError(t, err)
	defer s.Close()
	r, ok := s.Get(key{1, 1})
	require.True(t, ok)
	require.Equal(t, stateCommitted, r.State)
	require.EqualValues(t, 7, r.Height)
	sending := s.Sending()
	require.Len(t, sending, 1)
	require.EqualValues(t, 2, sending[0].ID)
	_, ok = s.Get(key{4, 1})
	require.False(t, ok, "the torn line is ignored")
	_, ok = s.Get(key{3, 1})
	require.False(t, ok, "attempts are distinct assignments")

	// Compaction left one line per assignment.
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 3, len(splitLines(bz)))
}

// A corrupt line in the middle is an error, not silently skipped.
func TestStoreRejectsCorruptMiddleLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("{\"id\":1,\"attempt\":1,\"state\":\"committed\"}\nnot json\n{\"id\":2,\"attempt\":1,\"state\":\"committed\"}\n"), 0o600))
	_, err := OpenStore(path)
	require.ErrorContains(t, err, "line 2")
}

func splitLines(bz []byte) []string {
	var out []string
	start := 0
	for i, b := range bz {
		if b == '\n' {
			out = append(out, string(bz[start:i]))
			start = i + 1
		}
	}
	return out
}
