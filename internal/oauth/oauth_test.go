package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// fixture is a provider on a fresh database with a user, and its token and
// revocation endpoints behind a real HTTP server.
type fixture struct {
	t     *testing.T
	st    *store.Store
	p     *oauth.Provider
	srv   *httptest.Server
	user  *store.User
	other *store.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := storetest.NewStore(t)
	p, err := oauth.New(st, oauth.Options{TokenLifetime: 70 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, p: p}
	mux := http.NewServeMux()
	mux.HandleFunc("/o/token/", p.HandleToken)
	mux.HandleFunc("/o/revoke_token/", p.HandleRevoke)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	for i, name := range []string{"ann", "bob"} {
		u, err := st.CreateUser(context.Background(), store.NewUser{Username: name, Email: name + "@example.org", IsActive: true})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.user = u
		} else {
			f.other = u
		}
	}
	return f
}

// register registers an application of ann.
func (f *fixture) register(typ, grant string, uris ...string) *oauth.NewApplication {
	f.t.Helper()
	in, errs := oauth.CheckApplication(oauth.ApplicationForm{Name: "app", ClientType: typ, GrantType: grant,
		RedirectURIs: strings.Join(uris, "\n")})
	if len(errs) > 0 {
		f.t.Fatalf("application refused: %v", errs)
	}
	app, err := f.p.Register(context.Background(), f.user.ID, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return app
}

// authorize checks the request q and issues its answer for ann; it returns
// the redirect address.
func (f *fixture) authorize(q url.Values) *url.URL {
	f.t.Helper()
	req, err := f.p.CheckAuthorize(context.Background(), q)
	if err != nil {
		f.t.Fatalf("authorize %v: %v", q, err)
	}
	to, err := f.p.Authorize(context.Background(), req, f.user.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// post sends a form to the token or revocation endpoint.
func (f *fixture) post(path string, form url.Values, user, pass string) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestOAuthCheckAuthorize(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	implicit := f.register(store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/cb")
	two := f.register(store.OAuthConfidential, store.OAuthAuthorizationCode, "https://a.example.org/one", "https://a.example.org/two")
	public := f.register(store.OAuthPublic, store.OAuthAuthorizationCode, "http://127.0.0.1:9999/cb")
	challenge := s256(strings.Repeat("v", 50))
	for _, tc := range []struct {
		name     string
		q        url.Values
		code     string // "" for accepted
		redirect string // where the error goes, "" for the user's page
	}{
		{"implicit", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"token"}, "redirect_uri": {"https://a.example.org/cb"}, "scope": {"read"}}, "", ""},
		{"the only redirect URI by default", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"token"}}, "", ""},
		{"no client", url.Values{"response_type": {"token"}}, "invalid_request", ""},
		{"unknown client", url.Values{"client_id": {"nope-nope-nope-nope"}, "response_type": {"token"}}, "invalid_client", ""},
		{"redirect mismatch", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"token"}, "redirect_uri": {"https://a.example.org/cb/"}}, "invalid_request", ""},
		{"redirect of another host", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"token"}, "redirect_uri": {"https://evil.example.net/cb"}}, "invalid_request", ""},
		{"redirect needed among several", url.Values{"client_id": {two.Client.ClientID}, "response_type": {"code"}}, "invalid_request", ""},
		{"repeated parameter", url.Values{"client_id": {implicit.Client.ClientID, implicit.Client.ClientID}, "response_type": {"token"}}, "invalid_request", ""},
		{"grant type of another client", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"code"}}, "unauthorized_client", "https://a.example.org/cb"},
		{"unknown response type", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"id_token"}}, "unsupported_response_type", "https://a.example.org/cb"},
		{"unknown scope", url.Values{"client_id": {implicit.Client.ClientID}, "response_type": {"token"}, "scope": {"read admin"}}, "invalid_scope", "https://a.example.org/cb"},
		{"confidential code without PKCE", url.Values{"client_id": {two.Client.ClientID}, "response_type": {"code"}, "redirect_uri": {"https://a.example.org/two"}}, "", ""},
		{"public code without PKCE", url.Values{"client_id": {public.Client.ClientID}, "response_type": {"code"}}, "invalid_request", "http://127.0.0.1:9999/cb"},
		{"PKCE plain refused", url.Values{"client_id": {public.Client.ClientID}, "response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"plain"}}, "invalid_request", "http://127.0.0.1:9999/cb"},
		{"PKCE without method refused", url.Values{"client_id": {public.Client.ClientID}, "response_type": {"code"}, "code_challenge": {challenge}}, "invalid_request", "http://127.0.0.1:9999/cb"},
		{"PKCE short challenge", url.Values{"client_id": {public.Client.ClientID}, "response_type": {"code"}, "code_challenge": {"abc"}, "code_challenge_method": {"S256"}}, "invalid_request", "http://127.0.0.1:9999/cb"},
		{"PKCE S256", url.Values{"client_id": {public.Client.ClientID}, "response_type": {"code"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := f.p.CheckAuthorize(context.Background(), tc.q)
			if tc.code == "" {
				if err != nil || req.Scope != "read" {
					t.Fatalf("refused: %v %+v", err, req)
				}
				return
			}
			var ae *oauth.AuthorizeError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, %v; want %s", req, err, tc.code)
			}
			if ae.Code != tc.code || ae.RedirectURI != tc.redirect {
				t.Fatalf("got %s to %q, want %s to %q", ae.Code, ae.RedirectURI, tc.code, tc.redirect)
			}
			if tc.redirect != "" && !strings.Contains(ae.Redirect(), "error="+tc.code) {
				t.Fatalf("redirect %q", ae.Redirect())
			}
		})
	}
}

