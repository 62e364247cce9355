package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminOrgsListData is the administrators' organization list; Prefix is
// the Ganeti tag prefix, to show each organization's full tag.
type adminOrgsListData struct {
	Organizations []store.Organization
	Prefix        string
}

// adminOrgsList lists the organizations with their tags and user counts.
func (s *Server) adminOrgsList(w http.ResponseWriter, r *http.Request) {
	orgs, err := s.store.ListOrganizations(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_orgs", adminOrgsListData{Organizations: orgs, Prefix: s.cfg.TagPrefix})
}
