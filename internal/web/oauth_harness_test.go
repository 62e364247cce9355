package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// newOAuth is the harness's OAuth2 provider, on the harness's database and
// logging into its log buffer.
func (h *harness) newOAuth(st *store.Store, cfg *config.Config) *oauth.Provider {
	h.t.Helper()
	p, err := oauth.New(st, oauth.Options{TokenLifetime: cfg.OAuth.TokenLifetime,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// withCORSOrigin allows origin to call the JSON API from a browser.
func withCORSOrigin(origin string) harnessOption {
	return func(c *config.Config) { c.OAuth.CORSOrigins = append(c.OAuth.CORSOrigins, origin) }
}

// oauthTestApp is a registered application as its owner saw it on
// creation.
type oauthTestApp struct {
	id       int64
	clientID string
	secret   string
}

var (
	appIDOnPage   = regexp.MustCompile(`href="/o/applications/(\d+)/update/"`)
	clientIDRe    = regexp.MustCompile(`<code id="oauth-client-id">([^<]+)</code>`)
	clientSecret  = regexp.MustCompile(`<code id="oauth-client-secret">([^<]+)</code>`)
	hiddenInputRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// registerApp registers an application through the form as c's user.
func (c *client) registerApp(name, typ, grant string, uris ...string) oauthTestApp {
	c.h.t.Helper()
	r := c.post("/o/applications/register/", url.Values{"name": {name}, "client_type": {typ}, "grant_type": {grant},
		"redirect_uris": {strings.Join(uris, "\n")}})
	if r.StatusCode != http.StatusCreated {
		c.h.t.Fatalf("register %s: %d\n%s", name, r.StatusCode, r.body)
	}
	var app oauthTestApp
	m := appIDOnPage.FindStringSubmatch(r.body)
	if m == nil {
		c.h.t.Fatalf("no application id on the page:\n%s", r.body)
	}
	app.id, _ = strconv.ParseInt(m[1], 10, 64)
	if m := clientIDRe.FindStringSubmatch(r.body); m != nil {
		app.clientID = m[1]
	} else {
		c.h.t.Fatalf("no client id on the page:\n%s", r.body)
	}
	if m := clientSecret.FindStringSubmatch(r.body); m != nil {
		app.secret = m[1]
	}
	if (typ == store.OAuthConfidential) != (app.secret != "") {
		c.h.t.Fatalf("%s client: secret %q shown", typ, app.secret)
	}
	return app
}

// consent opens the authorization page for q as c's user, checks it is the
// consent page, and posts the decision; it returns the redirect address.
func (c *client) consent(q url.Values, decision string) *url.URL {
	c.h.t.Helper()
	r := c.get("/o/authorize/?" + q.Encode())
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `id="oauth-authorize-form"`) {
		c.h.t.Fatalf("authorize %v: %d %s\n%s", q, r.StatusCode, r.Header.Get("Location"), r.body)
	}
	form := url.Values{"decision": {decision}}
	for _, m := range hiddenInputRe.FindAllStringSubmatch(r.body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	r = c.post("/o/authorize/", form)
	if r.StatusCode != http.StatusSeeOther {
		c.h.t.Fatalf("consent: %d\n%s", r.StatusCode, r.body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		c.h.t.Fatal(err)
	}
	return u
}

// implicitToken has c's user grant app an access token (implicit grant)
// and returns it.
func (c *client) implicitToken(app oauthTestApp, redirect string) string {
	c.h.t.Helper()
	u := c.consent(url.Values{"client_id": {app.clientID}, "response_type": {"token"}, "redirect_uri": {redirect},
		"scope": {"read"}}, "allow")
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil || frag.Get("access_token") == "" {
		c.h.t.Fatalf("no token in %s (%v)", u, err)
	}
	return frag.Get("access_token")
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

// apiResponse is an API answer.
type apiResponse struct {
	status int
	header http.Header
	body   string
}

// api calls the JSON API with no cookie, the token in the query
// (access_token) or, with bearer, in the Authorization header.
func (h *harness) api(path, token string, bearer bool) apiResponse {
	h.t.Helper()
	u := h.baseURL + path
	if token != "" && !bearer {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		u += sep + "access_token=" + url.QueryEscape(token)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" && bearer {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// instancesAnswer decodes a /instances/list/ answer.
type instancesAnswer struct {
	User struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		ID       int64  `json:"id"`
	} `json:"user"`
	Response struct {
		Instances     []string `json:"instances"`
		Errors        bool     `json:"errors"`
		ClusterErrors []struct {
			Cluster     string `json:"cluster"`
			Stale       bool   `json:"stale"`
			Unreachable bool   `json:"unreachable"`
		} `json:"cluster_errors"`
	} `json:"response"`
}

func (r apiResponse) instances(t *testing.T) instancesAnswer {
	t.Helper()
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("got %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var a instancesAnswer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return a
}

// cachedInstances puts instances in the cluster cache as a sync would:
// name, owner users and groups and tags.
func (h *harness) cachedInstances(clusterID int64, insts ...store.CachedInstance) {
	h.t.Helper()
	for i := range insts {
		insts[i].ClusterID = clusterID
		insts[i].Status = "running"
	}
	if _, err := h.store.SaveClusterSnapshot(context.Background(), &store.ClusterSnapshot{ClusterID: clusterID,
		Instances: insts, Skipped: []string{"nodes", "groups", "networks", "jobs"}, StartedAt: time.Now()}); err != nil {
		h.t.Fatal(err)
	}
}

// testCluster registers a cluster (never contacted: the API reads the
// cache only).
func (h *harness) testCluster(slug string) int64 {
	h.t.Helper()
	c, err := h.store.CreateCluster(context.Background(), store.ClusterInput{Slug: slug, Hostname: slug + ".example.org",
		Port: 5080, TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
	if err != nil {
		h.t.Fatal(err)
	}
	return c.ID
}
