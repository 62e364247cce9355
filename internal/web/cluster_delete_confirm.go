package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clusterDeleteData is the delete confirmation page.
type clusterDeleteData struct {
	Cluster  *store.Cluster
	Networks int
}

// clusterDeleteConfirm asks before deleting a cluster, saying what goes
// with it.
func (s *Server) clusterDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	c := s.editableCluster(w, r)
	if c == nil {
		return
	}
	n, err := s.store.CountNetworks(r.Context(), c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cluster_delete", clusterDeleteData{Cluster: c, Networks: n})
}
