package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/mail/smtptest"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const baseURL = "https://ganeti.example.org/portal"

// logBuffer collects a test's logs and prints them if the test fails
// (river logs from goroutines that may outlive the test, so t.Log cannot
// be its output).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// env is one test's database, outbox and logs.
type env struct {
	t      *testing.T
	dbURL  string
	pool   *pgxpool.Pool
	store  *store.Store
	outbox *mail.Outbox
	log    *slog.Logger
	logs   *logBuffer
}

// newEnv prepares a migrated database of the test's own and an outbox that
// inserts its jobs with an insert-only river client.
func newEnv(t *testing.T, o mail.Options) *env {
	t.Helper()
	e := &env{t: t, dbURL: pgtest.NewDB(t)}
	e.pool = newPool(t, e.dbURL, nil)
	e.store = store.New(e.pool)
	e.log, e.logs = newLogger(t)
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{Logger: e.log})
	if err != nil {
		t.Fatal(err)
	}
	if o.BaseURL == nil {
		o.BaseURL, _ = url.Parse(baseURL)
	}
	if o.From == "" {
		o.From = "Ganeti Manager <ganetimgr@example.org>"
	}
	e.outbox, err = mail.NewOutbox(e.store, inserter, bundle, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newPool opens a pool on dbURL, closed when the test ends; adjust may
// change its configuration.
func newPool(t *testing.T, dbURL string, adjust func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	if adjust != nil {
		adjust(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// workerConfig shapes one test worker process.
type workerConfig struct {
	pool    *pgxpool.Pool // nil: the env's
	sender  mail.Sender
	timeout time.Duration // the worker's attempt timeout; 0: 30s
	// noLeader keeps the client out of leader election (no maintenance).
	noLeader bool
	// rescueAfter is the client's RescueStuckJobsAfter; 0: river's default.
	rescueAfter time.Duration
}

// startWorker starts a river client working the mail queue, as a serving
// ganetimgr does, with retry delays shortened to 50-200 ms. It is stopped
// when the test ends.
func (e *env) startWorker(wc workerConfig) *river.Client[pgx.Tx] {
	e.t.Helper()
	if wc.pool == nil {
		wc.pool = e.pool
	}
	if wc.timeout == 0 {
		wc.timeout = 30 * time.Second
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, mail.NewWorker(store.New(wc.pool), wc.sender, mail.WorkerOptions{
		Logger: e.log, Timeout: wc.timeout, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
	}))
	cfg := &river.Config{
		Queues:                 map[string]river.QueueConfig{mail.Queue: {MaxWorkers: 4}},
		Workers:                workers,
		FetchCooldown:          5 * time.Millisecond,
		FetchPollInterval:      25 * time.Millisecond,
		Logger:                 e.log,
		LeaderElectionDisabled: wc.noLeader,
		TestOnly:               true,
	}
	if wc.rescueAfter > 0 {
		cfg.RescueStuckJobsAfter = wc.rescueAfter
		cfg.JobTimeout = wc.rescueAfter / 2
	}
	client, err := river.NewClient(riverpgxv5.New(wc.pool), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client
}

// smtpSender returns a sender to srv, without TLS.
func smtpSender(t *testing.T, srv *smtptest.Server) *mail.SMTPSender {
	t.Helper()
	s, err := mail.NewSMTPSender(mail.SMTPOptions{Host: srv.Host(), Port: srv.Port(), TLS: "none",
		From: "Ganeti Manager <ganetimgr@example.org>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outboxRow reads an outbox row.
func (e *env) outboxRow(id int64) *store.OutboxMail {
	e.t.Helper()
	m, err := e.store.OutboxMailByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// jobState returns the state of the river job of outbox row id.
func (e *env) jobState(id int64) string {
	e.t.Helper()
	var state string
	err := e.pool.QueryRow(context.Background(),
		`SELECT state FROM river_job WHERE kind = 'mail.send' AND (args->>'outbox_id')::bigint = $1`, id).Scan(&state)
	if err != nil {
		e.t.Fatal(err)
	}
	return state
}

// enqueue enqueues m for to in a transaction of its own.
func (e *env) enqueue(to mail.Recipient, m mail.Mail) int64 {
	e.t.Helper()
	id, err := e.outbox.Enqueue(context.Background(), to, m)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}
