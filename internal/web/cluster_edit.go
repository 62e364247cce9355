package web

import "net/http"

// clusterEdit shows the form for changing a cluster; the password field
// stays empty (empty keeps the stored password).
func (s *Server) clusterEdit(w http.ResponseWriter, r *http.Request) {
	c := s.editableCluster(w, r)
	if c == nil {
		return
	}
	s.render(w, r, http.StatusOK, "cluster_form", clusterFormFrom(c))
}
