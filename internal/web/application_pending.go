package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
)

// pendingApplications returns the number of applications awaiting review
// for the navigation badge of those who list applications (0 for others,
// or when it cannot be read: the badge is not worth failing a page for).
// It comes with the cluster state snapshot (cache_state.go), so pages do
// not count applications on every view and cached pages can be keyed by it.
func (s *Server) pendingApplications(r *http.Request) int {
	if s.apps == nil || !applications.CanList(principalFrom(r)) {
		return 0
	}
	cs, err := s.state(r.Context())
	if err != nil {
		s.log.Warn("pending application count failed", "err", err, "request_id", requestIDFrom(r))
		return 0
	}
	return cs.pendingApps
}
