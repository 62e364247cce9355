package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminOrgsDelete deletes an organization; its users are left without
// one, and instances tagged with it keep their tag.
func (s *Server) adminOrgsDelete(w http.ResponseWriter, r *http.Request) {
	o := s.organizationFromURL(w, r)
	if o == nil {
		return
	}
	ctx := r.Context()
	if s.loadFailed(w, r, s.store.DeleteOrganization(ctx, o.ID)) {
		return
	}
	s.log.Info("organization deleted", "organization", o.ID, "tag", o.Tag, "members", o.Members,
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.orgs.deleted"))
	http.Redirect(w, r, s.path("/admin/organizations"), http.StatusSeeOther)
}
