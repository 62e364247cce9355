package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminOrgsUpdate saves a changed organization. Instances tagged with an
// old tag are not retagged; the form says so.
func (s *Server) adminOrgsUpdate(w http.ResponseWriter, r *http.Request) {
	o := s.organizationFromURL(w, r)
	if o == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := s.orgFormFrom(o)
	if err := s.parseOrgForm(ctx, r, f); err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_org_form", f)
		return
	}
	updated, err := s.store.UpdateOrganization(ctx, o.ID, f.OrganizationInput)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r) // deleted meanwhile
		return
	}
	if err != nil {
		s.orgSaveError(w, r, f, err)
		return
	}
	s.log.Info("organization changed", "organization", updated.ID, "tag", updated.Tag, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.orgs.saved"))
	http.Redirect(w, r, s.path("/admin/organizations"), http.StatusSeeOther)
}
