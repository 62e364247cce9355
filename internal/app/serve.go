package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/demo"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

// NewHasher returns the password hasher with ganetimgr's parameters, at most
// two hashes per core at a time.
func NewHasher() *auth.Hasher { return auth.NewHasher(auth.DefaultArgon2(), 2*runtime.NumCPU()) }

// Serve runs the site until ctx ends, then drains in-flight requests for at
// most cfg.ShutdownTimeout. out receives the one-time administrator password
// of the embedded mode.
func Serve(ctx context.Context, cfg *config.Config, log *slog.Logger, version string, out io.Writer) error {
	db, err := OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()

	migrator, err := store.NewMigrator(db.Pool, ganetimgr.Migrations())
	if err != nil {
		return err
	}
	defer migrator.Close()
	if cfg.AutoMigrate {
		if err := Migrate(ctx, db.Pool, log); err != nil {
			return err
		}
	} else if err := migrator.CheckNotNewer(ctx); err != nil {
		return err
	}
	current, err := migrator.Current(ctx)
	if err != nil {
		return err
	} else if !current {
		log.Warn("database schema is not current: run `ganetimgr migrate`; /readyz answers 503 and no mail is sent until then (and a restart)")
	}
	secretKey, err := SecretKey(cfg)
	if err != nil {
		return err
	}
	passwords, err := secretbox.New(secretKey, "rapi-password")
	if err != nil {
		return err
	}
	pendingForms, err := secretbox.New(secretKey, "cluster-form-pending")
	if err != nil {
		return err
	}

	st := store.New(db.Pool)
	hasher := NewHasher()
	if db.Embedded() {
		pw, err := EnsureAdmin(ctx, st, hasher)
		if err != nil {
			return err
		}
		if pw != "" {
			fmt.Fprintf(out, "\n  Created the administrator account.\n  username: admin\n  password: %s\n  (shown only this once)\n\n", pw)
		}
	}

	if db.Embedded() && cfg.Demo {
		owner, err := st.OldestSuperuser(ctx)
		if err != nil {
			return err
		}
		d, err := demo.Start(ctx, st, passwords, demo.Options{Owner: owner.Username, TagPrefix: cfg.TagPrefix}, log)
		if err != nil {
			return err
		}
		defer d.Close()
	} else if err := demo.Remove(ctx, st, log); err != nil {
		return err
	}

	bundle, err := i18n.Load(ganetimgr.Locales(), cfg.DefaultLanguage)
	if err != nil {
		return err
	}
	queue, err := newJobQueue(ctx, cfg, db.Pool, st, bundle, log)
	if err != nil {
		return err
	}
	defer queue.close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	syncer, err := clustersync.New(st, clustersync.Options{Interval: cfg.SyncInterval, StaleAfter: cfg.SyncStaleAfter,
		TagPrefix: cfg.TagPrefix, Passwords: passwords, Logger: log})
	if err != nil {
		return err
	}
	// The instance application workflow: its submission worker runs in the
	// job queue and refreshes a new VM in the cache once it is created.
	apps, err := queue.applications(cfg, st, passwords, secretKey, syncer.RefreshInstance)
	if err != nil {
		return err
	}
	// Instance actions: their jobs are followed in the job queue, and the
	// instance is refreshed in the cache as soon as its job ends.
	instances, err := queue.instanceOps(cfg, st, passwords, syncer.RefreshInstance)
	if err != nil {
		return err
	}
	provider, err := oauth.New(st, oauth.Options{TokenLifetime: cfg.OAuth.TokenLifetime, Logger: log})
	if err != nil {
		return err
	}
	site, err := web.New(web.Deps{Config: cfg, Store: st, Logger: log, Bundle: bundle, Hasher: hasher,
		Readiness: migrator, Registry: reg, Version: version, Passwords: passwords, PendingForms: pendingForms, Mail: queue.outbox,
		Applications: apps, Instances: instances, OAuth: provider})
	if err != nil {
		return err
	}
	// Deferred here, it runs after the web servers have shut down and the
	// deferred calls below, and before the database pool closes.
	defer site.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go site.Sweep(ctx, 10*time.Minute)

	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		_ = syncer.Run(ctx) // returns nil when ctx ends; it retries database failures itself
	}()
	// Stop the syncer (and release its cluster locks) before the demo
	// cluster and the database go away.
	defer func() { cancel(); <-syncDone }()

	// The job queue needs its tables: with a schema that is not current it
	// stays stopped (mails wait in the outbox).
	if current {
		if err := queue.start(ctx); err != nil {
			return err
		}
		// Runs first among the deferred calls, once the web servers are
		// shut down: running jobs get the shutdown timeout to finish.
		defer queue.stop(cfg.ShutdownTimeout)
	}

	servers := []*http.Server{{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	addrs := []string{cfg.Listen}
	if cfg.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second})
		addrs = append(addrs, cfg.MetricsListen)
	}
	errs := make(chan error, len(servers))
	for i, srv := range servers {
		ln, err := net.Listen("tcp", addrs[i])
		if err != nil {
			return fmt.Errorf("app: listen on %s: %w", addrs[i], err)
		}
		log.Info("listening", "addr", "http://"+ln.Addr().String(), "metrics", i > 0)
		go func() { errs <- srv.Serve(ln) }()
	}

	select {
	case <-ctx.Done():
	case err := <-errs:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("app: serve: %w", err)
		}
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer scancel()
	var firstErr error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("app: shutdown: %w", err)
		}
	}
	return firstErr
}
