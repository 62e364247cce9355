package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// formSwitch reads an on/off form value; false when it is neither.
func formSwitch(r *http.Request, name string) (on, ok bool) {
	switch r.PostForm.Get(name) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

// adminUsersActive activates or deactivates an approved account
// (active=on|off). A deactivated user's sessions end at their next
// request. Administrators cannot deactivate themselves, and the last
// active superuser is never deactivated.
func (s *Server) adminUsersActive(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	active, ok := formSwitch(r, "active")
	if !ok {
		s.badRequest(w, r, i18n.M("error.badform"))
		return
	}
	by := principalFrom(r).User.ID
	if !active && u.ID == by {
		s.renderAdminUser(w, r, u.ID, http.StatusConflict, func(d *adminUserShowData) {
			d.Error = i18n.Message{Msg: i18n.M("adminacct.users.error.deactivateself")}
		})
		return
	}
	ctx := r.Context()
	if s.accountActionFailed(w, r, u.ID, s.store.SetUserActive(ctx, u.ID, active)) {
		return
	}
	s.forgetPrincipals(u.ID)
	s.log.Info("account active changed", "user_id", u.ID, "active", active, "by", by, "request_id", requestIDFrom(r))
	if active {
		s.addFlash(ctx, "success", i18n.M("adminacct.users.activated"))
	} else {
		s.addFlash(ctx, "success", i18n.M("adminacct.users.deactivated"))
	}
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}
