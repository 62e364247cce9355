package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/oauth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The JSON API (api_*.go) is ganetimgr's: scripts read a user's data with
// an OAuth2 access token, given as the access_token query parameter (as
// ganetimgr documented it) or as "Authorization: Bearer" (RFC 6750). No
// session or cookie is involved.

// apiAccessKey keys the authenticated access token in a request context.
type apiAccessKey struct{}

// apiAccessFrom returns the request's access token and its user (set by
// apiAuth).
func apiAccessFrom(r *http.Request) *store.OAuthAccess {
	a, _ := r.Context().Value(apiAccessKey{}).(*store.OAuthAccess)
	return a
}

// apiRealm names the protected API in WWW-Authenticate.
const apiRealm = `Bearer realm="ganetimgr"`

// apiAuth authenticates the request's access token, with the read scope.
// A missing, unknown, expired or revoked token (or one whose user can no
// longer log in) is a 401 with WWW-Authenticate; a token without the read
// scope a 403. The token is never logged.
func (s *Server) apiAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		token, ok := bearerToken(r)
		if !ok {
			s.apiError(w, r, http.StatusBadRequest, "invalid_request", i18n.M("api.error.token.twice"),
				apiRealm+`, error="invalid_request"`)
			return
		}
		if token == "" {
			s.apiError(w, r, http.StatusUnauthorized, "invalid_request", i18n.M("api.error.token.missing"), apiRealm)
			return
		}
		a, err := s.oauth.Authenticate(r.Context(), token)
		if errors.Is(err, oauth.ErrInvalidToken) {
			s.apiError(w, r, http.StatusUnauthorized, "invalid_token", i18n.M("api.error.token.invalid"),
				apiRealm+`, error="invalid_token"`)
			return
		}
		if err != nil {
			s.log.Error("api authentication", "err", err, "request_id", requestIDFrom(r), "path", logPath(r))
			s.apiError(w, r, http.StatusInternalServerError, "server_error", i18n.M("error.internal"), "")
			return
		}
		if !oauth.HasScope(a.Token.Scope, oauth.ScopeRead) {
			s.apiError(w, r, http.StatusForbidden, "insufficient_scope", i18n.M("api.error.scope"),
				apiRealm+`, error="insufficient_scope", scope="`+oauth.ScopeRead+`"`)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), apiAccessKey{}, a)))
	})
}

// bearerToken returns the access token of the request: from
// "Authorization: Bearer", or the access_token query parameter. It is ""
// when there is none, and false when the request carries more than one
// (RFC 6750 §2 allows one method per request).
func bearerToken(r *http.Request) (string, bool) {
	var header string
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, found := strings.Cut(h, " "); found && strings.EqualFold(scheme, "Bearer") {
			header = strings.TrimSpace(tok)
		}
	}
	query := r.URL.Query()["access_token"]
	switch {
	case len(query) > 1, len(query) == 1 && header != "":
		return "", false
	case len(query) == 1:
		return query[0], true
	}
	return header, true
}

// apiErrorBody is an error answer of the API (RFC 6750's error codes, with
// a description in the language the request asks for).
type apiErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// apiError answers with a JSON error; challenge, when set, is the
// WWW-Authenticate header.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, status int, code string, msg i18n.Msg, challenge string) {
	if challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	loc := s.bundle.Localizer(s.bundle.NegotiateRequest(r, "", langCookie))
	s.writeJSON(w, r, status, apiErrorBody{Error: code, Description: loc.Msg(msg)})
}

// writeJSON answers with v as JSON, encoded to a buffer first so that an
// encoding failure is a clean 500.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		s.log.Error("api: encode", "err", err, "request_id", requestIDFrom(r))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"server_error"}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// apiUser is a user as the API shows them: never a password or its hash.
type apiUser struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	ID       int64  `json:"id"`
}

func apiUserOf(a *store.OAuthAccess) apiUser {
	return apiUser{Username: a.Username, Email: a.Email, ID: a.Token.UserID}
}
