package clustersync_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	rapiUser = "ganetimgr"
	rapiPass = "s3cret-rapi-password"
)

// env is one test's database with helpers.
type env struct {
	t    testing.TB
	pool *pgxpool.Pool
	st   *store.Store
	box  *secretbox.Box
}

func newEnv(t testing.TB) *env {
	t.Helper()
	pool := pgtest.NewPool(t)
	box, err := secretbox.New([]byte("0123456789abcdef0123456789abcdef"), "rapi-password")
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, pool: pool, st: store.New(pool), box: box}
}

// fake starts a fake cluster accepting rapiUser/rapiPass.
func (e *env) fake(opts rapifake.Options) *rapifake.Cluster {
	e.t.Helper()
	opts.Users = []rapifake.User{{Name: rapiUser, Password: rapiPass, Write: true}}
	if opts.JobDelay == 0 {
		opts.JobDelay = rapifake.NoJobDelay
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	f, err := rapifake.NewCluster(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := f.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	return f
}

// register inserts a cluster row for a fake (test setup only; the admin
// pages create clusters in production).
func (e *env) register(slug string, f *rapifake.Cluster, password string) *store.Cluster {
	e.t.Helper()
	return e.registerAt(slug, f.Host(), f.Port(), rapiUser, password, f.Fingerprint())
}

func (e *env) registerAt(slug, host string, port int, user, password, fingerprint string) *store.Cluster {
	e.t.Helper()
	sealed, err := e.box.Seal(password)
	if err != nil {
		e.t.Fatal(err)
	}
	var id int64
	err = e.pool.QueryRow(context.Background(), `INSERT INTO clusters (slug, hostname, port, rapi_username,
		rapi_password, tls_fingerprint) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		slug, host, port, user, sealed, fingerprint).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.cluster(id)
}

func (e *env) cluster(id int64) *store.Cluster {
	e.t.Helper()
	cs, err := e.st.Clusters(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range cs {
		if c.ID == id {
			return c
		}
	}
	e.t.Fatalf("cluster %d not found", id)
	return nil
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) status(id int64) *store.SyncStatus {
	e.t.Helper()
	st, err := e.st.ClusterSyncStatus(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// syncLog counts syncs per cluster, as seen through Options.OnSync.
type syncLog struct {
	mu   sync.Mutex
	ok   map[int64]int
	fail map[int64]int
	ch   chan int64
}

func newSyncLog() *syncLog {
	return &syncLog{ok: map[int64]int{}, fail: map[int64]int{}, ch: make(chan int64, 1000)}
}

func (l *syncLog) onSync(id int64, err error) {
	l.mu.Lock()
	if err == nil {
		l.ok[id]++
	} else {
		l.fail[id]++
	}
	l.mu.Unlock()
	select {
	case l.ch <- id:
	default:
	}
}

func (l *syncLog) counts(id int64) (ok, fail int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok[id], l.fail[id]
}

// fastOptions are short intervals and timeouts for tests.
func (e *env) fastOptions(log *syncLog) clustersync.Options {
	o := clustersync.Options{
		Interval: 300 * time.Millisecond, StaleAfter: 2, SyncTimeout: 20 * time.Second,
		ConnectTimeout: 5 * time.Second, ResponseTimeout: 10 * time.Second,
		Passwords: e.box, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if log != nil {
		o.OnSync = log.onSync
	}
	return o
}

func (e *env) syncer(opts clustersync.Options) *clustersync.Syncer {
	e.t.Helper()
	s, err := clustersync.New(e.st, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// run starts s.Run and returns a function stopping it (also at cleanup).
func run(t testing.TB, s *clustersync.Syncer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client returns a RAPI client of a fake.
func client(t testing.TB, f *rapifake.Cluster) *rapi.Client {
	t.Helper()
	c, err := rapi.New(rapi.Config{Host: f.Host(), Port: f.Port(), Username: rapiUser, Password: rapiPass,
		TLS: rapi.TLSConfig{PinnedSHA256: f.Fingerprint()}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
