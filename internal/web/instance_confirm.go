package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceConfirm uses a mailed confirmation link: the reinstall, rename
// or destroy it stands for starts (the link is then used up) and the
// browser goes to the instance's page, which follows the job.
func (s *Server) instanceConfirm(w http.ResponseWriter, r *http.Request) {
	job, err := s.instances.Confirm(r.Context(), actionRequest(r), chi.URLParam(r, "token"))
	if s.confirmLinkFailed(w, r, err) {
		return
	}
	s.addFlash(r.Context(), "success", confirmedDone(instanceops.Kind(job.Kind)))
	http.Redirect(w, r, s.instancePath(job.ClusterSlug, job.Instance), http.StatusSeeOther)
}
