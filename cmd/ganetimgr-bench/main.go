// Command ganetimgr-bench is the load benchmark behind `make bench`: it
// starts a private PostgreSQL, five fake Ganeti clusters of 2,000 instances
// (one of them then hangs: it accepts connections and never answers),
// registers and syncs them, creates 200 users and an administrator, serves
// the real site handler on 127.0.0.1 with same-size static files added to
// its own /static/ route, and runs wrk against the instance lists (warm, cold and
// churn), alternating static and candidate runs. It prints a table of
// medians with the ratios to static measured in the same run, and cleans up
// after itself.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/clustersync"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/pglocal"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

func main() {
	var opts options
	dur := flag.Duration("d", 10*time.Second, "duration of one wrk run")
	rounds := flag.Int("rounds", 3, "static/candidate alternations per scenario")
	conns := flag.Int("c", 32, "wrk connections")
	only := flag.String("only", "", "run only the scenarios whose name contains this")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the candidate runs to this file")
	allocs := flag.String("allocprofile", "", "write a profile of the memory allocated during the runs to this file")
	slow := flag.String("pgslow", "", "log PostgreSQL statements slower than this (e.g. 10ms) and print them at the end")
	flag.Parse()
	opts.only, opts.profile, opts.allocs, opts.pgslow = *only, *profile, *allocs, *slow
	if opts.allocs != "" {
		runtime.MemProfileRate = 64 << 10
	}
	// Bounded, and stopped cleanly (PostgreSQL, fakes, wrk) on Ctrl-C.
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sig, 10*time.Minute)
	defer cancel()
	if err := run(ctx, *dur, *rounds, *conns, opts); err != nil {
		fmt.Fprintln(os.Stderr, "ganetimgr-bench:", err)
		os.Exit(1)
	}
}

const (
	clusters    = 5
	perCluster  = 2000
	users       = 200
	groups      = 50
	password    = "correct horse battery"
	tagPrefix   = "ganetimgr"
	churnPeriod = 5 * time.Second
)

// bench is the running environment.
type bench struct {
	st      *store.Store
	syncer  *clustersync.Syncer
	fakes   []*rapifake.Cluster
	rows    []*store.Cluster
	site    *web.Server
	base    string
	tmp     string
	log     *slog.Logger
	admin   string   // admin's cookie header
	userCks []string // users' cookie headers
}

// opts are the optional flags.
type options struct{ only, profile, allocs, pgslow string }

