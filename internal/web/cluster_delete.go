package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// clusterDelete removes a cluster from ganetimgr (with its declared networks
// and cached data). Nothing changes on the cluster itself.
func (s *Server) clusterDelete(w http.ResponseWriter, r *http.Request) {
	c := s.editableCluster(w, r)
	if c == nil {
		return
	}
	err := s.store.DeleteCluster(r.Context(), c.ID)
	if s.loadFailed(w, r, err) {
		return
	}
	s.log.Info("cluster deleted", "cluster", c.Slug, "host", c.Hostname, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(r.Context(), "success", i18n.M("cluster.deleted"))
	http.Redirect(w, r, s.path("/admin/clusters"), http.StatusSeeOther)
}
