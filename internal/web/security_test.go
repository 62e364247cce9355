package web_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

func TestCrossOriginPostRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("kim", "correct horse battery", false)
	victim := h.client()
	victim.mustLogin("kim", "correct horse battery")
	form := url.Values{"lang": {"el"}}

	cases := map[string]http.Header{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": {"cross-site"}},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": {"same-site"}},
		"foreign Origin":            {"Origin": {"https://evil.example"}},
	}
	for name, hdr := range cases {
		for _, path := range []string{"/language", "/logout", "/account/logout-everywhere", "/login"} {
			req, _ := http.NewRequest(http.MethodPost, h.baseURL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header[k] = v
			}
			r := victim.do(req)
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s: got %d, want 403", name, path, r.StatusCode)
			}
			if !strings.Contains(r.body, "came from another site") {
				t.Errorf("%s POST %s: translated refusal message missing", name, path)
			}
		}
	}
	// Nothing happened: still logged in, language unchanged.
	r := victim.get("/")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `lang="en"`) {
		t.Errorf("a refused cross-origin request changed state: %d", r.StatusCode)
	}
	// The same request from the site itself works.
	if r := victim.post("/language", form); r.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin POST: got %d, want 303", r.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("lee", "correct horse battery", false)
	c := h.client()
	for _, path := range []string{"/login", "/no-such-page", "/healthz"} {
		checkSecurityHeaders(t, path, c.get(path).Header)
	}
	c.mustLogin("lee", "correct horse battery")
	r := c.get("/")
	checkSecurityHeaders(t, "/", r.Header)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("dashboard Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
	// No inline script or style anywhere in the rendered pages.
	for _, body := range []string{r.body, c.get("/login").body, c.get("/nope").body} {
		if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>|\son[a-z]+=|<style`).MatchString(body) {
			t.Errorf("inline script or style in page:\n%s", body)
		}
	}
	var session *http.Cookie
	for _, ck := range c.get("/").Cookies() {
		session = ck
	}
	loginResp := h.client().login("lee", "correct horse battery")
	for _, ck := range loginResp.Cookies() {
		if ck.Name == "ganetimgr_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie not HttpOnly SameSite=Lax: %+v", session)
	}
}

func checkSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline or eval: %q", path, csp)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", path, k, got, want)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", path)
	}
}

func TestErrorPagesTranslated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.client()
	r := c.get("/no/such/page")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "Page not found") {
		t.Errorf("404: got %d\n%s", r.StatusCode, r.body)
	}
	c.headers.Set("Accept-Language", "el-GR,el;q=0.9,en;q=0.5")
	r = c.get("/no/such/page")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "Η σελίδα δεν βρέθηκε") {
		t.Errorf("404 in Greek: got %d\n%s", r.StatusCode, r.body)
	}
	req, _ := http.NewRequest(http.MethodPut, h.baseURL+"/login", nil)
	req.Header.Set("Origin", h.baseURL)
	r = c.do(req)
	if r.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(r.body, "Μη επιτρεπτή μέθοδος") {
		t.Errorf("405 in Greek: got %d\n%s", r.StatusCode, r.body)
	}
	if r.Header.Get("Allow") == "" {
		t.Error("405 without Allow header")
	}
	c.headers.Del("Accept-Language")
	req, _ = http.NewRequest(http.MethodDelete, h.baseURL+"/", nil)
	req.Header.Set("Origin", h.baseURL)
	if r := c.do(req); r.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(r.body, "Method not allowed") {
		t.Errorf("405: got %d", r.StatusCode)
	}
}

func TestBadInputGets4xx(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("max", "correct horse battery", false)
	c := h.client()
	raw := func(body string) *response {
		req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", h.baseURL)
		return c.do(req)
	}
	cases := []struct {
		name string
		body string
		want int
		text string
	}{
		{"invalid UTF-8", "username=%ff%fe&password=x", 400, "not valid UTF-8"},
		{"malformed encoding", "username=%zz&password=x", 400, "could not be read"},
		{"over-long username", "username=" + strings.Repeat("a", 500) + "&password=x", 422, "correct username"},
		{"over-long password", "username=max&password=" + strings.Repeat("a", 5000), 422, "correct username"},
		{"empty", "", 422, "correct username"},
		{"huge body", "username=max&password=" + strings.Repeat("a", 2<<20), 413, "too large"},
	}
	for _, tc := range cases {
		r := raw(tc.body)
		if r.StatusCode != tc.want || !strings.Contains(r.body, tc.text) {
			t.Errorf("%s: got %d, want %d with %q", tc.name, r.StatusCode, tc.want, tc.text)
		}
	}
	if r := c.post("/language", url.Values{"lang": {"xx"}}); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "not available") {
		t.Errorf("unknown language: got %d", r.StatusCode)
	}
	if !strings.Contains(h.logs.String(), "level=INFO") || strings.Contains(h.logs.String(), "level=ERROR") {
		t.Errorf("bad input caused an error log:\n%s", h.logs.String())
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.client()
	if r := c.get("/healthz"); r.StatusCode != 200 || !strings.Contains(r.body, `"ok"`) {
		t.Errorf("healthz: %d %s", r.StatusCode, r.body)
	}
	if r := c.get("/readyz"); r.StatusCode != 200 {
		t.Errorf("readyz on a current schema: %d %s", r.StatusCode, r.body)
	}
	// A schema behind the binary is not ready.
	if _, err := h.store.Pool().Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/readyz"); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz on an old schema: got %d, want 503", r.StatusCode)
	}
}

func TestStaticFilesCached(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := h.client()
	page := c.get("/login").body
	m := regexp.MustCompile(`href="(/static/css/app\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no content-hashed stylesheet link in:\n%s", page)
	}
	r := c.get(m[1])
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("hashed asset: %d %q %q", r.StatusCode, r.Header.Get("Cache-Control"), r.Header.Get("Content-Type"))
	}
	req, _ := http.NewRequest(http.MethodGet, h.baseURL+m[1], nil)
	req.Header.Set("If-None-Match", r.Header.Get("ETag"))
	if r := c.do(req); r.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: got %d, want 304", r.StatusCode)
	}
	if r := c.get("/static/css/app.css"); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, no-cache" {
		t.Errorf("unhashed asset: %d %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if r := c.get("/static/../go.mod"); r.StatusCode != http.StatusNotFound {
		t.Errorf("path escape: got %d", r.StatusCode)
	}
}

