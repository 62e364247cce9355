package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
)

// pendingApplications returns the number of applications awaiting review
// for the navigation badge of those who list applications (0 for others,
// or when it cannot be read: the badge is not worth failing a page for).
func (s *Server) pendingApplications(r *http.Request) int {
	p := principalFrom(r)
	if s.apps == nil || !applications.CanList(p) {
		return 0
	}
	n, err := s.apps.PendingCount(r.Context(), p)
	if err != nil {
		s.log.Warn("pending application count failed", "err", err, "request_id", requestIDFrom(r))
		return 0
	}
	return n
}
