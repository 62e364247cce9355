package web

import "net/http"

// clusterNew shows the empty form for adding a cluster.
func (s *Server) clusterNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "cluster_form", newClusterForm())
}
