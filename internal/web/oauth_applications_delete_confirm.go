package web

import "net/http"

// oauthApplicationsDeleteConfirm asks before deleting one of the user's
// applications; another user's is a 404.
func (s *Server) oauthApplicationsDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	id, ok := oauthAppID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	app, err := s.oauth.Application(r.Context(), principalFrom(r).User.ID, id)
	if s.loadFailed(w, r, err) {
		return
	}
	s.render(w, r, http.StatusOK, "oauth_application_delete", oauthApp{app})
}
