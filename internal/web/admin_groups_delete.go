package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminGroupsDelete deletes a group with its memberships and grants.
// Instances tagged with its name are not retagged.
func (s *Server) adminGroupsDelete(w http.ResponseWriter, r *http.Request) {
	g := s.groupFromURL(w, r)
	if g == nil {
		return
	}
	ctx := r.Context()
	members, err := s.groupMemberIDs(ctx, g.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if s.loadFailed(w, r, s.store.DeleteGroup(ctx, g.ID)) {
		return
	}
	s.forgetPrincipals(members...)
	s.log.Info("group deleted", "group", g.ID, "name", g.Name, "members", len(members), "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.groups.deleted"))
	http.Redirect(w, r, s.path("/admin/groups"), http.StatusSeeOther)
}
