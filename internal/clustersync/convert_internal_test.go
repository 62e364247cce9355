package clustersync

import (
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

func logOf(n, size int) []rapi.LogEntry {
	out := make([]rapi.LogEntry, n)
	for i := range out {
		out[i] = rapi.LogEntry{Serial: int64(i + 1), Type: "message", Message: strings.Repeat("x", size)}
	}
	return out
}

func TestConvertJobLogBounds(t *testing.T) {
	for _, tc := range []struct {
		name           string
		in             []rapi.LogEntry
		wantN          int
		wantFirst      int64
		wantMaxMessage int
	}{
		{"empty", nil, 0, 0, 0},
		{"small", logOf(3, 10), 3, 1, 10},
		{"many entries keep the last", logOf(store.MaxJobLogEntries+50, 10), store.MaxJobLogEntries, 51, 10},
		// 64 KB of 1 KB messages: the last 64.
		{"bytes keep the last", logOf(100, 1024), store.MaxJobLogBytes / 1024, 100 - store.MaxJobLogBytes/1024 + 1, 1024},
		{"a huge message is cut", logOf(1, 1<<20), 1, 1, maxLogMessage},
	} {
		got := convertJobLog(tc.in)
		if len(got) != tc.wantN {
			t.Errorf("%s: %d entries, want %d", tc.name, len(got), tc.wantN)
			continue
		}
		size := 0
		for _, e := range got {
			size += len(e.Message)
			if len(e.Message) > tc.wantMaxMessage {
				t.Errorf("%s: message of %d bytes", tc.name, len(e.Message))
			}
		}
		if size > store.MaxJobLogBytes {
			t.Errorf("%s: %d bytes of messages, want at most %d", tc.name, size, store.MaxJobLogBytes)
		}
		if len(got) > 0 && (got[0].Serial != tc.wantFirst || got[len(got)-1].Serial != tc.in[len(tc.in)-1].Serial) {
			t.Errorf("%s: serials %d..%d, want %d..%d", tc.name, got[0].Serial, got[len(got)-1].Serial,
				tc.wantFirst, tc.in[len(tc.in)-1].Serial)
		}
	}
	// A cut never splits a character.
	in := []rapi.LogEntry{{Serial: 1, Message: strings.Repeat("é", maxLogMessage)}}
	if got := convertJobLog(in); !strings.HasPrefix(strings.Repeat("é", maxLogMessage), got[0].Message) ||
		len(got[0].Message) > maxLogMessage || len(got[0].Message)%2 != 0 {
		t.Errorf("cut message of %d bytes is not whole characters", len(got[0].Message))
	}
}
