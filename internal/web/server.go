// Package web serves ganetimgr's HTML pages and HTTP endpoints. The whole
// route table is in routes.go; each page or action has its own file named
// after it (login_submit.go, language_set.go ...), and every handler has the
// same flat shape: load, check, parse, validate, save, then redirect or
// re-render.
package web

import (
	"context"
	"encoding/gob"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Readiness reports the database schema's state (for /readyz and the
// administration page).
type Readiness interface {
	Current(ctx context.Context) (bool, error)
	Versions(ctx context.Context) (current, known int64, err error)
}

// Deps are what the web server needs from the rest of the program.
type Deps struct {
	Config    *config.Config
	Store     *store.Store
	Logger    *slog.Logger
	Bundle    *i18n.Bundle
	Hasher    *auth.Hasher
	Readiness Readiness
	// Passwords seals the RAPI passwords stored in the database (purpose
	// "rapi-password"); required.
	Passwords *secretbox.Box
	// PendingForms seals a cluster's RAPI password across the certificate
	// confirmation step (a purpose of its own, so such a value can never be
	// taken for a stored password); required.
	PendingForms *secretbox.Box
	Registry     *prometheus.Registry // metrics are registered here; nil: a private one
	Version      string
	// Now returns the current time (tests may fix it); nil means time.Now.
	Now func() time.Time
	// Cache bounds the in-memory caches; the zero value takes the defaults.
	Cache CacheOptions
	// ExtraStatic are static files served under /static/ beside the
	// embedded ones (nil: none); the load benchmark adds a file the size of
	// a list page, to compare the two through the same route.
	ExtraStatic fs.FS
	// Mail enqueues mails in the caller's transaction (EnqueueTx) for the
	// durable mail worker; nil in tests that send no mail.
	Mail *mail.Outbox
	// Applications is the instance application workflow (the
	// application_*.go pages); nil serves those pages as not found.
	Applications *applications.Service
	// OAuth is the OAuth2 provider behind /o/ and the JSON API
	// (oauth_*.go, api_*.go); nil serves those routes as not found.
	OAuth *oauth.Provider
	// Instances carries out instance actions (the instance_*.go action
	// pages); nil: the instance page offers no actions and their routes
	// answer 404.
	Instances *instanceops.Service
}

// Server is the web application: its handlers are methods on it and all its
// dependencies are fields, so there is no global state.
type Server struct {
	cfg       *config.Config
	store     *store.Store
	log       *slog.Logger
	bundle    *i18n.Bundle
	hasher    *auth.Hasher
	readiness Readiness
	passwords *secretbox.Box
	pending   *secretbox.Box
	version   string
	now       func() time.Time
	outbox    *mail.Outbox          // Deps.Mail
	apps      *applications.Service // Deps.Applications
	oauth     *oauth.Provider       // Deps.OAuth
	instances *instanceops.Service  // Deps.Instances

	sessions  *scs.SessionManager
	pages     map[string]*template.Template
	assets    *assets
	metrics   *metrics
	trusted   []netip.Prefix
	acctLimit *auth.Throttle
	ipLimit   *auth.Throttle
	handler   http.Handler

	// regLimit and resetLimit count registrations and password-reset
	// requests per client address (account_register.go,
	// account_reset_request.go).
	regLimit   *auth.Throttle
	resetLimit *auth.Throttle

	// Caches (see page_cache.go, cache_state.go, principal_cache.go,
	// session_store.go and fragment_cache.go).
	pageCache   *pageCache
	fragments   *fragmentCache
	prerenderer *prerenderer                      // fragment_prerender.go
	pagers      *byteLRU[pagerKey, template.HTML] // rendered pagers (instancesPager)
	stateCache  *stateCache
	principals  *principalCache
	lists       *listIndexCache              // list_index.go
	frames      *byteLRU[string, *pageFrame] // page_frame.go
	marks       frameMarkers
	// fullRenders renders every instance list in full, uncached (set by
	// tests that compare framed pages with full renders).
	fullRenders bool

	bg *background // background.go: work no request waits for; Close stops it
}

// CacheOptions bound how stale the server's in-memory caches may be and how
// much memory they may take. Zero fields take the defaults.
type CacheOptions struct {
	// PrincipalTTL: how long a user's account, permissions and groups, and
	// a session read from the database, are reused (default 2 s). It is the
	// bound on how long a deactivation, a permission or group change, or a
	// logout made on another replica takes to apply here.
	PrincipalTTL time.Duration
	// StateTTL: how long the clusters' sync statuses and data versions are
	// reused (default 1 s); pages show cluster data at most this much older
	// than the database. From half of it on they are refreshed in the
	// background (the same holds for PrincipalTTL).
	StateTTL time.Duration
	// SessionTouchSlack: how far behind an unchanged session's stored
	// idle-timeout expiry may lag before it is written (default 1 min).
	SessionTouchSlack time.Duration
	// PageBytes, FragmentBytes and FrameBytes: memory budgets of the
	// rendered-page, row-fragment and page-frame caches (defaults 64 MiB,
	// 32 MiB and 16 MiB).
	PageBytes, FragmentBytes, FrameBytes int64
}

func (o CacheOptions) withDefaults() CacheOptions {
	if o.PrincipalTTL <= 0 {
		o.PrincipalTTL = 2 * time.Second
	}
	if o.StateTTL <= 0 {
		o.StateTTL = time.Second
	}
	if o.SessionTouchSlack <= 0 {
		o.SessionTouchSlack = time.Minute
	}
	if o.PageBytes <= 0 {
		o.PageBytes = 64 << 20
	}
	if o.FragmentBytes <= 0 {
		o.FragmentBytes = 32 << 20
	}
	if o.FrameBytes <= 0 {
		o.FrameBytes = 16 << 20
	}
	return o
}

// Names of cookies and session keys.
const (
	sessionCookie = "ganetimgr_session"
	langCookie    = "ganetimgr_lang"
	keyUserID     = "uid"
	keyEpoch      = "epoch"
	keyLoginAt    = "login_at"
	keyFlash      = "flash"
)

// Login throttling: failures allowed per window per account and per client
// address, and the most keys each throttle remembers (bounded memory).
const (
	accountFailures = 5
	addressFailures = 30
	throttleWindow  = 15 * time.Minute
	throttleMaxKeys = 10000
)

// Account requests from anonymous visitors: registration forms and
// password-reset requests submitted per client address per window, and
// reset mails per account per window.
const (
	registrationsPerAddress = 10
	resetRequestsPerAddress = 10
	resetMailsPerAccount    = 3
	accountRequestWindow    = time.Hour
)

// New builds the web server. It fails when a template is missing or broken,
// so a bad build never starts serving.
func New(d Deps) (*Server, error) {
	gob.Register([]flash{})
	s := &Server{
		cfg: d.Config, store: d.Store, log: d.Logger, bundle: d.Bundle, hasher: d.Hasher,
		readiness: d.Readiness, version: d.Version, now: d.Now, outbox: d.Mail, apps: d.Applications, oauth: d.OAuth,
		trusted: d.Config.TrustedProxies, instances: d.Instances, passwords: d.Passwords, pending: d.PendingForms,
		bg: newBackground(),
	}
	if s.passwords == nil || s.pending == nil {
		return nil, fmt.Errorf("web: Deps.Passwords and Deps.PendingForms are required")
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.acctLimit = auth.NewThrottle(accountFailures, throttleWindow, throttleMaxKeys, s.now)
	s.ipLimit = auth.NewThrottle(addressFailures, throttleWindow, throttleMaxKeys, s.now)
	s.regLimit = auth.NewThrottle(registrationsPerAddress, accountRequestWindow, throttleMaxKeys, s.now)
	s.resetLimit = auth.NewThrottle(resetRequestsPerAddress, accountRequestWindow, throttleMaxKeys, s.now)

	var err error
	if s.assets, err = loadAssets(d.ExtraStatic); err != nil {
		return nil, err
	}
	if s.pages, err = s.loadTemplates(); err != nil {
		return nil, err
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}

	co := d.Cache.withDefaults()
	s.pageCache = newPageCache(co.PageBytes)
	s.fragments = newFragmentCache(co.FragmentBytes)
	s.prerenderer = &prerenderer{}
	s.pagers = newByteLRU[pagerKey, template.HTML](pagerCacheBytes)
	s.stateCache = &stateCache{ttl: co.StateTTL}
	s.lists = &listIndexCache{}
	s.frames = newByteLRU[string, *pageFrame](co.FrameBytes)
	s.marks = newFrameMarkers()
	s.principals = newPrincipalCache(co.PrincipalTTL)

	sm := scs.New()
	codec := newSessionCodec()
	// The idle timeout is the store's (session_store.go): scs's own would
	// re-save every session and send its cookie on every request.
	sm.Store = newSessionStore(d.Store, codec, s.bg, co.PrincipalTTL, d.Config.SessionIdleTimeout, co.SessionTouchSlack)
	sm.Codec = codec
	sm.Lifetime = d.Config.SessionLifetime
	sm.Cookie.Name = sessionCookie
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = d.Config.Secure()
	sm.Cookie.Path = cookiePath(d.Config)
	sm.Cookie.Persist = false // ends with the browser, as ganetimgr's sessions did
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.serverError(w, r, fmt.Errorf("web: session: %w", err))
	}
	s.sessions = sm
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of the whole site.
func (s *Server) Handler() http.Handler { return s.handler }

// Sweep removes, every interval until ctx ends, what has expired: web
// sessions, registrations whose address was never confirmed within the
// activation period (their username and address become free again), and
// account tokens (only hashes) that expired more than a week ago; expired
// OAuth2 codes and access tokens; audit log entries older than the
// retention window (GANETIMGR_AUDIT_RETENTION_DAYS; 0 keeps them); instance
// jobs finished over FinishedJobsKept ago and confirmation links expired
// over a day ago.
func (s *Server) Sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweepOnce(ctx, s.now())
		}
	}
}

