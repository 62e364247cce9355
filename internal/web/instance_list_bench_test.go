package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

// BenchmarkInstanceList measures the instance list served from a cache of
// 10,000 instances over 5 clusters: an administrator's page of 50 rows and
// of 200 rows, and a user's page of their 200 instances, each a full HTTP
// request through the site (session, principal, sync status, query,
// html/template rendering). Run with
//
//	go test ./internal/web/ -run '^$' -bench InstanceList -benchmem
func BenchmarkInstanceList(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewPool(b)
	st := store.New(pool)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	env := map[string]string{"DATABASE_URL": "postgres://unused/db", "GANETIMGR_SECRET_KEY": strings.Repeat("k", 40),
		"GANETIMGR_BASE_URL": base}
	cfg, err := config.Load(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		b.Fatal(err)
	}
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		b.Fatal(err)
	}
	box, _ := secretbox.New(cfg.SecretKey, "rapi-password")
	pending, _ := secretbox.New(cfg.SecretKey, "cluster-form-pending")
	hasher := auth.NewHasher(cheapArgon2(), 4)
	site, err := web.New(web.Deps{Config: cfg, Store: st, Bundle: bundle, Hasher: hasher,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Version: "bench",
		Passwords: box, PendingForms: pending})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(site.Close)
	srv.Config.Handler = site.Handler()
	srv.Start()
	b.Cleanup(srv.Close)

	for c := range 5 {
		cl, err := st.CreateCluster(ctx, store.ClusterInput{Slug: fmt.Sprintf("c%d", c), Hostname: fmt.Sprintf("c%d.example.org", c),
			Port: 5080, RAPIUsername: "x", RAPIPassword: []byte("x"), TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
		if err != nil {
			b.Fatal(err)
		}
		snap := &store.ClusterSnapshot{ClusterID: cl.ID, StartedAt: time.Now(), Info: store.ClusterInfo{Name: cl.Hostname}}
		for i := range 2000 {
			owner := fmt.Sprintf("user%d", (c*2000+i)%50)
			snap.Instances = append(snap.Instances, store.CachedInstance{
				Name: fmt.Sprintf("vm%05d.c%d.example.org", i, c), Status: "running", AdminState: "up", OperState: true,
				PNode: fmt.Sprintf("node%d.c%d", i%20, c), OS: "debootstrap+default", MemoryMB: 1024 * (1 + i%8), VCPUs: 1 + i%4,
				DiskTemplate: "drbd", DiskSizesMB: []int64{20480}, NICIPs: []string{fmt.Sprintf("10.%d.%d.%d", c, i/250, i%250)},
				NICMACs: []string{fmt.Sprintf("aa:00:%02x:%02x:%02x:01", c, i/256, i%256)}, NICModes: []string{"bridged"},
				NICLinks: []string{"br0"}, NICNetworks: []string{""},
				Tags: []string{"ganetimgr:user:" + owner}, OwnerUsers: []string{owner}})
		}
		if _, err := st.SaveClusterSnapshot(ctx, snap); err != nil {
			b.Fatal(err)
		}
	}
	login := func(name string, super bool) *http.Client {
		hash, _ := hasher.Hash(ctx, "correct horse battery")
		if _, err := st.CreateUser(ctx, store.NewUser{Username: name, Email: name + "@example.org", PasswordHash: hash,
			IsActive: true, IsSuperuser: super}); err != nil {
			b.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"username": {name},
			"password": {"correct horse battery"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("login: %v %v", err, resp)
		}
		resp.Body.Close()
		c.Get(base + "/") // consume the welcome flash
		return c
	}
	admin, user := login("root", true), login("user7", false)
	inProcess(b, site.Handler(), base, admin, user)
	for _, bc := range []struct {
		name string
		c    *http.Client
		path string
		rows int
	}{
		{"admin-50", admin, "/instances/", 50},
		{"admin-200", admin, "/instances/?size=200", 200},
		{"admin-50-sorted-memory-desc", admin, "/instances/?sort=memory&desc=1", 50},
		{"admin-50-search", admin, "/instances/?q=user7", 50},
		{"user-200", user, "/instances/?size=200", 200},
		// Page-cache misses: a unique parameter per request.
		{"admin-50-miss", admin, "/instances/?sort=memory&n=", 50},
		{"user-200-miss", user, "/instances/?size=200&n=", 200},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				path := bc.path
				if strings.HasSuffix(path, "&n=") {
					n++
					path += fmt.Sprint(n)
				}
				resp, err := bc.c.Get(base + path)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || strings.Count(string(body), "data-instance=") != bc.rows {
					b.Fatalf("%s: %d, %d rows", path, resp.StatusCode, strings.Count(string(body), "data-instance="))
				}
				b.SetBytes(int64(len(body)))
			}
		})
	}
}

// inProcess measures, without the network, what the site's own code costs
// for one request of a cached list page, and for a static file as the
// baseline: middleware, session, page key and cache lookup, with a
// ResponseWriter that keeps the headers and drops the body. net/http's
// reading and writing, the same for both, is left out, so the
// difference between the two is the overhead a cached page adds.
func inProcess(b *testing.B, h http.Handler, base string, admin, user *http.Client) {
	u, _ := url.Parse(base)
	cookie := func(c *http.Client) string {
		var parts []string
		for _, ck := range c.Jar.Cookies(u) {
			parts = append(parts, ck.Name+"="+ck.Value)
		}
		return strings.Join(parts, "; ")
	}
	for _, bc := range []struct {
		name, path, cookie string
	}{
		{"inprocess-static", "/static/css/app.css", ""},
		{"inprocess-admin-50", "/instances/", cookie(admin)},
		{"inprocess-user-200", "/instances/?size=200", cookie(user)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, base+bc.path, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			if bc.cookie != "" {
				req.Header.Set("Cookie", bc.cookie)
			}
			w := &headerWriter{h: http.Header{}}
			h.ServeHTTP(w, req) // fills the page cache
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code, w.n = 0, 0
				r := *req
				h.ServeHTTP(w, &r)
				if w.code != http.StatusOK || w.n == 0 {
					b.Fatalf("%s: status %d, %d bytes", bc.path, w.code, w.n)
				}
			}
		})
	}
}

// headerWriter is a ResponseWriter that keeps the headers and status and
// counts the body's bytes.
type headerWriter struct {
	h       http.Header
	code, n int
}

func (w *headerWriter) Header() http.Header { return w.h }

func (w *headerWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *headerWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}
