package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clusterShowData is a cluster's administration page; Test is set after
// "Test connection".
type clusterShowData struct {
	Cluster  *store.Cluster
	Networks []*store.Network
	Test     *clusterTestResult
}

// clusterTestResult is the outcome of a connection test.
type clusterTestResult struct {
	Error i18n.Msg // zero on success
	Probe *clusterProbe
}

// clusterShow shows a cluster's settings (never its password) and its
// declared networks. It reads the database only: no call to the cluster.
func (s *Server) clusterShow(w http.ResponseWriter, r *http.Request) {
	c := s.clusterFromURL(w, r)
	if c == nil {
		return
	}
	s.renderClusterShow(w, r, c, nil)
}

func (s *Server) renderClusterShow(w http.ResponseWriter, r *http.Request, c *store.Cluster, test *clusterTestResult) {
	nets, err := s.store.Networks(r.Context(), c.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cluster_show", clusterShowData{Cluster: c, Networks: nets, Test: test})
}