func run(ctx context.Context, dur time.Duration, rounds, conns int, opts options) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found (apt-get install wrk): %w", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tmp, err := os.MkdirTemp("", "ganetimgr-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o711); err != nil { // the PostgreSQL account must traverse it
		return err
	}
	setupStart := time.Now()
	pgo := pglocal.Options{DataDir: filepath.Join(tmp, "pg"), Database: "bench"}
	if opts.pgslow != "" {
		pgo.Settings = map[string]string{"log_min_duration_statement": opts.pgslow}
	}
	pg, err := pglocal.Start(ctx, pgo)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer pg.Stop(context.Background())
	if opts.pgslow != "" {
		defer func() {
			if b, err := os.ReadFile(pg.LogFile()); err == nil {
				fmt.Printf("\nPostgreSQL log:\n%s\n", b)
			}
		}()
	}
	if err := store.MigrateURL(ctx, pg.URL("bench"), ganetimgr.Migrations()); err != nil {
		return err
	}
	pool, err := store.Open(ctx, pg.URL("bench")) // the pool `ganetimgr serve` uses
	if err != nil {
		return err
	}
	defer pool.Close()
	b := &bench{st: store.New(pool), tmp: tmp, log: log}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.base = "http://" + ln.Addr().String()
	env := map[string]string{"DATABASE_URL": pg.URL("bench"), "GANETIMGR_SECRET_KEY": strings.Repeat("k", 40),
		"GANETIMGR_BASE_URL": b.base}
	cfg, err := config.Load(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		return err
	}
	box, err := secretbox.New(cfg.SecretKey, "rapi-password")
	if err != nil {
		return err
	}
	pending, err := secretbox.New(cfg.SecretKey, "cluster-form-pending")
	if err != nil {
		return err
	}
	if err := b.startClusters(ctx, box); err != nil {
		return err
	}
	defer func() {
		for _, f := range b.fakes {
			f.Close()
		}
	}()
	bundle, err := i18n.Load(ganetimgr.Locales(), "en")
	if err != nil {
		return err
	}
	hasher := auth.NewHasher(auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)
	newSite := func(extra fs.FS) (*web.Server, error) {
		return web.New(web.Deps{Config: cfg, Store: b.st, Bundle: bundle, Hasher: hasher, Logger: log,
			Registry: prometheus.NewRegistry(), Version: "bench", Passwords: box, PendingForms: pending,
			ExtraStatic: extra})
	}
	if b.site, err = newSite(nil); err != nil {
		return err
	}
	defer func() { b.site.Close() }() // the site serving at the end
	var handler atomic.Pointer[http.Handler]
	h := b.site.Handler()
	handler.Store(&h)
	// /servecontent/<n> is the baseline of PERFORMANCE.md's calibration
	// table: n bytes from memory through http.ServeContent, with none of
	// the site's middleware. It is reported beside the site's own static
	// route, never used for a target.
	var bare sync.Map // size → []byte
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n, ok := strings.CutPrefix(r.URL.Path, "/servecontent/"); ok {
				if body, ok := bare.Load(n); ok {
					http.ServeContent(w, r, "page.html", setupStart, bytes.NewReader(body.([]byte)))
					return
				}
			}
			(*handler.Load()).ServeHTTP(w, r)
		})}
	go srv.Serve(ln)
	defer srv.Close()

	if err := b.createUsers(ctx, hasher); err != nil {
		return err
	}
	// Vacuumed and analyzed, as autovacuum leaves the tables a minute or so
	// after the first sync.
	if err := b.st.VacuumClusterCache(ctx); err != nil {
		return err
	}
	fmt.Printf("setup: %d clusters × %d instances (one hung), %d users + admin, in %s\n",
		clusters, perCluster, users, time.Since(setupStart).Round(100*time.Millisecond))

	runtime.GC()
	rssBefore := rss()
	adminPage, userPage := "/instances/", "/instances/?size=200"
	adminSize, err := b.pageSize(adminPage, b.admin, 50)
	if err != nil {
		return err
	}
	userSize, err := b.pageSize(userPage, b.userCks[0], 200)
	if err != nil {
		return err
	}
	adminCold, err := b.adminPaths()
	if err != nil {
		return err
	}
	// The static files to compare with: the size of each list page, served
	// by the site's own static route (the same server and middleware as
	// every request). The site is made again with them; sessions live in
	// the database, so the logins stay valid.
	extra := fstest.MapFS{}
	for _, n := range []int{adminSize, userSize} {
		extra[fmt.Sprintf("bench/%d.html", n)] = &fstest.MapFile{Data: filler(n), Mode: 0o644}
		bare.Store(strconv.Itoa(n), filler(n))
	}
	first := b.site
	if b.site, err = newSite(extra); err != nil {
		b.site = first
		return err
	}
	h = b.site.Handler()
	handler.Store(&h)
	first.Close()
	var results []result
	w := wrk{ctx: ctx, dur: dur, conns: conns, dir: tmp}
	static := func(size int) target { return target{url: b.base + fmt.Sprintf("/static/bench/%d.html", size)} }
	serveContent := func(size int) target { return target{url: b.base + fmt.Sprintf("/servecontent/%d", size)} }
	for _, n := range []int{adminSize, userSize} {
		if err := b.checkStatic(fmt.Sprintf("/static/bench/%d.html", n), n); err != nil {
			return err
		}
		if err := b.checkStatic(fmt.Sprintf("/servecontent/%d", n), n); err != nil {
			return err
		}
	}

	// Warm and cold: the syncer is idle (data unchanged since the last
	// sync) and the fakes count every request, all of which would come
	// from page views.
	b.resetCounts()
	scen := []struct {
		name   string
		size   int
		cand   target
		ratio  float64
		p99    time.Duration
		static bool
		bare   bool // also against the calibration's baseline (/servecontent/)
	}{
		{"warm admin list (50 rows)", adminSize, target{url: b.base + adminPage, cookies: []string{b.admin}}, 0.9, 10 * time.Millisecond, true, true},
		{"warm user list (200 rows)", userSize, target{url: b.base + userPage, cookies: []string{b.userCks[0]}}, 0.9, 10 * time.Millisecond, true, true},
		{"cold admin list (50 rows)", adminSize, target{paths: adminCold, cookies: []string{b.admin}, unique: true, base: b.base}, 0.15, 40 * time.Millisecond, true, false},
		{"cold user list (200 rows)", userSize, target{paths: []string{userPage}, cookies: b.userCks, unique: true, base: b.base}, 0.12, 50 * time.Millisecond, true, false},
	}
	if opts.profile != "" {
		pf, err := os.Create(opts.profile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if opts.allocs != "" {
		// What setting up allocated is in the .base profile, to be left
		// out with go tool pprof -diff_base.
		if err := writeAllocs(opts.allocs + ".base"); err != nil {
			return err
		}
		defer func() {
			if err := writeAllocs(opts.allocs); err != nil {
				fmt.Fprintln(os.Stderr, "ganetimgr-bench: alloc profile:", err)
			}
		}()
	}
	for _, sc := range scen {
		if !strings.Contains(sc.name, opts.only) {
			continue
		}
		var sr, br, cr []sample
		if err := w.warmUp(sc.cand); err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		for range rounds {
			s, err := w.run(static(sc.size))
			if err != nil {
				return err
			}
			sr = append(sr, s)
			if sc.bare {
				s, err := w.run(serveContent(sc.size))
				if err != nil {
					return err
				}
				br = append(br, s)
			}
			c, err := w.run(sc.cand)
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			cr = append(cr, c)
		}
		results = append(results, result{name: "static " + strconv.Itoa(sc.size) + " B (for " + sc.name + ")", s: median(sr)})
		results = append(results, result{name: sc.name, s: median(cr), static: median(sr), ratioTarget: sc.ratio, p99Target: sc.p99, hasRatio: true})
		if sc.bare {
			results = append(results, result{name: "  bare ServeContent " + strconv.Itoa(sc.size) + " B", s: median(br)},
				result{name: "  " + sc.name + " ÷ bare ServeContent", s: median(cr), static: median(br), hasRatio: true, info: true})
		}
	}
	runtime.GC()
	rssAfter := rss()
	pageCalls := b.requestCount()

	// Churn: a sync changing some instances every 5 s during the runs.
	churnCtx, stopChurn := context.WithCancel(ctx)
	churnDone := make(chan int)
	go func() { churnDone <- b.churn(churnCtx) }()
	for _, sc := range []struct {
		name string
		cand target
	}{
		{"churn admin list (50 rows)", target{url: b.base + adminPage, cookies: []string{b.admin}}},
		{"churn user lists (200 rows, 200 users)", target{paths: []string{userPage}, cookies: b.userCks, base: b.base}},
	} {
		if !strings.Contains(sc.name, opts.only) {
			continue
		}
		var cr []sample
		if err := w.warmUp(sc.cand); err != nil {
			stopChurn()
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		for range rounds {
			c, err := w.run(sc.cand)
			if err != nil {
				stopChurn()
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			cr = append(cr, c)
		}
		results = append(results, result{name: sc.name, s: median(cr), p99Target: 50 * time.Millisecond})
	}
	stopChurn()
	syncs := <-churnDone

	fmt.Printf("\ncommand: make bench (go run ./cmd/ganetimgr-bench -d %s -rounds %d -c %d); wrk -t2 -c%d -d%s --latency; medians of %d runs, static and candidate alternated\n",
		dur, rounds, conns, conns, dur, rounds)
	fmt.Printf("static = a same-size file served by the site's own /static/ route (same server and middleware; written with Content-Length, not ServeContent); no Accept-Encoding (identity)\n")
	fmt.Printf("bare ServeContent = the same bytes through http.ServeContent without the site's middleware, the baseline of PERFORMANCE.md's calibration table (for comparison only; targets use static)\n")
	fmt.Printf("cold = every request a page-cache miss: a different user (cookie rotation) or page, plus a unique query parameter\n")
	fmt.Printf("each scenario starts with %s of its load, not measured (the users' sessions and page frames loaded, as on a server that has been up)\n\n", warmUpTime)
	fmt.Printf("%-44s %9s %9s %9s %8s %16s %s\n", "scenario", "req/s", "p50", "p99", "÷static", "target", "result")
	for _, r := range results {
		r.print()
	}
	// The issue's own targets (p99 < 50 ms, at least 0.25 of static), for
	// the warm and the cold runs.
	fmt.Println()
	for _, r := range results {
		if !r.hasRatio || r.info {
			continue
		}
		ok := r.s.p99 < 50*time.Millisecond && r.s.rps >= 0.25*r.static.rps
		fmt.Printf("issue 4: %-35s p99 %s < 50 ms, ratio %.2f ≥ 0.25: %s\n", r.name, ms(r.s.p99), r.s.rps/r.static.rps, pass(ok))
	}
	fmt.Printf("RAPI calls during the warm and cold runs (page views only, syncer idle): %d: %s\n", pageCalls, pass(pageCalls == 0))
	fmt.Printf("churn: %d syncs changing instances during the churn runs\n", syncs)
	st := b.site.CacheStats()
	fmt.Printf("memory of this process (site + syncer + pgx pool + the 5 fake clusters modelling 10,000 instances; PostgreSQL and wrk are other processes):\n"+
		"  after setup, before page views: RSS %s\n  after the warm and cold runs:   RSS %s; page cache %d entries %.1f MiB, row fragments %d entries %.1f MiB\n",
		rssBefore, rssAfter, st.Pages, float64(st.PageBytes)/(1<<20), st.Fragments, float64(st.FragmentBytes)/(1<<20))
	return nil
}

// startClusters starts the fakes, registers them as ganetimgr does (sealed
// password, pinned certificate), syncs them once, then hangs the last one.
func (b *bench) startClusters(ctx context.Context, box *secretbox.Box) error {
	var owners, gnames []string
	for i := range users {
		owners = append(owners, userName(i))
	}
	for i := range groups {
		gnames = append(gnames, groupName(i))
	}
	var err error
	b.syncer, err = clustersync.New(b.st, clustersync.Options{Passwords: box, TagPrefix: tagPrefix, Logger: b.log,
		SyncTimeout: 3 * time.Second, ResponseTimeout: 2 * time.Second, ConnectTimeout: time.Second})
	if err != nil {
		return err
	}
	for c := range clusters {
		f, err := rapifake.NewCluster(rapifake.Options{Name: fmt.Sprintf("bench%d.example.org", c), Nodes: 20, Groups: 2,
			Instances: perCluster, Owners: owners, OwnerGroups: gnames, TagPrefix: tagPrefix, Seed: uint64(c + 1),
			Users: []rapifake.User{{Name: "admin", Password: "secret", Write: true}}, Addr: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		if _, err := f.Start(); err != nil {
			return err
		}
		b.fakes = append(b.fakes, f)
		sealed, err := box.Seal("secret")
		if err != nil {
			return err
		}
		row, err := b.st.CreateCluster(ctx, store.ClusterInput{Slug: fmt.Sprintf("bench%d", c), Hostname: f.Host(),
			Port: f.Port(), RAPIUsername: "admin", RAPIPassword: sealed, TLSFingerprint: f.Fingerprint()})
		if err != nil {
			return err
		}
		b.rows = append(b.rows, row)
		if err := b.syncer.SyncNow(ctx, row); err != nil {
			return fmt.Errorf("sync %s: %w", row.Slug, err)
		}
	}
	// The last cluster hangs from now on; one failed sync marks it
	// unreachable in the banner.
	b.fakes[clusters-1].SetHang(true)
	if err := b.syncer.SyncNow(ctx, b.rows[clusters-1]); err == nil {
		return fmt.Errorf("sync of the hung cluster succeeded")
	}
	return nil
}

func userName(i int) string  { return fmt.Sprintf("user%03d", i) }
func groupName(i int) string { return fmt.Sprintf("team%02d", i) }

// createUsers creates the users (each in four groups, so that each sees
// about 200 instances) and the admin, and logs each in through the site.
func (b *bench) createUsers(ctx context.Context, hasher *auth.Hasher) error {
	hash, err := hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	var gs []*store.Group
	for i := range groups {
		g, err := b.st.CreateGroup(ctx, groupName(i))
		if err != nil {
			return err
		}
		gs = append(gs, g)
	}
	for i := range users + 1 {
		name, super := "admin", true
		if i < users {
			name, super = userName(i), false
		}
		u, err := b.st.CreateUser(ctx, store.NewUser{Username: name, Email: name + "@example.org", PasswordHash: hash,
			IsActive: true, IsSuperuser: super})
		if err != nil {
			return err
		}
		if !super {
			for j := range 4 {
				if err := b.st.AddGroupMember(ctx, gs[(i+j*13)%groups].ID, u.ID); err != nil {
					return err
				}
			}
		}
		ck, err := b.login(name)
		if err != nil {
			return err
		}
		if super {
			b.admin = ck
		} else {
			b.userCks = append(b.userCks, ck)
		}
	}
	return nil
}

// login logs a user in and returns the Cookie header of the session.
func (b *bench) login(name string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, b.base+"/login", strings.NewReader(url.Values{"username": {name},
		"password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("login %s: %s", name, resp.Status)
	}
	if resp, err := c.Get(b.base + "/"); err == nil { // consume the welcome flash
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	u, _ := url.Parse(b.base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "ganetimgr_session" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("login %s: no session cookie", name)
}

// pageSize fetches a page once and checks its rows.
func (b *bench) pageSize(path, cookie string, rows int) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if n := strings.Count(string(body), "data-instance="); resp.StatusCode != http.StatusOK || n != rows {
		return 0, fmt.Errorf("%s: status %d, %d rows, want %d", path, resp.StatusCode, n, rows)
	}
	return len(body), nil
}

func (b *bench) resetCounts() {
	for _, f := range b.fakes {
		f.ResetCounts()
	}
}

func (b *bench) requestCount() int64 {
	var n int64
	for _, f := range b.fakes {
		n += f.RequestCount()
	}
	return n
}

// churn changes a few instances of the first cluster and syncs it, every
// churnPeriod, until ctx ends; it returns the number of syncs.
func (b *bench) churn(ctx context.Context) int {
	t := time.NewTicker(churnPeriod)
	defer t.Stop()
	names := b.fakes[0].InstanceNames()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
		for i := range 20 {
			name := names[(n*20+i)%len(names)]
			in, ok := b.fakes[0].Instance(name)
			if !ok {
				continue
			}
			_ = b.fakes[0].SetInstanceState(name, map[bool]string{true: "down", false: "up"}[in.AdminState == "up"], in.AdminState != "up")
		}
		if err := b.syncer.SyncNow(ctx, b.rows[0]); err == nil {
			n++
		}
	}
}

// adminPaths are the administrator's pages the cold runs rotate through:
// every indexed order both ways, the cluster and status filters, and the
// next ten pages of the default list (followed through their "next"
// links). Searches and the order by cluster slug are left out: they scan
// or sort all 10,000 rows in PostgreSQL (10-20 ms each) whatever the page
// code does.
func (b *bench) adminPaths() ([]string, error) {
	var out []string
	for _, s := range []string{"name", "status", "memory", "vcpus", "node"} {
		out = append(out, "/instances/?sort="+s, "/instances/?sort="+s+"&desc=1")
	}
	for c := range clusters - 1 {
		out = append(out, fmt.Sprintf("/instances/?cluster=bench%d", c))
	}
	out = append(out, "/instances/?status=running", "/instances/?status=stopped")
	next := "/instances/"
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, b.base+next, nil)
		req.Header.Set("Cookie", b.admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := reNext.FindStringSubmatch(string(body))
		if m == nil {
			return nil, fmt.Errorf("no next link on %s", next)
		}
		next = html.UnescapeString(m[1])
		out = append(out, next)
	}
	return out, nil
}

// reNext finds a list page's "next" link.
var reNext = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)

// filler returns n bytes of HTML.
func filler(n int) []byte {
	return []byte(strings.Repeat("<p>ganetimgr static filler</p>\n", n/31+1))[:n]
}

// checkStatic fetches a static comparison file once and checks its size.
func (b *bench) checkStatic(path string, n int) error {
	resp, err := http.Get(b.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(body) != n {
		return fmt.Errorf("%s: status %d, %d bytes, want %d", path, resp.StatusCode, len(body), n)
	}
	return nil
}

// rss returns the resident set size of this process.
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return strings.TrimSpace(v) + fmt.Sprintf(" (Go heap in use %.0f MiB)", float64(m.HeapInuse)/(1<<20))
		}
	}
	return "unknown"
}

// writeAllocs writes the allocation profile so far (pprof's "allocs") to
// path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile is as of the last collection
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
