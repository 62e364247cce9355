package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

func TestOAuthApplicationPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ann", "correct horse battery", false)
	c := h.client()
	c.mustLogin("ann", "correct horse battery")

	if r := c.get("/profile"); !strings.Contains(r.body, `href="/o/applications/"`) || !strings.Contains(r.body, `href="/o/authorized_tokens/"`) {
		t.Errorf("the profile page does not link to the OAuth2 pages")
	}
	if r := c.get("/o/applications/"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="oauth-apps-none"`) {
		t.Fatalf("empty list: %d\n%s", r.StatusCode, r.body)
	}
	if r := c.get("/o/applications/register/"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="oauth-app-form"`) {
		t.Fatalf("form: %d", r.StatusCode)
	}
	// Refused fields are named, in the user's language.
	r := c.post("/o/applications/register/", url.Values{"name": {""}, "client_type": {"secret"}, "grant_type": {"implicit"},
		"redirect_uris": {"http://tools.example.org/cb"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="name-error"`) ||
		!strings.Contains(r.body, `id="client_type-error"`) || !strings.Contains(r.body, `id="redirect_uris-error"`) ||
		strings.Contains(r.body, `id="grant_type-error"`) {
		t.Fatalf("invalid form: %d\n%s", r.StatusCode, r.body)
	}
	c.headers.Set("Accept-Language", "el")
	if r := c.post("/o/applications/register/", url.Values{"name": {"x"}, "client_type": {"public"}, "grant_type": {"implicit"}}); !strings.Contains(r.body, "Δώστε τουλάχιστον μία διεύθυνση ανακατεύθυνσης") {
		t.Fatalf("Greek error missing:\n%s", r.body)
	}
	c.headers.Del("Accept-Language")

	app := c.registerApp("Inventory script", store.OAuthConfidential, store.OAuthAuthorizationCode,
		"https://tools.example.org/cb", "http://localhost:8080/cb")
	// The secret is shown once, and stored only as its hash.
	if r := c.get(fmt.Sprintf("/o/applications/%d/", app.id)); r.StatusCode != http.StatusOK ||
		strings.Contains(r.body, app.secret) || !strings.Contains(r.body, app.clientID) {
		t.Fatalf("application page: %d (secret shown again?)\n%s", r.StatusCode, r.body)
	}
	var dump string
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT string_agg(c::text, ' ') FROM oauth_clients c`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, app.secret) {
		t.Fatal("client secret stored in clear")
	}
	if strings.Contains(h.logs.String(), app.secret) {
		t.Fatal("client secret logged")
	}
	if r := c.get("/o/applications/"); !strings.Contains(r.body, "Inventory script") || !strings.Contains(r.body, app.clientID) {
		t.Fatalf("list:\n%s", r.body)
	}
	// Without the trailing slash, as ganetimgr's documentation writes it.
	if r := c.get("/o/applications"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Inventory script") {
		t.Fatalf("/o/applications: %d", r.StatusCode)
	}

	// Edit: public drops the secret (a flash and a redirect); confidential
	// again shows a new one.
	edit := fmt.Sprintf("/o/applications/%d/update/", app.id)
	if r := c.get(edit); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "https://tools.example.org/cb\nhttp://localhost:8080/cb") {
		t.Fatalf("edit form: %d\n%s", r.StatusCode, r.body)
	}
	r = c.post(edit, url.Values{"name": {"Renamed"}, "client_type": {"public"}, "grant_type": {"implicit"},
		"redirect_uris": {"https://tools.example.org/cb"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/o/applications/%d/", app.id) {
		t.Fatalf("update: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.get(fmt.Sprintf("/o/applications/%d/", app.id)); !strings.Contains(r.body, "Renamed") || !strings.Contains(r.body, "The application was saved.") {
		t.Fatalf("after update:\n%s", r.body)
	}
	r = c.post(edit, url.Values{"name": {"Renamed"}, "client_type": {"confidential"}, "grant_type": {"implicit"},
		"redirect_uris": {"https://tools.example.org/cb"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="oauth-client-secret"`) || strings.Contains(r.body, app.secret) {
		t.Fatalf("to confidential: %d\n%s", r.StatusCode, r.body)
	}
	if r := c.post(edit, url.Values{"name": {"Renamed"}, "client_type": {"public"}, "grant_type": {"implicit"}, "redirect_uris": {"https://x.example.org/#f"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid update: %d", r.StatusCode)
	}

	// Delete asks first, then takes the application's tokens with it.
	tok := c.implicitToken(app, "https://tools.example.org/cb")
	if r := h.api("/user/details/", tok, false); r.status != http.StatusOK {
		t.Fatalf("token before delete: %d", r.status)
	}
	if r := c.get(fmt.Sprintf("/o/applications/%d/delete/", app.id)); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="delete-form"`) {
		t.Fatalf("delete confirm: %d", r.StatusCode)
	}
	if r := c.post(fmt.Sprintf("/o/applications/%d/delete/", app.id), nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if r := c.get(fmt.Sprintf("/o/applications/%d/", app.id)); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted application: %d", r.StatusCode)
	}
	if r := h.api("/user/details/", tok, false); r.status != http.StatusUnauthorized {
		t.Fatalf("token of a deleted application: %d", r.status)
	}
}

// TestOAuthAuthorizationMatrix: every /o/ page is for the logged-in user's
// own objects; another user's application or token is a 404, an anonymous
// visitor is sent to log in.
func TestOAuthAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ann", "correct horse battery", false)
	h.user("root", "correct horse battery", true)
	ann, root, anon := h.client(), h.client(), h.client()
	ann.mustLogin("ann", "correct horse battery")
	root.mustLogin("root", "correct horse battery")
	app := ann.registerApp("Ann's", store.OAuthPublic, store.OAuthImplicit, "https://tools.example.org/cb")
	ann.implicitToken(app, "https://tools.example.org/cb")
	var tokenID int64
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT id FROM oauth_tokens`).Scan(&tokenID); err != nil {
		t.Fatal(err)
	}
	appPath := fmt.Sprintf("/o/applications/%d/", app.id)
	form := url.Values{"name": {"Taken"}, "client_type": {"public"}, "grant_type": {"implicit"}, "redirect_uris": {"https://evil.example.org/"}}
	for _, tc := range []struct {
		method, path string
		form         url.Values
		owner        int // status for ann
	}{
		{"GET", appPath, nil, http.StatusOK},
		{"GET", appPath + "update/", nil, http.StatusOK},
		{"GET", appPath + "delete/", nil, http.StatusOK},
		{"POST", appPath + "update/", form, http.StatusSeeOther},
		{"POST", fmt.Sprintf("/o/authorized_tokens/%d/delete/", tokenID), nil, http.StatusSeeOther},
		{"POST", appPath + "delete/", nil, http.StatusSeeOther},
	} {
		do := func(c *client) *response {
			if tc.method == "GET" {
				return c.get(tc.path)
			}
			return c.post(tc.path, tc.form)
		}
		// Another user, even a superuser: not found, and nothing changed.
		if r := do(root); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as another user: %d, want 404", tc.method, tc.path, r.StatusCode)
		}
		if r := do(anon); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("%s %s anonymous: %d %s, want the login page", tc.method, tc.path, r.StatusCode, r.Header.Get("Location"))
		}
		if r := do(ann); r.StatusCode != tc.owner {
			t.Errorf("%s %s as the owner: %d, want %d", tc.method, tc.path, r.StatusCode, tc.owner)
		}
	}
	// Lists show only one's own.
	if r := root.get("/o/applications/"); strings.Contains(r.body, app.clientID) {
		t.Error("another user's application listed")
	}
	for _, p := range []string{"/o/applications/", "/o/authorized_tokens/", "/o/applications/register/", "/o/authorize/?client_id=" + app.clientID} {
		if r := anon.get(p); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s anonymous: %d %s", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ann", "correct horse battery", false)
	c := h.client()
	c.mustLogin("ann", "correct horse battery")
	app := c.registerApp("Implicit", store.OAuthPublic, store.OAuthImplicit, "https://tools.example.org/cb")

	// A redirect URI that is not registered exactly: refused on a page,
	// never redirected to.
	for _, redirect := range []string{"https://evil.example.org/cb", "https://tools.example.org/cb/", "https://tools.example.org/cb?x=1"} {
		q := url.Values{"client_id": {app.clientID}, "response_type": {"token"}, "redirect_uri": {redirect}}
		r := c.get("/o/authorize/?" + q.Encode())
		if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" || !strings.Contains(r.body, "is not one of the application") {
			t.Errorf("%s: %d %q", redirect, r.StatusCode, r.Header.Get("Location"))
		}
		// Nor when the consent form is tampered with.
		q.Set("decision", "allow")
		if r := c.post("/o/authorize/", q); r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
			t.Errorf("posted %s: %d %q", redirect, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if r := c.get("/o/authorize/?client_id=unknown-client-id-000&response_type=token"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown client: %d", r.StatusCode)
	}
	// The documented address without the trailing slash works.
	if r := c.get("/o/authorize?client_id=" + app.clientID + "&response_type=token&scope=read"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Implicit") {
		t.Errorf("/o/authorize: %d", r.StatusCode)
	}
	// Errors the client may learn go to its redirect URI (in the query for
	// a code request, in the fragment for a token request).
	r := c.get("/o/authorize/?client_id=" + app.clientID + "&response_type=code&state=s1")
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "https://tools.example.org/cb?error=unauthorized_client&state=s1" {
		t.Errorf("code for an implicit client: %d %s", r.StatusCode, loc)
	}
	r = c.get("/o/authorize/?client_id=" + app.clientID + "&response_type=token&scope=admin&state=s2")
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "https://tools.example.org/cb#error=invalid_scope&state=s2" {
		t.Errorf("unknown scope in a token request: %d %s", r.StatusCode, loc)
	}
	// Deny.
	u := c.consent(url.Values{"client_id": {app.clientID}, "response_type": {"token"}, "state": {"abc"}}, "deny")
	if u.String() != "https://tools.example.org/cb#error=access_denied&state=abc" {
		t.Errorf("deny: %s", u)
	}
	var n int
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM oauth_tokens`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tokens after refusals (%v)", n, err)
	}
	// The consent page lets the form go to the client's origin (the
	// browser would stop the redirect otherwise), and nowhere else.
	r = c.get("/o/authorize/?client_id=" + app.clientID + "&response_type=token")
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://tools.example.org;") {
		t.Errorf("consent CSP: %s", csp)
	}
	// The consent is a same-origin form: a cross-site post is refused.
	req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/o/authorize/", strings.NewReader(url.Values{"client_id": {app.clientID},
		"response_type": {"token"}, "decision": {"allow"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example.net")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := c.do(req); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site consent: %d", r.StatusCode)
	}
}

// TestOAuthSweepPurgesExpiredTokens: the periodic sweep deletes expired
// codes and tokens and keeps valid ones.
func TestOAuthSweepPurgesExpiredTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ann", "correct horse battery", false)
	c := h.client()
	c.mustLogin("ann", "correct horse battery")
	app := c.registerApp("Inventory", store.OAuthPublic, store.OAuthImplicit, "https://tools.example.org/cb")
	keep := c.implicitToken(app, "https://tools.example.org/cb")
	old := c.implicitToken(app, "https://tools.example.org/cb")
	ctx := context.Background()
	if _, err := h.store.Pool().Exec(ctx, `UPDATE oauth_tokens SET created_at = now() - interval '80 days',
		expires_at = now() - interval '10 days' WHERE token_hash = sha256($1::text::bytea)`, old); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := h.store.Pool().QueryRow(ctx, `SELECT count(*) FROM oauth_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("%d tokens, want 2", n)
	}
	h.site.SweepOnce(ctx, time.Now())
	if n := count(); n != 1 {
		t.Fatalf("%d tokens after the sweep, want 1", n)
	}
	if r := h.api("/user/details/", keep, false); r.status != http.StatusOK {
		t.Fatalf("valid token after the sweep: %d", r.status)
	}
	if !strings.Contains(h.logs.String(), `what="expired oauth tokens" count=1`) {
		t.Errorf("the purge was not logged")
	}
}
