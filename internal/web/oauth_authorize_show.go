package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// oauthAuthorizePage is the consent page: which application asks for what,
// and where the answer goes.
type oauthAuthorizePage struct {
	App         oauthApp
	Owner       string // who registered the application
	Scopes      []i18n.Msg
	RedirectURI string
	// Params are the request's parameters, posted back with the decision.
	Params url.Values
}

// oauthAuthorizeShow is the authorization endpoint (GET /o/authorize/): it
// checks the request and asks the logged-in user to allow or deny it. A
// request whose client or redirect URI cannot be trusted is refused on a
// page; other refusals go back to the client's redirect URI.
func (s *Server) oauthAuthorizeShow(w http.ResponseWriter, r *http.Request) {
	req, ok := s.checkAuthorize(w, r, r.URL.Query())
	if !ok {
		return
	}
	owner := ""
	if u, err := s.store.UserByID(r.Context(), req.Client.UserID); err == nil {
		owner = u.Username
	} else if !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	page := oauthAuthorizePage{App: oauthApp{req.Client}, Owner: owner, RedirectURI: req.RedirectURI, Params: req.Params()}
	for _, sc := range req.Scopes {
		if sc == oauth.ScopeWrite {
			page.Scopes = append(page.Scopes, i18n.M("oauth.scope.write"))
		} else {
			page.Scopes = append(page.Scopes, i18n.M("oauth.scope.read"))
		}
	}
	// The decision is posted here and answered with a redirect to the
	// client: the page's form-action must allow the client's origin, or
	// the browser stops the redirect.
	if origin := redirectOrigin(req.RedirectURI); origin != "" {
		w.Header().Set("Content-Security-Policy",
			strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action 'self' "+origin, 1))
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "oauth_authorize", page)
}

// checkAuthorize checks an authorization request's parameters and answers
// a refused one: on an error page when the client or its redirect URI is
// not to be trusted, else with a redirect that tells the client.
func (s *Server) checkAuthorize(w http.ResponseWriter, r *http.Request, params url.Values) (*oauth.AuthorizeRequest, bool) {
	req, err := s.oauth.CheckAuthorize(r.Context(), params)
	var ae *oauth.AuthorizeError
	switch {
	case errors.As(err, &ae):
		s.log.Info("oauth authorization request refused", "error", ae.Code, "user_id", principalFrom(r).User.ID,
			"request_id", requestIDFrom(r))
		if to := ae.Redirect(); to != "" {
			http.Redirect(w, r, to, http.StatusSeeOther)
		} else {
			s.badRequest(w, r, ae.Message)
		}
		return nil, false
	case err != nil:
		s.serverError(w, r, err)
		return nil, false
	}
	return req, true
}

// redirectOrigin returns the origin of a registered redirect URI for a
// Content-Security-Policy source ("" if it is not a plain http(s) origin).
func redirectOrigin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}
