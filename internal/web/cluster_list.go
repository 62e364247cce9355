package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clusterListData is the cluster administration list.
type clusterListData struct {
	Clusters []*store.Cluster
}

// clusterList lists the registered clusters with checkboxes for bulk
// enabling and disabling. It reads the database only.
func (s *Server) clusterList(w http.ResponseWriter, r *http.Request) {
	clusters, err := s.store.Clusters(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "clusters", clusterListData{Clusters: clusters})
}
