package web

import "net/http"

// adminOrgsEdit shows the form for changing an organization.
func (s *Server) adminOrgsEdit(w http.ResponseWriter, r *http.Request) {
	o := s.organizationFromURL(w, r)
	if o == nil {
		return
	}
	s.render(w, r, http.StatusOK, "admin_org_form", s.orgFormFrom(o))
}