func TestOAuthImplicitTokenStoredHashed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.register(store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/cb?keep=1")
	u := f.authorize(url.Values{"client_id": {app.Client.ClientID}, "response_type": {"token"},
		"redirect_uri": {"https://a.example.org/cb?keep=1"}, "state": {"s&t=1#x"}})
	if u.Host != "a.example.org" || u.Path != "/cb" || u.RawQuery != "keep=1" {
		t.Fatalf("redirect %s", u)
	}
	frag, err := url.ParseQuery(u.EscapedFragment())
	if err != nil {
		t.Fatal(err)
	}
	token := frag.Get("access_token")
	if len(token) < 40 || frag.Get("token_type") != "Bearer" || frag.Get("state") != "s&t=1#x" || frag.Get("scope") != "read" {
		t.Fatalf("fragment %v", frag)
	}
	if got := frag.Get("expires_in"); got != "6048000" {
		t.Fatalf("expires_in %s, want 70 days", got)
	}
	a, err := f.p.Authenticate(context.Background(), token)
	if err != nil || a.Token.UserID != f.user.ID || a.Username != "ann" {
		t.Fatalf("authenticate: %+v %v", a, err)
	}
	// Nothing in the database holds the token in clear: every column of
	// every row, as text, is searched for it.
	var dump string
	if err := f.st.Pool().QueryRow(context.Background(),
		`SELECT coalesce(string_agg(t::text, ' '), '') FROM oauth_tokens t`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if dump == "" || strings.Contains(dump, token) {
		t.Fatalf("token in clear in the database: %s", dump)
	}
	sum := sha256.Sum256([]byte(token))
	var n int
	if err := f.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM oauth_tokens WHERE token_hash = $1`, sum[:]).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the token's SHA-256 is stored %d times (%v)", n, err)
	}
	for _, bad := range []string{"", token + "x", strings.Repeat("a", 600)} {
		if _, err := f.p.Authenticate(context.Background(), bad); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Errorf("token %.10q: %v", bad, err)
		}
	}
	// The user revokes it: refused at once.
	list, err := f.p.AuthorizedTokens(context.Background(), f.user.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("authorized tokens: %v %v", list, err)
	}
	if err := f.p.RevokeAuthorizedToken(context.Background(), f.other.ID, list[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user revoked it: %v", err)
	}
	if err := f.p.RevokeAuthorizedToken(context.Background(), f.user.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Authenticate(context.Background(), token); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("revoked token: %v", err)
	}
}

func TestOAuthClientSecretStoredHashed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.register(store.OAuthConfidential, store.OAuthAuthorizationCode, "https://a.example.org/cb")
	if len(app.Secret) < 40 {
		t.Fatalf("secret %q", app.Secret)
	}
	var dump string
	if err := f.st.Pool().QueryRow(context.Background(), `SELECT string_agg(c::text, ' ') FROM oauth_clients c`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, app.Secret) {
		t.Fatal("client secret in clear in the database")
	}
	// Public: no secret; made confidential again: a new one.
	in := store.OAuthClientInput{Name: "app", ClientType: store.OAuthPublic, GrantType: store.OAuthAuthorizationCode,
		RedirectURIs: []string{"https://a.example.org/cb"}}
	up, err := f.p.Update(context.Background(), f.user.ID, app.Client.ID, in)
	if err != nil || up.Secret != "" || up.Client.SecretHash != nil {
		t.Fatalf("to public: %+v %v", up, err)
	}
	in.ClientType = store.OAuthConfidential
	if up, err = f.p.Update(context.Background(), f.user.ID, app.Client.ID, in); err != nil || up.Secret == "" || up.Secret == app.Secret {
		t.Fatalf("to confidential: %+v %v", up, err)
	}
	if _, err := f.p.Update(context.Background(), f.other.ID, app.Client.ID, in); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's update: %v", err)
	}
}

func TestOAuthCodeExchange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conf := f.register(store.OAuthConfidential, store.OAuthAuthorizationCode, "https://a.example.org/cb")
	pub := f.register(store.OAuthPublic, store.OAuthAuthorizationCode, "http://localhost:8000/cb")
	implicit := f.register(store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/cb")
	verifier := strings.Repeat("0123456789", 5)

	code := func(app *oauth.NewApplication, redirect string, pkce bool) string {
		t.Helper()
		q := url.Values{"client_id": {app.Client.ClientID}, "response_type": {"code"}, "redirect_uri": {redirect}, "state": {"st"}}
		if pkce {
			q.Set("code_challenge", s256(verifier))
			q.Set("code_challenge_method", "S256")
		}
		u := f.authorize(q)
		if u.Query().Get("state") != "st" || u.Fragment != "" {
			t.Fatalf("redirect %s", u)
		}
		return u.Query().Get("code")
	}
	exchange := func(c string, app *oauth.NewApplication, redirect, ver string, basic bool, secret string) (int, map[string]any) {
		t.Helper()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {redirect}}
		if ver != "" {
			form.Set("code_verifier", ver)
		}
		if basic {
			return f.post("/o/token/", form, app.Client.ClientID, secret)
		}
		form.Set("client_id", app.Client.ClientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
		return f.post("/o/token/", form, "", "")
	}

	// Confidential, with its secret by Basic auth: once only.
	c := code(conf, "https://a.example.org/cb", false)
	if st, body := exchange(c, conf, "https://a.example.org/cb", "", true, "wrong"); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", st, body)
	}
	c = code(conf, "https://a.example.org/cb", false)
	if st, body := exchange(c, conf, "https://a.example.org/other", "", true, conf.Secret); st != http.StatusBadRequest {
		t.Fatalf("another redirect URI: %d %v", st, body)
	}
	c = code(conf, "https://a.example.org/cb", false)
	st, body := exchange(c, conf, "https://a.example.org/cb", "", true, conf.Secret)
	if st != http.StatusOK || body["token_type"] != "Bearer" || body["refresh_token"] != nil || body["expires_in"] != float64(6048000) {
		t.Fatalf("exchange: %d %v", st, body)
	}
	tok, _ := body["access_token"].(string)
	if a, err := f.p.Authenticate(context.Background(), tok); err != nil || a.Token.UserID != f.user.ID {
		t.Fatalf("authenticate: %v %v", a, err)
	}
	if st, body := exchange(c, conf, "https://a.example.org/cb", "", true, conf.Secret); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("code used twice: %d %v", st, body)
	}

	// Public, with PKCE: the verifier must match.
	c = code(pub, "http://localhost:8000/cb", true)
	if st, body := exchange(c, pub, "http://localhost:8000/cb", strings.Repeat("x", 50), false, ""); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, body)
	}
	c = code(pub, "http://localhost:8000/cb", true)
	if st, body := exchange(c, pub, "http://localhost:8000/cb", "", false, ""); st != http.StatusBadRequest {
		t.Fatalf("no verifier: %d %v", st, body)
	}
	c = code(pub, "http://localhost:8000/cb", true)
	if st, body := exchange(c, pub, "http://localhost:8000/cb", verifier, false, ""); st != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("PKCE exchange: %d %v", st, body)
	}
	// A code of one client is no use to another, and an implicit client
	// cannot use the token endpoint.
	c = code(pub, "http://localhost:8000/cb", true)
	if st, body := exchange(c, conf, "http://localhost:8000/cb", verifier, true, conf.Secret); st < 400 {
		t.Fatalf("another client's code: %d %v", st, body)
	}
	if st, body := exchange("whatever", implicit, "https://a.example.org/cb", "", false, ""); st != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Fatalf("implicit client at the token endpoint: %d %v", st, body)
	}
	if st, body := f.post("/o/token/", url.Values{"grant_type": {"password"}, "username": {"ann"}, "password": {"x"}}, conf.Client.ClientID, conf.Secret); st != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
		t.Fatalf("password grant: %d %v", st, body)
	}
	if st, body := f.post("/o/token/?code=x", url.Values{}, conf.Client.ClientID, conf.Secret); st != http.StatusBadRequest {
		t.Fatalf("query string: %d %v", st, body)
	}
}

func TestOAuthRevokeEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.register(store.OAuthConfidential, store.OAuthImplicit, "https://a.example.org/cb")
	other := f.register(store.OAuthPublic, store.OAuthImplicit, "https://b.example.org/cb")
	token := func() string {
		u := f.authorize(url.Values{"client_id": {app.Client.ClientID}, "response_type": {"token"}})
		frag, _ := url.ParseQuery(u.EscapedFragment())
		return frag.Get("access_token")
	}
	tok := token()
	if st, _ := f.post("/o/revoke_token/", url.Values{"token": {tok}}, app.Client.ClientID, "wrong"); st != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", st)
	}
	// Another client "revokes" it: 200, and nothing happens.
	if st, _ := f.post("/o/revoke_token/", url.Values{"token": {tok}, "client_id": {other.Client.ClientID}}, "", ""); st != http.StatusOK {
		t.Fatalf("other client: %d", st)
	}
	if _, err := f.p.Authenticate(context.Background(), tok); err != nil {
		t.Fatalf("revoked by another client: %v", err)
	}
	if st, _ := f.post("/o/revoke_token/", url.Values{"token": {tok}}, app.Client.ClientID, app.Secret); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	if _, err := f.p.Authenticate(context.Background(), tok); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if st, _ := f.post("/o/revoke_token/", url.Values{}, app.Client.ClientID, app.Secret); st != http.StatusBadRequest {
		t.Fatalf("no token: %d", st)
	}
}

func TestOAuthPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.register(store.OAuthPublic, store.OAuthImplicit, "https://a.example.org/cb")
	u := f.authorize(url.Values{"client_id": {app.Client.ClientID}, "response_type": {"token"}})
	frag, _ := url.ParseQuery(u.EscapedFragment())
	if n, err := f.p.Purge(context.Background(), time.Now()); err != nil || n != 0 {
		t.Fatalf("purged %d (%v) live tokens", n, err)
	}
	if n, err := f.p.Purge(context.Background(), time.Now().Add(71*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purged %d (%v), want 1", n, err)
	}
	if _, err := f.p.Authenticate(context.Background(), frag.Get("access_token")); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("purged token: %v", err)
	}
}

func TestOAuthScopesAndApplications(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "read", "read": "read", "write read": "read write", "write": "write",
		"read read": "read", "admin": "", "read admin": ""} {
		got, ok := oauth.ParseScope(in)
		if ok != (want != "") || got != want {
			t.Errorf("ParseScope(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, tc := range []struct {
		uris  string
		field string
	}{
		{"https://a.example.org/cb", ""},
		{"https://a.example.org/cb\n  https://a.example.org/cb  http://localhost:8080/x http://127.0.0.1/ http://[::1]:9/", ""},
		{"", "redirect_uris"},
		{"http://a.example.org/cb", "redirect_uris"}, // clear text over a network
		{"https://a.example.org/cb#frag", "redirect_uris"},
		{"https://user:pw@a.example.org/cb", "redirect_uris"},
		{"javascript:alert(1)", "redirect_uris"},
		{"/relative", "redirect_uris"},
		{"ftp://a.example.org/", "redirect_uris"},
		{"https://a;script-src.example.org/", "redirect_uris"},
		{manyURIs(21), "redirect_uris"},
		{manyURIs(20), ""},
	} {
		in, errs := oauth.CheckApplication(oauth.ApplicationForm{Name: "n", ClientType: store.OAuthPublic,
			GrantType: store.OAuthImplicit, RedirectURIs: tc.uris})
		got := ""
		if len(errs) > 0 {
			got = errs[0].Field
		}
		if got != tc.field {
			t.Errorf("%q: error on %q, want %q (%v)", tc.uris, got, tc.field, in.RedirectURIs)
		}
	}
	_, errs := oauth.CheckApplication(oauth.ApplicationForm{Name: " ", ClientType: "secret", GrantType: "password",
		RedirectURIs: "https://a.example.org/"})
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, ",") != "name,client_type,grant_type" {
		t.Errorf("errors on %v", fields)
	}
}

func manyURIs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "https://a.example.org/%d\n", i)
	}
	return b.String()
}
