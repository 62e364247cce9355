package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceLock sets ("on") or lifts ("off") the administrative lock that
// stops the owners' actions (can_lock holders). The form says which, so a
// repeated submit does not undo the first.
func (s *Server) instanceLock(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	on, ok := onOff(r, "state")
	if !ok {
		s.actionInvalid(w, r, instanceops.Lock, "state", i18n.M("instanceactions.state.invalid"))
		return
	}
	slug, name := actionTarget(r)
	_, err := s.instances.SetLock(r.Context(), actionRequest(r), slug, name, on)
	if s.actionFailed(w, r, instanceops.Lock, err) {
		return
	}
	if on {
		s.actionDone(w, r, i18n.M("instanceactions.done.lock"))
	} else {
		s.actionDone(w, r, i18n.M("instanceactions.done.unlock"))
	}
}
