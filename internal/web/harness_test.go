package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a real site on a real database behind a real HTTP server.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	site   *web.Server
	store  *store.Store
	migr   *store.Migrator
	hasher *auth.Hasher
	// passwords opens the RAPI passwords the site stores.
	passwords *secretbox.Box
	logs      *syncBuffer
	baseURL   string
	// apps is the site's application workflow and appQueue the river
	// client of its submission jobs (application_harness_test.go).
	apps     *applications.Service
	appQueue appQueueClient
	// instances is the site's instance action service and opsQueue the
	// river client of its follow jobs (instance_actions_harness_test.go).
	instances *instanceops.Service
	opsQueue  appQueueClient
}

type harnessOption func(*config.Config)

func withTrustedProxy(p string) harnessOption {
	return func(c *config.Config) { c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p)) }
}

// cheapArgon2 keeps tests fast; the production parameters are measured by
// the benchmark in internal/auth.
func cheapArgon2() auth.Argon2Params {
	return auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// uncachedHarness are the cache bounds of the ordinary harness: every
// request reads its session, user and cluster state from the database, as
// the tests that change the database directly expect. The cache tests
// (page_cache_test.go) use newCachedHarness with short real bounds.
func uncachedHarness() web.CacheOptions {
	return web.CacheOptions{PrincipalTTL: time.Nanosecond, StateTTL: time.Nanosecond}
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	return newCachedHarness(t, uncachedHarness(), opts...)
}

// newCachedHarness is newHarness with the given cache bounds.
func newCachedHarness(t *testing.T, co web.CacheOptions, opts ...harnessOption) *harness {
	t.Helper()
	pool := pgtest.NewPool(t)
	st := store.New(pool)
	migr, err := store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { migr.Close() })

	h := &harness{t: t, store: st, migr: migr, hasher: auth.NewHasher(cheapArgon2(), 4), logs: &syncBuffer{}}
	// The server must know its own address for the base URL, so start it
	// unstarted, configure, then start.
	h.srv = httptest.NewUnstartedServer(nil)
	h.baseURL = "http://" + h.srv.Listener.Addr().String()
	env := map[string]string{
		"DATABASE_URL":         "postgres://unused/db",
		"GANETIMGR_SECRET_KEY": strings.Repeat("k", 40),
		"GANETIMGR_BASE_URL":   h.baseURL,
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(cfg)
	}
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		t.Fatal(err)
	}
	if h.passwords, err = secretbox.New(cfg.SecretKey, "rapi-password"); err != nil {
		t.Fatal(err)
	}
	pending, err := secretbox.New(cfg.SecretKey, "cluster-form-pending")
	if err != nil {
		t.Fatal(err)
	}
	var outbox *mail.Outbox // no mail unless withMail asked for it
	if cfg.Mail.Mode == config.MailModeSMTP {
		outbox = h.startMail(pool, cfg, bundle)
	}
	h.site, err = web.New(web.Deps{Config: cfg, Store: st, Bundle: bundle, Hasher: h.hasher,
		Logger:    slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Readiness: migr, Registry: prometheus.NewRegistry(), Version: "test",
		Passwords: h.passwords, PendingForms: pending, Cache: co, Mail: outbox,
		OAuth:        h.newOAuth(st, cfg),
		Applications: h.newApplications(pool, cfg, bundle, outbox),
		Instances:    h.newInstanceOps(pool, cfg, bundle, outbox)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.site.Close) // after the HTTP server closes, before the pool does
	h.srv.Config.Handler = h.site.Handler()
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

// user creates an account with a password and optional permissions.
func (h *harness) user(name, password string, superuser bool, perms ...auth.Permission) *store.User {
	h.t.Helper()
	ctx := context.Background()
	hash, err := h.hasher.Hash(ctx, password)
	if err != nil {
		h.t.Fatal(err)
	}
	u, err := h.store.CreateUser(ctx, store.NewUser{Username: name, Email: name + "@example.org",
		PasswordHash: hash, IsActive: true, IsSuperuser: superuser})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range perms {
		if err := h.store.GrantUserPermission(ctx, u.ID, string(p)); err != nil {
			h.t.Fatal(err)
		}
	}
	return u
}

// client is a browser-like client: a cookie jar, same-origin headers on
// state-changing requests, and no automatic redirects.
type client struct {
	h       *harness
	c       *http.Client
	headers http.Header
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, headers: http.Header{}, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a read response.
type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) *response {
	c.h.t.Helper()
	for k, v := range c.headers {
		req.Header[k] = v
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, body: string(b)}
}

func (c *client) get(path string) *response {
	req, _ := http.NewRequest(http.MethodGet, c.h.baseURL+path, nil)
	return c.do(req)
}

// post submits a form the way a browser on this site does.
func (c *client) post(path string, form url.Values) *response {
	req, _ := http.NewRequest(http.MethodPost, c.h.baseURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.h.baseURL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

func (c *client) login(username, password string) *response {
	c.h.t.Helper()
	return c.post("/login", url.Values{"username": {username}, "password": {password}})
}

func (c *client) mustLogin(username, password string) {
	c.h.t.Helper()
	if r := c.login(username, password); r.StatusCode != http.StatusSeeOther {
		c.h.t.Fatalf("login %s: got %d, want 303\n%s", username, r.StatusCode, r.body)
	}
}

func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.h.baseURL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "ganetimgr_session" {
			return ck.Value
		}
	}
	return ""
}

var errorParagraph = regexp.MustCompile(`(?s)<p class="error" id="login-error" role="alert">(.*?)</p>`)

// loginError returns the error shown on a login page ("" when none).
func loginError(body string) string {
	m := errorParagraph.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}
