package web_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/mail"
)

// newInstanceOps builds the site's instance action service as serve does,
// on a river client of its own that inserts the follow jobs; the follow
// worker runs only after startInstanceOps, so until then every started
// job stays pending (as a job still running on the cluster would).
func (h *harness) newInstanceOps(pool *pgxpool.Pool, cfg *config.Config, bundle *i18n.Bundle, outbox *mail.Outbox) *instanceops.Service {
	h.t.Helper()
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	follow := instanceops.NewFollowWorker(nil)
	workers := river.NewWorkers()
	river.AddWorker(workers, follow)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{instanceops.Queue: {MaxWorkers: 4}},
		Workers: workers, FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 25 * time.Millisecond,
		Logger: log, SkipUnknownJobCheck: true, TestOnly: true})
	if err != nil {
		h.t.Fatal(err)
	}
	h.opsQueue = client
	if outbox == nil {
		if outbox, err = mail.NewOutbox(h.store, client, bundle, mail.Options{BaseURL: cfg.BaseURL,
			From: "ganetimgr@example.org"}); err != nil {
			h.t.Fatal(err)
		}
	}
	syncer, err := clustersync.New(h.store, clustersync.Options{Passwords: h.passwords, Logger: log,
		TagPrefix: cfg.TagPrefix, ResponseTimeout: 45 * time.Second, ConnectTimeout: 20 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	svc, err := instanceops.New(instanceops.Deps{Store: h.store,
		Clients: applications.NewClients(h.passwords, 20*time.Second, 45*time.Second), Queue: client,
		Audit: audit.New(h.store), Mail: outbox, Refresh: syncer.RefreshInstance,
		Config: cfg.Instances, BaseURL: cfg.BaseURL, TagPrefix: cfg.TagPrefix, Logger: log})
	if err != nil {
		h.t.Fatal(err)
	}
	follow.Bind(svc)
	h.instances = svc
	return svc
}

// startInstanceOps starts the follow worker until the test ends.
func (h *harness) startInstanceOps() {
	h.t.Helper()
	if err := h.opsQueue.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.opsQueue.Stop(ctx)
	})
}

// withConfirm sets how reinstall, rename and destroy are confirmed
// (config.ConfirmMail or config.ConfirmPassword).
func withConfirm(mode string) harnessOption {
	return func(c *config.Config) { c.Instances.Confirm = mode }
}
