package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// oauthTokensPage lists the access tokens the user granted.
type oauthTokensPage struct {
	Tokens []*store.OAuthToken
}

// oauthTokensList shows the valid access tokens the user granted to
// applications, each with a button that revokes it.
func (s *Server) oauthTokensList(w http.ResponseWriter, r *http.Request) {
	ts, err := s.oauth.AuthorizedTokens(r.Context(), principalFrom(r).User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "oauth_tokens", oauthTokensPage{Tokens: ts})
}
