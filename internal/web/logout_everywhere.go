package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// logoutEverywhere ends every session of the current user, on every device,
// this one included: the user's session epoch changes, and sessions carrying
// the old one are refused at their next request.
func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := principalFrom(r)
	if _, err := s.store.BumpSessionEpoch(ctx, p.User.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.principals.forget(p.User.ID)
	if err := s.endSession(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("logged out everywhere", "user_id", p.User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("logout.everywhere.done"))
	http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
}
