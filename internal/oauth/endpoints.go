package oauth

import (
	"encoding/json"
	"errors"
	"net/http"

	oauth2 "github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// HandleToken is the token endpoint (RFC 6749 §3.2): it exchanges an
// authorization code for an access token. The client authenticates with
// HTTP Basic or client_id and client_secret in the form; a public client
// sends its client_id and the PKCE code_verifier. Parameters are read from
// the form body only: a request with a query string is refused, so that no
// code or secret is left in a URL.
func (p *Provider) HandleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.RawQuery != "" {
		p.jsonError(w, http.StatusBadRequest, oerrors.ErrInvalidRequest, nil)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.jsonError(w, http.StatusBadRequest, oerrors.ErrInvalidRequest, nil)
		return
	}
	// Only the authorization code grant is served (no password, client
	// credentials or refresh grants).
	if r.PostForm.Get("grant_type") != string(oauth2.AuthorizationCode) {
		p.jsonError(w, http.StatusBadRequest, oerrors.ErrUnsupportedGrantType, nil)
		return
	}
	if err := p.srv.HandleTokenRequest(w, r); err != nil {
		p.log.Error("oauth: token response", "err", err)
	}
}

// HandleRevoke is the revocation endpoint (RFC 7009): an authenticated
// client revokes one of its own access tokens (or codes). The answer is 200
// whether or not there was such a token, so it reveals nothing.
func (p *Provider) HandleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.RawQuery != "" {
		p.jsonError(w, http.StatusBadRequest, oerrors.ErrInvalidRequest, nil)
		return
	}
	id, secret, err := credentials(r)
	if errors.Is(err, oerrors.ErrInvalidRequest) {
		p.jsonError(w, http.StatusBadRequest, err, nil)
		return
	}
	unauthorized := http.Header{"WWW-Authenticate": {`Basic realm="ganetimgr"`}}
	if err != nil {
		p.jsonError(w, http.StatusUnauthorized, oerrors.ErrInvalidClient, unauthorized)
		return
	}
	ctx := r.Context()
	c, err := p.store.OAuthClientByClientID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !(clientInfo{c}).VerifyPassword(secret)) {
		p.jsonError(w, http.StatusUnauthorized, oerrors.ErrInvalidClient, unauthorized)
		return
	} else if err != nil {
		p.log.Error("oauth: revoke", "err", err)
		p.jsonError(w, http.StatusInternalServerError, oerrors.ErrServerError, nil)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		p.jsonError(w, http.StatusBadRequest, oerrors.ErrInvalidRequest, nil)
		return
	}
	if len(token) <= maxSecretLen {
		if _, err := p.store.RevokeOAuthTokenOfClient(ctx, c.ClientID, HashSecret(token)); err != nil {
			p.log.Error("oauth: revoke", "err", err)
			p.jsonError(w, http.StatusInternalServerError, oerrors.ErrServerError, nil)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// jsonError writes an OAuth2 error answer.
func (p *Provider) jsonError(w http.ResponseWriter, status int, oerr error, header http.Header) {
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": oerr.Error(),
		"error_description": oerrors.Descriptions[oerr]})
}
