package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// clusterTestConnection connects to a cluster with its stored settings and
// shows the RAPI version, cluster name, features and whether the
// credentials can write. Nothing is saved and nothing changes on the
// cluster.
func (s *Server) clusterTestConnection(w http.ResponseWriter, r *http.Request) {
	c := s.clusterFromURL(w, r)
	if c == nil {
		return
	}
	password, err := s.storedPassword(c)
	if err != nil {
		s.log.Warn("cluster password unreadable", "cluster", c.Slug, "err", err, "request_id", requestIDFrom(r))
		s.renderClusterShow(w, r, c, &clusterTestResult{Error: i18n.M("cluster.error.password.unreadable")})
		return
	}
	probe, err := probeCluster(r.Context(), rapiConfig(c.Hostname, c.Port, c.RAPIUsername, password, c.TLSFingerprint, c.TLSCAPEM), true)
	if err != nil {
		s.logClusterError(r, "test connection", c.Hostname, c.Port, err)
		s.renderClusterShow(w, r, c, &clusterTestResult{Error: clusterError(err)})
		return
	}
	s.renderClusterShow(w, r, c, &clusterTestResult{Probe: probe})
}
