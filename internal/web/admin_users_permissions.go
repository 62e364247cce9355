package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminUsersPermissions makes the checked permissions
// (permission=<name>, repeated) the exact set granted to the account
// directly; those it holds through groups are unaffected. An unknown
// permission changes nothing (422).
func (s *Server) adminUsersPermissions(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	perms, ok := formPermissions(r, "permission")
	if !ok {
		s.renderAdminUser(w, r, u.ID, http.StatusUnprocessableEntity, func(d *adminUserShowData) {
			d.Errors = d.Errors.add("permissions", i18n.M("adminacct.perm.invalid"))
		})
		return
	}
	err := s.store.SetUserPermissions(ctx, u.ID, perms)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r) // the account went away meanwhile
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.forgetPrincipals(u.ID)
	s.log.Info("account permissions set", "user_id", u.ID, "permissions", perms, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.users.permissions.saved"))
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}
