package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clientPage is the page of a browser application at its redirect URI: it
// reads the access token from the fragment and calls the API with it, as a
// Bearer header from its own origin (CORS, with a preflight), showing the
// answer.
const clientPage = `<!doctype html><html><head><title>client</title></head><body>
<pre id="out"></pre>
<script>
const p = new URLSearchParams(location.hash.slice(1));
fetch(%q + "/instances/list/", {headers: {"Authorization": "Bearer " + p.get("access_token")}})
  .then(r => r.text()).then(t => { document.getElementById("out").textContent = t; })
  .catch(e => { document.getElementById("out").textContent = "failed: " + e; });
</script></body></html>`

// TestOAuthImplicitGrantBrowser follows ganetimgr's documented flow in a
// real browser: register an implicit-grant application, open
// /o/authorize?...&response_type=token, log in, allow, land on the
// application's redirect URI with the token in the fragment, and call the
// API with it (from the application's page and from a script).
func TestOAuthImplicitGrantBrowser(t *testing.T) {
	t.Parallel()
	// The application's own site, on another origin.
	var api atomic.Value
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, clientPage, api.Load().(string))
	}))
	t.Cleanup(app.Close)
	redirect := app.URL + "/cb"
	h, b := newBrowserHarness(t, withCORSOrigin(app.URL))
	api.Store(h.baseURL)
	ann := h.user("ann", "correct horse battery", false)
	h.user("bob", "correct horse battery", false)
	alpha := h.testCluster("alpha")
	h.cachedInstances(alpha,
		store.CachedInstance{Name: "ann1.example.org", OwnerUsers: []string{"ann"}, Tags: []string{"ganetimgr:user:ann"}},
		store.CachedInstance{Name: "bob1.example.org", OwnerUsers: []string{"bob"}, Tags: []string{"ganetimgr:user:bob"}})

	// Register the application in the browser.
	b.open("/login?next=" + url.QueryEscape("/o/applications/register/"))
	b.fill("#username", "ann")
	b.fill("#password", "correct horse battery")
	b.click("#login-submit")
	b.wantAt("/o/applications/register/")
	b.fill("#name", "Inventory page")
	run(b, "choose public", chromedp.Click(chromedp.CSS("#client_type-public")))
	run(b, "choose implicit", chromedp.Click(chromedp.CSS("#grant_type-implicit")))
	run(b, "type the redirect URI", chromedp.SendKeys(chromedp.CSS("#redirect_uris"), redirect))
	if resp := b.click("#oauth-app-submit"); resp.Status != http.StatusCreated {
		t.Fatalf("register: %d", resp.Status)
	}
	clientID := b.text("#oauth-client-id")
	if b.present("#oauth-client-secret") {
		t.Fatal("a public client was shown a secret")
	}
	b.click("#logout")

	// The documented authorization address; the login comes first.
	q := url.Values{"redirect_uri": {redirect}, "client_id": {clientID}, "response_type": {"token"}, "scope": {"read"}}
	b.open("/o/authorize?" + q.Encode())
	if got := b.location(); got.Path != "/login" {
		t.Fatalf("at %s, want the login page", got)
	}
	b.fill("#username", "ann")
	b.fill("#password", "correct horse battery")
	b.click("#login-submit")
	if got := b.location(); got.Path != "/o/authorize" {
		t.Fatalf("at %s after login, want the consent page", got)
	}
	if got := b.text("#oauth-authorize-question"); !strings.Contains(got, "Inventory page") {
		t.Fatalf("consent: %q", got)
	}
	b.wantText("#oauth-authorize-redirect", redirect)
	b.click("#oauth-allow")

	// At the application, with the token in the fragment only.
	loc := run(b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != redirect || u.RawQuery != "" {
		t.Fatalf("landed at %s", loc)
	}
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil || frag.Get("token_type") != "Bearer" || frag.Get("expires_in") != "6048000" || frag.Get("scope") != "read" {
		t.Fatalf("fragment %q", u.EscapedFragment())
	}
	token := frag.Get("access_token")

	// The application's page called the API from its origin.
	out := run(b, "API answer on the application's page", chromedp.Poll[string](`(() => {
		const t = document.getElementById("out").textContent; return t !== "" ? t : null; })()`))
	var a instancesAnswer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("page shows %q", out)
	}
	if a.User.Username != "ann" || a.User.ID != ann.ID || !slices.Equal(a.Response.Instances, []string{"ann1.example.org"}) {
		t.Fatalf("answer %s", out)
	}
	// And a script with the token as ganetimgr's documentation says.
	r := h.api("/instances/list/", token, false).instances(t)
	if !slices.Equal(r.Response.Instances, []string{"ann1.example.org"}) {
		t.Fatalf("script got %v", r.Response.Instances)
	}
	// The grant is listed for the user, who revokes it.
	b.open("/o/authorized_tokens/")
	if got := b.text("#oauth-tokens td"); got != "Inventory page" {
		t.Fatalf("authorized tokens list: %q", got)
	}
	b.click("#oauth-tokens button.danger")
	if !b.present("#oauth-tokens-none") {
		t.Fatal("token still listed after revoking")
	}
	if r := h.api("/instances/list/", token, false); r.status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.status)
	}
	b.noConsoleErrors()
}