// FinishedJobsKept is how long a finished instance job's progress and log
// stay readable on its instance's page.
const FinishedJobsKept = 30 * 24 * time.Hour

// sweepOnce is one round of Sweep at time now.
func (s *Server) sweepOnce(ctx context.Context, now time.Time) {
	for _, job := range []struct {
		what string
		run  func() (int64, error)
	}{
		{"expired sessions", func() (int64, error) { return s.store.DeleteExpiredSessions(ctx) }},
		{"abandoned registrations", func() (int64, error) {
			return s.store.DeleteAbandonedRegistrations(ctx, now.Add(-s.accountPolicy().ActivationTTL))
		}},
		{"stale account tokens", func() (int64, error) {
			return s.store.DeleteStaleAccountTokens(ctx, now.Add(-7*24*time.Hour))
		}},
		// Audit entries older than the retention window (0 keeps them).
		{"old audit entries", func() (int64, error) {
			if s.cfg.AuditRetention <= 0 {
				return 0, nil
			}
			return s.store.PurgeAudit(ctx, now.Add(-s.cfg.AuditRetention))
		}},
		{"expired oauth tokens", func() (int64, error) { return s.purgeOAuthTokens(ctx, now) }},
		// Tracked instance jobs (their progress and Ganeti's log lines)
		// finished over FinishedJobsKept ago; the audit log keeps what was
		// done. Confirmation links expired over a day ago.
		{"finished instance jobs", func() (int64, error) {
			return s.store.PurgeInstanceJobs(ctx, now.Add(-FinishedJobsKept))
		}},
		{"expired confirmation links", func() (int64, error) {
			n, err := s.store.PurgeInstanceConfirmations(ctx, now.Add(-24*time.Hour))
			return int64(n), err
		}},
	} {
		if n, err := job.run(); err != nil {
			s.log.Warn("sweep failed", "what", job.what, "err", err)
		} else if n > 0 {
			s.log.Info("swept", "what", job.what, "count", n)
		}
	}
}

func cookiePath(c *config.Config) string {
	if c.BaseURL != nil && c.BaseURL.Path != "" {
		return c.BaseURL.Path
	}
	return "/"
}
