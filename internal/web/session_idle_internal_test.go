package web

import (
	"context"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

// TestSessionStoreIdleTimeout: the stored expiry is the earlier of the
// absolute deadline and the last activity plus the idle timeout; activity
// moves it forward at most once per touchSlack, with no Commit (no cookie,
// no re-save); an idle session is refused from memory and from the
// database; another server (a fresh store) sees what was stored.
func TestSessionStoreIdleTimeout(t *testing.T) {
	st := storetest.NewStore(t)
	codec := newSessionCodec()
	t0 := time.Now()
	clock := t0
	ss := newSessionStore(st, codec, testBackground(t), time.Hour, 30*time.Minute, time.Minute)
	ss.now = func() time.Time { return clock }
	stored := func(token string) time.Time {
		t.Helper()
		_, exp, found, err := st.SessionByToken(context.Background(), token)
		if err != nil || !found {
			t.Fatalf("session %s: found %v, %v", token, found, err)
		}
		return exp
	}
	near := func(a, b time.Time) bool { d := a.Sub(b); return d > -time.Second && d < time.Second }

	deadline := t0.Add(3 * time.Hour)
	b, err := codec.Encode(deadline, map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Commit("tok", b, deadline); err != nil {
		t.Fatal(err)
	}
	if got := stored("tok"); !near(got, t0.Add(30*time.Minute)) {
		t.Fatalf("stored expiry %v, want last activity + idle", got.Sub(t0))
	}
	// Activity within touchSlack writes nothing.
	clock = t0.Add(30 * time.Second)
	if _, found, _ := ss.Find("tok"); !found {
		t.Fatal("active session not found")
	}
	time.Sleep(100 * time.Millisecond)
	if got := stored("tok"); !near(got, t0.Add(30*time.Minute)) {
		t.Fatalf("expiry moved within touchSlack: %v", got.Sub(t0))
	}
	// Later activity moves it, in the background.
	clock = t0.Add(10 * time.Minute)
	if _, found, _ := ss.Find("tok"); !found {
		t.Fatal("active session not found")
	}
	for i := 0; !near(stored("tok"), t0.Add(40*time.Minute)); i++ {
		if i > 100 {
			t.Fatalf("expiry not moved by activity: %v", stored("tok").Sub(t0))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Idle past the timeout: refused from memory.
	clock = t0.Add(41 * time.Minute)
	if _, found, _ := ss.Find("tok"); found {
		t.Fatal("an idle session was accepted")
	}
	// Another server reads the stored state (the database clock is real).
	other := newSessionStore(st, newSessionCodec(), testBackground(t), time.Hour, 30*time.Minute, time.Minute)
	if got, found, err := other.Find("tok"); err != nil || !found || string(got) != string(b) {
		t.Fatalf("another server: found %v, %v", found, err)
	}

	// The absolute deadline bounds the expiry.
	short := t0.Add(20 * time.Minute)
	b2, _ := codec.Encode(short, map[string]any{"k": "w"})
	clock = t0
	if err := ss.Commit("tok2", b2, short); err != nil {
		t.Fatal(err)
	}
	if got := stored("tok2"); !near(got, short) {
		t.Fatalf("expiry %v past the absolute deadline", got.Sub(t0))
	}
	// A deleted session is gone at once on this server.
	if err := ss.Delete("tok2"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := ss.Find("tok2"); found {
		t.Fatal("a deleted session was found")
	}
}
