package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestOAuthCodePKCE runs the authorization code grant with PKCE (S256) with
// golang.org/x/oauth2 as the client, for a public client (verifier only)
// and a confidential one (secret in HTTP Basic), then calls the API with
// the token as a Bearer header.
func TestOAuthCodePKCE(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("ann", "correct horse battery", false)
	c := h.client()
	c.mustLogin("ann", "correct horse battery")
	const redirect = "http://127.0.0.1:9/callback"
	public := c.registerApp("CLI", store.OAuthPublic, store.OAuthAuthorizationCode, redirect)
	confidential := c.registerApp("Service", store.OAuthConfidential, store.OAuthAuthorizationCode, redirect)

	for _, tc := range []struct {
		name string
		app  oauthTestApp
		auth oauth2.AuthStyle
	}{
		{"public", public, oauth2.AuthStyleInParams},
		{"confidential", confidential, oauth2.AuthStyleInHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := &oauth2.Config{ClientID: tc.app.clientID, ClientSecret: tc.app.secret, RedirectURL: redirect,
				Scopes: []string{"read"}, Endpoint: oauth2.Endpoint{AuthURL: h.baseURL + "/o/authorize/",
					TokenURL: h.baseURL + "/o/token/", AuthStyle: tc.auth}}
			verifier := oauth2.GenerateVerifier()
			authURL, err := url.Parse(conf.AuthCodeURL("state-"+tc.name, oauth2.S256ChallengeOption(verifier)))
			if err != nil {
				t.Fatal(err)
			}
			back := c.consent(authURL.Query(), "allow")
			if got := back.Scheme + "://" + back.Host + back.Path; got != redirect || back.Query().Get("state") != "state-"+tc.name {
				t.Fatalf("redirected to %s", back)
			}
			code := back.Query().Get("code")
			ctx := context.Background()
			// The wrong verifier is refused, and the code is then spent.
			if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
				t.Fatal("a wrong verifier was accepted")
			}
			back = c.consent(authURL.Query(), "allow")
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.Expiry.IsZero() {
				t.Fatalf("token %+v", tok)
			}
			if _, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
				t.Fatal("a code was exchanged twice")
			}
			resp, err := conf.Client(ctx, tok).Get(h.baseURL + "/user/details/")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("user details: %d %s", resp.StatusCode, b)
			}
			if len(got) != 3 || got["username"] != "ann" || got["email"] != "ann@example.org" || got["id"] == nil {
				t.Fatalf("user details: %s", b)
			}
		})
	}
	// The token endpoint takes POSTs from other origins by design: the
	// cross-origin protection does not stand in the way (the answer is the
	// endpoint's own), and the client's credentials are still required.
	req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/o/token/", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {"nope"}, "redirect_uri": {redirect}, "client_id": {confidential.clientID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://tools.example.org")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `"error":"invalid_client"`) {
		t.Fatalf("cross-origin token request: %d %s", resp.StatusCode, b)
	}
	if strings.Contains(h.logs.String(), confidential.secret) {
		t.Fatal("client secret logged")
	}
}
