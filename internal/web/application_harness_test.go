package web_test

import (
	"context"
	"log/slog"

	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
)

// newApplications builds the site's application workflow as serve does,
// on a river client of its own that inserts the submission jobs (and, with
// no outbox, the mails, which nobody sends). Its submission worker runs
// only after startApplications.
func (h *harness) newApplications(pool *pgxpool.Pool, cfg *config.Config, bundle *i18n.Bundle, outbox *mail.Outbox) *applications.Service {
	h.t.Helper()
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	worker := applications.NewSubmitWorker(applications.WorkerOptions{Timeout: 20 * time.Second,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, Snooze: 20 * time.Millisecond})
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{applications.Queue: {MaxWorkers: 2}},
		Workers: workers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 25 * time.Millisecond,
		Logger: log, SkipUnknownJobCheck: true, TestOnly: true})
	if err != nil {
		h.t.Fatal(err)
	}
	h.appQueue = client
	if outbox == nil {
		if outbox, err = mail.NewOutbox(h.store, client, bundle, mail.Options{BaseURL: cfg.BaseURL,
			From: "ganetimgr@example.org"}); err != nil {
			h.t.Fatal(err)
		}
	}
	secrets, err := secretbox.New(cfg.SecretKey, applications.SecretsPurpose)
	if err != nil {
		h.t.Fatal(err)
	}
	syncer, err := clustersync.New(h.store, clustersync.Options{Passwords: h.passwords, Logger: log,
		ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	svc, err := applications.New(applications.Deps{Store: h.store, Mail: outbox, Queue: client,
		Clients: applications.NewClients(h.passwords, 20*time.Second, 45*time.Second), Secrets: secrets,
		Refresh: syncer.RefreshInstance, Audit: audit.New(h.store), Config: cfg.Applications, BaseURL: cfg.BaseURL, TagPrefix: cfg.TagPrefix,
		Logger: log, FollowTimeout: 5 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	worker.Bind(svc)
	h.apps = svc
	return svc
}

// startApplications starts the submission worker until the test ends.
func (h *harness) startApplications() {
	h.t.Helper()
	if err := h.appQueue.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.appQueue.Stop(ctx)
	})
}

// appQueueClient is the type of harness.appQueue.
type appQueueClient = *river.Client[pgx.Tx]
