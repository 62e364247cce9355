package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// oauthApplicationsNew shows the form that registers an application.
func (s *Server) oauthApplicationsNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "oauth_application_form", oauthAppForm{ClientType: store.OAuthConfidential,
		GrantType: store.OAuthAuthorizationCode})
}
