package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// oauthAppsPage lists the user's OAuth2 applications.
type oauthAppsPage struct {
	Apps []oauthApp
	Max  int
}

// oauthApplicationsList shows the applications the user registered.
func (s *Server) oauthApplicationsList(w http.ResponseWriter, r *http.Request) {
	apps, err := s.oauth.Applications(r.Context(), principalFrom(r).User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "oauth_applications", oauthAppsPage{Apps: oauthApps(apps), Max: store.MaxOAuthClientsPerUser})
}
