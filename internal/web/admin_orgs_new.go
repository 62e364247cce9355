package web

import "net/http"

// adminOrgsNew shows the empty organization form.
func (s *Server) adminOrgsNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin_org_form", s.newOrgForm())
}
