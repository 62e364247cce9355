package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminUsersLogoutEverywhere ends every session of an account, on every
// device: its session epoch changes, and sessions carrying the old one are
// refused at their next request. For the administrator's own account this
// includes the current session.
func (s *Server) adminUsersLogoutEverywhere(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	_, err := s.store.BumpSessionEpoch(ctx, u.ID)
	if s.loadFailed(w, r, err) {
		return
	}
	s.forgetPrincipals(u.ID)
	by := principalFrom(r).User.ID
	s.log.Info("account logged out everywhere", "user_id", u.ID, "by", by, "request_id", requestIDFrom(r))
	if u.ID == by {
		if err := s.endSession(ctx); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.addFlash(ctx, "success", i18n.M("logout.everywhere.done"))
		http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
		return
	}
	s.addFlash(ctx, "success", i18n.M("adminacct.users.loggedout"))
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}
