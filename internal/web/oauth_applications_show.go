package web

import "net/http"

// oauthApplicationsShow shows one of the user's applications; another
// user's is a 404.
func (s *Server) oauthApplicationsShow(w http.ResponseWriter, r *http.Request) {
	id, ok := oauthAppID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	app, err := s.oauth.Application(r.Context(), principalFrom(r).User.ID, id)
	if s.loadFailed(w, r, err) {
		return
	}
	s.renderOAuthApp(w, r, http.StatusOK, app, "")
}
