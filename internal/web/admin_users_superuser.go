package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminUsersSuperuser grants or removes superuser status (superuser=on|off).
// Removing it from the last active superuser is refused; administrators
// who remove their own status go to the start page, since the
// administration pages are closed to them from then on.
func (s *Server) adminUsersSuperuser(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	superuser, ok := formSwitch(r, "superuser")
	if !ok {
		s.badRequest(w, r, i18n.M("error.badform"))
		return
	}
	ctx := r.Context()
	if s.accountActionFailed(w, r, u.ID, s.store.SetUserSuperuser(ctx, u.ID, superuser)) {
		return
	}
	s.forgetPrincipals(u.ID)
	by := principalFrom(r).User.ID
	s.log.Info("account superuser changed", "user_id", u.ID, "superuser", superuser, "by", by, "request_id", requestIDFrom(r))
	if superuser {
		s.addFlash(ctx, "success", i18n.M("adminacct.users.superuser.granted"))
	} else {
		s.addFlash(ctx, "success", i18n.M("adminacct.users.superuser.removed"))
	}
	if !superuser && u.ID == by {
		http.Redirect(w, r, s.path("/"), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}
