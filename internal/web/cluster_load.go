package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clusterFromURL loads the cluster named by the {id} URL parameter. On
// failure it has answered (404 or 500) and returns nil.
func (s *Server) clusterFromURL(w http.ResponseWriter, r *http.Request) *store.Cluster {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return nil
	}
	c, err := s.store.ClusterByID(r.Context(), id)
	if s.loadFailed(w, r, err) {
		return nil
	}
	return c
}

// editableCluster is clusterFromURL for changes: the demo cluster is
// managed by the demo mode and refused with 400.
func (s *Server) editableCluster(w http.ResponseWriter, r *http.Request) *store.Cluster {
	c := s.clusterFromURL(w, r)
	if c != nil && c.Demo {
		s.badRequest(w, r, i18n.M("cluster.demo.readonly"))
		return nil
	}
	return c
}

// clusterPath is the address of a cluster's administration page.
func (s *Server) clusterPath(id int64, suffix string) string {
	return s.path("/admin/clusters/" + strconv.FormatInt(id, 10) + suffix)
}
