package web

import "net/http"

// adminOrgsDeleteConfirm asks before deleting an organization, saying how
// many users belong to it.
func (s *Server) adminOrgsDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	o := s.organizationFromURL(w, r)
	if o == nil {
		return
	}
	s.render(w, r, http.StatusOK, "admin_org_delete", o)
}
