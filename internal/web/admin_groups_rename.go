package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminGroupsRename renames a group. Instances tagged with the old name
// are not retagged, so its members stop seeing them through the group;
// the page says so before.
func (s *Server) adminGroupsRename(w http.ResponseWriter, r *http.Request) {
	g := s.groupFromURL(w, r)
	if g == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	name, errs, err := s.groupName(ctx, r, g.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) == 0 {
		err = s.store.RenameGroup(ctx, g.ID, name)
		if errors.Is(err, store.ErrConflict) {
			errs = errs.add("name", i18n.M("adminacct.groups.name.taken"))
		} else if s.loadFailed(w, r, err) {
			return
		}
	}
	if len(errs) > 0 {
		s.renderAdminGroup(w, r, g, http.StatusUnprocessableEntity, func(d *adminGroupShowData) {
			d.Name, d.Errors = name, errs
		})
		return
	}
	// The members' group names changed (instance visibility, page caches).
	members, err := s.groupMemberIDs(ctx, g.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.forgetPrincipals(members...)
	s.log.Info("group renamed", "group", g.ID, "from", g.Name, "to", name, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.groups.renamed"))
	http.Redirect(w, r, s.adminGroupPath(g.ID), http.StatusSeeOther)
}
