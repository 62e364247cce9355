package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Paths of the OAuth2 provider's pages (django-oauth-toolkit's, which
// ganetimgr's users know).
const (
	oauthApplicationsPath = "/o/applications/"
	oauthTokensPath       = "/o/authorized_tokens/"
)

// oauthCrossOriginRoutes are the routes exempt from the cross-origin
// protection (see crossOriginProtection and routes.go): the OAuth2 token
// and revocation endpoints, which scripts and other sites' pages call with
// a POST. They carry no cookie authority: no session is loaded on them,
// and every request authenticates with the client's own credentials
// (and a code or token), which a forged cross-site request does not have.
func oauthCrossOriginRoutes() []string {
	return []string{"POST /o/token/{$}", "POST /o/revoke_token/{$}"}
}

// requireOAuth answers 404 on the OAuth2 and API routes of a server built
// without a provider (Deps.OAuth nil).
func (s *Server) requireOAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.oauth == nil {
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiCORS lets the pages of the configured origins (GANETIMGR_API_CORS_ORIGINS)
// call the JSON API and the token endpoints from a browser. Credentials
// (cookies) are never allowed: these routes authenticate by token or client
// credentials only. A preflight from another origin is refused.
func (s *Server) apiCORS(methods string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			allowed := origin != "" && slices.Contains(s.cfg.OAuth.CORSOrigins, origin)
			if allowed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			}
			if r.Method == http.MethodOptions {
				if !allowed || r.Header.Get("Access-Control-Request-Method") == "" {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				h.Set("Access-Control-Allow-Methods", methods)
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// oauthAppID reads the {id} of an application or token route; false for
// anything that is not an id (answered as not found).
func oauthAppID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

// oauthAppPath returns the path of an application's page, with suffix
// ("", "update/", "delete/").
func oauthAppPath(id int64, suffix string) string {
	return oauthApplicationsPath + strconv.FormatInt(id, 10) + "/" + suffix
}

// oauthAppForm is the application form (register and update).
type oauthAppForm struct {
	ID           int64
	Name         string
	ClientType   string
	GrantType    string
	RedirectURIs string
	Errors       fieldErrors
}

// oauthAppFormOf reads the posted application form.
func oauthAppFormOf(r *http.Request) oauthAppForm {
	pf := r.PostForm
	return oauthAppForm{Name: pf.Get("name"), ClientType: pf.Get("client_type"), GrantType: pf.Get("grant_type"),
		RedirectURIs: pf.Get("redirect_uris")}
}

// check validates the form, recording the errors in it.
func (f *oauthAppForm) check() store.OAuthClientInput {
	in, errs := oauth.CheckApplication(oauth.ApplicationForm{Name: f.Name, ClientType: f.ClientType,
		GrantType: f.GrantType, RedirectURIs: f.RedirectURIs})
	for _, e := range errs {
		f.Errors = f.Errors.add(e.Field, e.Message.Msg, e.Message.Args...)
	}
	return in
}

// oauthAppPage is an application's page: its settings, and its secret
// right after it was made (never again).
type oauthAppPage struct {
	App    oauthApp
	Secret string
	// AuthorizeURL is an example authorization address for it.
	AuthorizeURL string
}

// renderOAuthApp renders an application's page.
func (s *Server) renderOAuthApp(w http.ResponseWriter, r *http.Request, status int, app *store.OAuthClient, secret string) {
	q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {app.RedirectURIs[0]}, "scope": {oauth.ScopeRead}}
	if app.GrantType == store.OAuthImplicit {
		q.Set("response_type", "token")
	} else {
		q.Set("response_type", "code")
	}
	base := ""
	if s.cfg.BaseURL != nil {
		base = strings.TrimSuffix(s.cfg.BaseURL.String(), "/")
	}
	if secret != "" {
		w.Header().Set("Referrer-Policy", "no-referrer")
	}
	s.render(w, r, status, "oauth_application", oauthAppPage{App: oauthApp{app}, Secret: secret,
		AuthorizeURL: base + "/o/authorize/?" + q.Encode()})
}

// oauthApp is an application as pages show it.
type oauthApp struct{ *store.OAuthClient }

// ClientTypeLabel names the application's client type.
func (a oauthApp) ClientTypeLabel() i18n.Msg {
	if a.ClientType == store.OAuthPublic {
		return i18n.M("oauth.app.type.public")
	}
	return i18n.M("oauth.app.type.confidential")
}

// GrantTypeLabel names the application's grant type.
func (a oauthApp) GrantTypeLabel() i18n.Msg {
	if a.GrantType == store.OAuthImplicit {
		return i18n.M("oauth.app.grant.implicit")
	}
	return i18n.M("oauth.app.grant.code")
}

// oauthApps wraps a list of applications for the pages.
func oauthApps(cs []*store.OAuthClient) []oauthApp {
	out := make([]oauthApp, len(cs))
	for i, c := range cs {
		out[i] = oauthApp{c}
	}
	return out
}

// purgeOAuthTokens deletes the expired OAuth2 codes and tokens (for Sweep;
// nothing without a provider).
func (s *Server) purgeOAuthTokens(ctx context.Context, now time.Time) (int64, error) {
	if s.oauth == nil {
		return 0, nil
	}
	return s.oauth.Purge(ctx, now)
}

// corsPreflight anchors the OPTIONS routes of the API and token endpoints:
// apiCORS answers every preflight before it is reached.
func corsPreflight(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
