package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// networkDelete removes a declared network (nothing changes on the cluster).
func (s *Server) networkDelete(w http.ResponseWriter, r *http.Request) {
	n := s.networkFromURL(w, r)
	if n == nil {
		return
	}
	err := s.store.DeleteNetwork(r.Context(), n.ID)
	if s.loadFailed(w, r, err) {
		return
	}
	s.log.Info("network deleted", "network", n.ID, "cluster", n.ClusterSlug, "link", n.Link,
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.addFlash(r.Context(), "success", i18n.M("networks.deleted"))
	http.Redirect(w, r, s.path("/admin/networks"), http.StatusSeeOther)
}
