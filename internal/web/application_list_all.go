package web

import "net/http"

// applicationListAll shows every applicant's applications, pending and
// completed, filtered by status: for holders of view_applications and
// reviewers (change_application); others get a 404.
func (s *Server) applicationListAll(w http.ResponseWriter, r *http.Request) {
	s.renderApplicationList(w, r, true)
}
