package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminOrgsCreate adds an organization.
func (s *Server) adminOrgsCreate(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := s.newOrgForm()
	if err := s.parseOrgForm(ctx, r, f); err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_org_form", f)
		return
	}
	o, err := s.store.CreateOrganization(ctx, f.OrganizationInput)
	if err != nil {
		s.orgSaveError(w, r, f, err)
		return
	}
	s.log.Info("organization added", "organization", o.ID, "tag", o.Tag, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.orgs.added"))
	http.Redirect(w, r, s.path("/admin/organizations"), http.StatusSeeOther)
}
