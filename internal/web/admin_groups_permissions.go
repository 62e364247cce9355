package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminGroupsPermissions makes the checked permissions
// (permission=<name>, repeated) the exact set granted to the group, and so
// to each of its members. An unknown permission changes nothing (422).
func (s *Server) adminGroupsPermissions(w http.ResponseWriter, r *http.Request) {
	g := s.groupFromURL(w, r)
	if g == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	perms, ok := formPermissions(r, "permission")
	if !ok {
		s.renderAdminGroup(w, r, g, http.StatusUnprocessableEntity, func(d *adminGroupShowData) {
			d.Errors = d.Errors.add("permissions", i18n.M("adminacct.perm.invalid"))
		})
		return
	}
	if s.loadFailed(w, r, s.store.SetGroupPermissions(ctx, g.ID, perms)) {
		return
	}
	members, err := s.groupMemberIDs(ctx, g.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.forgetPrincipals(members...)
	s.log.Info("group permissions set", "group", g.ID, "permissions", perms, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.groups.permissions.saved"))
	http.Redirect(w, r, s.adminGroupPath(g.ID), http.StatusSeeOther)
}
