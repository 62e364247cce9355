package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// logout ends the session (clearing it and renewing its token) and returns
// to the login page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := s.endSession(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.addFlash(ctx, "success", i18n.M("logout.done"))
	http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
}
