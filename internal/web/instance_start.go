package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceStart starts a stopped instance.
func (s *Server) instanceStart(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	slug, name := actionTarget(r)
	_, err := s.instances.Start(r.Context(), actionRequest(r), slug, name)
	if s.actionFailed(w, r, instanceops.Start, err) {
		return
	}
	s.actionDone(w, r, i18n.M("instanceactions.done.start"))
}