// dbFingerprint hashes the content of every table except the session store
// (a page view may touch its own session; that is not application state).
func dbFingerprint(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	rows, err := h.store.Pool().Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'sessions' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.New()
	for _, tbl := range tables {
		var s string
		q := fmt.Sprintf(`SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, pgx.Identifier{tbl}.Sanitize())
		if err := h.store.Pool().QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(sum, "%s=%s;", tbl, s)
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// TestGETRoutesDoNotWrite walks the route table and requests every GET
// route as an anonymous visitor, a plain user, a helpdesk user and an
// administrator; the database must be unchanged after each.
func TestGETRoutesDoNotWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("admin1", "correct horse battery", true)
	h.user("help1", "correct horse battery", false, "view_instances")
	u1 := h.user("user1", "correct horse battery", false)
	// Objects with id 1 for the routes that take {id} (users have theirs).
	ctx := context.Background()
	if g, err := h.store.CreateGroup(ctx, "group1"); err != nil || h.store.AddGroupMember(ctx, g.ID, u1.ID) != nil {
		t.Fatalf("group: %v", err)
	}
	org, err := h.store.CreateOrganization(ctx, store.OrganizationInput{Title: "Org 1", Tag: "org1"})
	if err != nil {
		t.Fatal(err)
	}
	// Application 1, of user1 (application_*.go routes).
	h.applicationOf(u1, "vm1.example.org", org.ID)
	// OS image "1" (admin_os_images_*.go routes).
	if _, err := h.store.CreateOSImage(ctx, store.OSImageInput{ID: "1", Description: "Image 1",
		Provider: "noop", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// The fingerprint must see a write, or this test proves nothing.
	probe := dbFingerprint(t, h)
	h.user("probe", "correct horse battery", false)
	if dbFingerprint(t, h) == probe {
		t.Fatal("database fingerprint did not change after a write")
	}
	clients := map[string]*client{"anonymous": h.client()}
	for _, name := range []string{"admin1", "help1", "user1"} {
		c := h.client()
		c.mustLogin(name, "correct horse battery")
		c.get("/") // consume the first-login flash
		clients[name] = c
	}
	routes, ok := h.site.Handler().(chi.Routes)
	if !ok {
		t.Fatal("the site's handler is not a chi router")
	}
	var gets []string
	err = chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet || method == http.MethodHead {
			gets = append(gets, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(gets) < 5 {
		t.Fatalf("only %d GET routes found: %v", len(gets), gets)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, route := range gets {
		path := param.ReplaceAllString(route, "1")
		path = strings.ReplaceAll(path, "/*", "/css/app.css")
		for who, c := range clients {
			before := dbFingerprint(t, h)
			r := c.get(path)
			if r.StatusCode >= 500 {
				t.Errorf("GET %s as %s: %d", path, who, r.StatusCode)
			}
			if after := dbFingerprint(t, h); after != before {
				t.Errorf("GET %s as %s changed the database", path, who)
			}
		}
	}
}

func TestServerErrorPageRevealsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("oscar", "correct horse battery", false)
	c := h.client()
	c.mustLogin("oscar", "correct horse battery")
	c.headers.Set("Accept-Language", "el")
	h.store.Pool().Close() // the database goes away
	r := c.get("/")
	if r.StatusCode != http.StatusInternalServerError {
		t.Fatalf("got %d, want 500", r.StatusCode)
	}
	if !strings.Contains(r.body, "Σφάλμα διακομιστή") {
		t.Errorf("500 page not translated:\n%s", r.body)
	}
	for _, leak := range []string{"pool", "closed", "sql", "store:"} {
		if strings.Contains(strings.ToLower(r.body), leak) {
			t.Errorf("500 page reveals %q:\n%s", leak, r.body)
		}
	}
	if !strings.Contains(h.logs.String(), "level=ERROR") || !strings.Contains(h.logs.String(), "request_id=") {
		t.Error("the error was not logged with its request id")
	}
}
