package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// apiFixture: ann (a superuser) and bob (in group staff), instances on two
// clusters owned by user and group tags, and a token of each.
type apiFixture struct {
	h                  *harness
	ann, bob           *client
	annToken, bobToken string
	app                oauthTestApp
	alpha, beta        int64
}

const apiRedirect = "https://tools.example.org/cb"

func newAPIFixture(t *testing.T, opts ...harnessOption) *apiFixture {
	t.Helper()
	h := newHarness(t, opts...)
	f := &apiFixture{h: h}
	h.user("ann", "correct horse battery", true)
	bob := h.user("bob", "correct horse battery", false)
	ctx := context.Background()
	g, err := h.store.CreateGroup(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.AddGroupMember(ctx, g.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	f.alpha, f.beta = h.testCluster("alpha"), h.testCluster("beta")
	h.cachedInstances(f.alpha,
		store.CachedInstance{Name: "ann1.example.org", OwnerUsers: []string{"ann"},
			Tags: []string{"ganetimgr:user:ann", "ganetimgr:filterby:thistag"}},
		store.CachedInstance{Name: "bob1.example.org", OwnerUsers: []string{"bob"},
			Tags: []string{"ganetimgr:user:bob", "ganetimgr:filterby:thistag"}},
		store.CachedInstance{Name: "staff1.example.org", OwnerGroups: []string{"staff"}, Tags: []string{"ganetimgr:group:staff"}},
		store.CachedInstance{Name: "carol1.example.org", OwnerUsers: []string{"carol"}, Tags: []string{"ganetimgr:user:carol"}})
	h.cachedInstances(f.beta,
		store.CachedInstance{Name: "ann2.example.org", OwnerUsers: []string{"ann"}, Tags: []string{"ganetimgr:user:ann"}},
		store.CachedInstance{Name: "bob2.example.org", OwnerUsers: []string{"bob"},
			Tags: []string{"ganetimgr:user:bob", "ganetimgr:filterby:other"}})
	f.ann, f.bob = h.client(), h.client()
	f.ann.mustLogin("ann", "correct horse battery")
	f.bob.mustLogin("bob", "correct horse battery")
	f.app = f.ann.registerApp("Inventory", store.OAuthPublic, store.OAuthImplicit, apiRedirect)
	f.annToken = f.ann.implicitToken(f.app, apiRedirect)
	f.bobToken = f.bob.implicitToken(f.app, apiRedirect)
	return f
}

func TestAPIInstancesList(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	h := f.h
	for _, tc := range []struct {
		name, path, token string
		bearer            bool
		user              string
		want              []string
	}{
		// A superuser gets only the instances they own.
		{"ann", "/instances/list/", f.annToken, false, "ann", []string{"ann1.example.org", "ann2.example.org"}},
		{"ann without slash", "/instances/list", f.annToken, false, "ann", []string{"ann1.example.org", "ann2.example.org"}},
		{"bob by user and group", "/instances/list/", f.bobToken, true, "bob",
			[]string{"bob1.example.org", "bob2.example.org", "staff1.example.org"}},
		{"tag", "/instances/list/?tag=ganetimgr:filterby:thistag", f.bobToken, false, "bob", []string{"bob1.example.org"}},
		{"tag of another's instance", "/instances/list/?tag=ganetimgr:user:carol", f.bobToken, true, "bob", []string{}},
		{"tag prefix is no match", "/instances/list/?tag=ganetimgr:filterby", f.annToken, false, "ann", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := h.api(tc.path, tc.token, tc.bearer).instances(t)
			if a.User.Username != tc.user || a.User.Email != tc.user+"@example.org" || a.User.ID == 0 {
				t.Errorf("user %+v", a.User)
			}
			if !slices.Equal(a.Response.Instances, tc.want) {
				t.Errorf("instances %v, want %v", a.Response.Instances, tc.want)
			}
			if a.Response.Errors || len(a.Response.ClusterErrors) != 0 {
				t.Errorf("errors %v %v with fresh clusters", a.Response.Errors, a.Response.ClusterErrors)
			}
		})
	}
	// The answer has ganetimgr's shape.
	r := h.api("/instances/list/", f.annToken, false)
	var raw map[string]map[string]any
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 2 || raw["user"] == nil || raw["response"]["instances"] == nil || raw["response"]["errors"] != false {
		t.Fatalf("answer %s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
	if r := h.api("/instances/list/?tag=bad%20tag", f.annToken, false); r.status != http.StatusBadRequest || !strings.Contains(r.body, "invalid_request") {
		t.Errorf("invalid tag: %d %s", r.status, r.body)
	}
	// An inactive user's tokens stop working.
	if _, err := h.store.Pool().Exec(context.Background(), `UPDATE users SET is_active = false WHERE username = 'bob'`); err != nil {
		t.Fatal(err)
	}
	if r := h.api("/instances/list/", f.bobToken, false); r.status != http.StatusUnauthorized {
		t.Errorf("inactive user's token: %d", r.status)
	}
}

// TestAPIRoutedBeforeInstancePages: /instances/list/ is the API, not an
// instance page, for a logged-in browser too; real instance pages are
// unaffected.
func TestAPIRoutedBeforeInstancePages(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	for _, p := range []string{"/instances/list/", "/instances/list"} {
		r := f.ann.get(p) // session cookie, no token
		if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
			r.Header.Get("WWW-Authenticate") != `Bearer realm="ganetimgr"` {
			t.Errorf("%s with a session and no token: %d %s %q", p, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("WWW-Authenticate"))
		}
	}
	if r := f.ann.get("/instances/alpha/ann1.example.org/"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "ann1.example.org") {
		t.Errorf("instance page: %d", r.StatusCode)
	}
	if r := f.ann.get("/instances/"); r.StatusCode != http.StatusOK {
		t.Errorf("instance list page: %d", r.StatusCode)
	}
}

func TestAPITokenRefusals(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	h := f.h
	check := func(what string, r apiResponse, status int, challenge string) {
		t.Helper()
		if r.status != status || r.header.Get("WWW-Authenticate") != challenge || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q %s", what, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
	}
	for _, p := range []string{"/instances/list/", "/user/details/"} {
		check(p+" without a token", h.api(p, "", false), http.StatusUnauthorized, `Bearer realm="ganetimgr"`)
		check(p+" with a wrong token", h.api(p, f.annToken+"x", false), http.StatusUnauthorized, `Bearer realm="ganetimgr", error="invalid_token"`)
		check(p+" with a wrong bearer token", h.api(p, "nope", true), http.StatusUnauthorized, `Bearer realm="ganetimgr", error="invalid_token"`)
	}
	// Both ways at once.
	req, _ := http.NewRequest(http.MethodGet, h.baseURL+"/user/details/?access_token="+f.annToken, nil)
	req.Header.Set("Authorization", "Bearer "+f.annToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("token twice: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// The user revokes ann's token on /o/authorized_tokens/: refused at once.
	r := f.ann.get("/o/authorized_tokens/")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Inventory") {
		t.Fatalf("authorized tokens: %d\n%s", r.StatusCode, r.body)
	}
	if strings.Contains(r.body, f.annToken) {
		t.Fatal("the token is shown on the page")
	}
	var id int64
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT t.id FROM oauth_tokens t JOIN users u ON u.id = t.user_id
		WHERE u.username = 'ann'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if r := f.bob.post(fmt.Sprintf("/o/authorized_tokens/%d/delete/", id), nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("bob revokes ann's token: %d", r.StatusCode)
	}
	if r := h.api("/user/details/", f.annToken, false); r.status != http.StatusOK {
		t.Fatalf("before revocation: %d", r.status)
	}
	if r := f.ann.post(fmt.Sprintf("/o/authorized_tokens/%d/delete/", id), nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	check("revoked", h.api("/user/details/", f.annToken, false), http.StatusUnauthorized, `Bearer realm="ganetimgr", error="invalid_token"`)
	// The application revokes bob's token at the revocation endpoint.
	resp, err := http.PostForm(h.baseURL+"/o/revoke_token/", map[string][]string{"token": {f.bobToken}, "client_id": {f.app.clientID}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke_token: %v %v", resp, err)
	}
	resp.Body.Close()
	check("revoked by the client", h.api("/user/details/", f.bobToken, true), http.StatusUnauthorized, `Bearer realm="ganetimgr", error="invalid_token"`)
	// An expired token.
	tok := f.bob.implicitToken(f.app, apiRedirect)
	if r := h.api("/user/details/", tok, false); r.status != http.StatusOK {
		t.Fatalf("new token: %d", r.status)
	}
	if _, err := h.store.Pool().Exec(context.Background(), `UPDATE oauth_tokens SET created_at = now() - interval '71 days',
		expires_at = now() - interval '1 day'`); err != nil {
		t.Fatal(err)
	}
	check("expired", h.api("/user/details/", tok, false), http.StatusUnauthorized, `Bearer realm="ganetimgr", error="invalid_token"`)
	// A token with only the reserved write scope cannot read.
	u := f.bob.consent(map[string][]string{"client_id": {f.app.clientID}, "response_type": {"token"}, "scope": {"write"}}, "allow")
	frag := strings.Split(u.EscapedFragment(), "&")
	var writeOnly string
	for _, kv := range frag {
		if v, ok := strings.CutPrefix(kv, "access_token="); ok {
			writeOnly = v
		}
	}
	check("write scope only", h.api("/user/details/", writeOnly, true), http.StatusForbidden,
		`Bearer realm="ganetimgr", error="insufficient_scope", scope="read"`)
}

func TestAPIUserDetails(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	r := f.h.api("/user/details/", f.bobToken, false)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if len(got) != 3 || got["username"] != "bob" || got["email"] != "bob@example.org" || got["id"] == nil {
		t.Fatalf("details %s", r.body)
	}
	if strings.Contains(r.body, "password") || strings.Contains(r.body, "argon2") {
		t.Fatalf("a password in %s", r.body)
	}
}

// TestAPIStaleClusters: errors is true, with the clusters named, when a
// cluster's data is stale or its last sync failed.
func TestAPIStaleClusters(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t)
	h := f.h
	ctx := context.Background()
	if err := h.store.RecordSyncFailure(ctx, f.beta, time.Now(), time.Second, "test", "connection refused"); err != nil {
		t.Fatal(err)
	}
	a := h.api("/instances/list/", f.annToken, false).instances(t)
	if !a.Response.Errors || len(a.Response.ClusterErrors) != 1 || a.Response.ClusterErrors[0].Cluster != "beta" ||
		!a.Response.ClusterErrors[0].Unreachable {
		t.Fatalf("unreachable beta: %+v", a.Response)
	}
	// The cached data is still listed.
	if !slices.Equal(a.Response.Instances, []string{"ann1.example.org", "ann2.example.org"}) {
		t.Fatalf("instances %v", a.Response.Instances)
	}
	if _, err := h.store.Pool().Exec(ctx, `UPDATE cluster_sync SET last_success_at = now() - interval '3 hours'
		WHERE cluster_id = $1`, f.alpha); err != nil {
		t.Fatal(err)
	}
	a = h.api("/instances/list/", f.annToken, false).instances(t)
	var names []string
	for _, c := range a.Response.ClusterErrors {
		names = append(names, c.Cluster)
	}
	if !a.Response.Errors || !slices.Equal(names, []string{"alpha", "beta"}) || !a.Response.ClusterErrors[0].Stale {
		t.Fatalf("stale alpha: %+v", a.Response)
	}
	// A disabled cluster is not named (and its instances are not listed).
	if _, err := h.store.Pool().Exec(ctx, `UPDATE clusters SET disabled = true WHERE id = $1`, f.beta); err != nil {
		t.Fatal(err)
	}
	a = h.api("/instances/list/", f.annToken, false).instances(t)
	if len(a.Response.ClusterErrors) != 1 || a.Response.ClusterErrors[0].Cluster != "alpha" ||
		!slices.Equal(a.Response.Instances, []string{"ann1.example.org"}) {
		t.Fatalf("disabled beta: %+v", a.Response)
	}
}

func TestAPICORSAndLogs(t *testing.T) {
	t.Parallel()
	f := newAPIFixture(t, withCORSOrigin("https://tools.example.org"))
	h := f.h
	do := func(method, path, origin string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, h.baseURL+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	auth := map[string]string{"Authorization": "Bearer " + f.annToken}
	if r := do("GET", "/instances/list/", "https://tools.example.org", auth); r.StatusCode != http.StatusOK ||
		r.Header.Get("Access-Control-Allow-Origin") != "https://tools.example.org" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("allowed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := do("GET", "/instances/list/", "https://evil.example.net", auth); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", r.Header)
	}
	pre := map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
	if r := do("OPTIONS", "/user/details/", "https://tools.example.org", pre); r.StatusCode != http.StatusNoContent ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") || r.Header.Get("Access-Control-Allow-Origin") != "https://tools.example.org" {
		t.Errorf("preflight: %d %v", r.StatusCode, r.Header)
	}
	if r := do("OPTIONS", "/user/details/", "https://evil.example.net", pre); r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight of another origin: %d %v", r.StatusCode, r.Header)
	}
	if r := do("OPTIONS", "/o/token/", "https://tools.example.org", map[string]string{"Access-Control-Request-Method": "POST"}); r.StatusCode != http.StatusNoContent ||
		r.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("token preflight: %d %v", r.StatusCode, r.Header)
	}
	// No token reaches the log, whichever way it was given.
	h.api("/user/details/", f.annToken, false)
	h.api("/user/details/", f.bobToken, true)
	h.api("/instances/list/?tag=ganetimgr:filterby:thistag", f.bobToken, false)
	logs := h.logs.String()
	if !strings.Contains(logs, "path=/user/details/") {
		t.Fatal("the API requests were not logged")
	}
	for _, tok := range []string{f.annToken, f.bobToken} {
		if strings.Contains(logs, tok) {
			t.Fatalf("an access token is in the log:\n%s", logs)
		}
	}
}
