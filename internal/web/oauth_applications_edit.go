package web

import (
	"net/http"
	"strings"
)

// oauthApplicationsEdit shows the form that changes one of the user's
// applications; another user's is a 404.
func (s *Server) oauthApplicationsEdit(w http.ResponseWriter, r *http.Request) {
	id, ok := oauthAppID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	app, err := s.oauth.Application(r.Context(), principalFrom(r).User.ID, id)
	if s.loadFailed(w, r, err) {
		return
	}
	s.render(w, r, http.StatusOK, "oauth_application_form", oauthAppForm{ID: app.ID, Name: app.Name,
		ClientType: app.ClientType, GrantType: app.GrantType, RedirectURIs: strings.Join(app.RedirectURIs, "\n")})
}
