package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceIsolate isolates ("on") the instance from the network or ends
// its isolation ("off") (can_isolate holders).
func (s *Server) instanceIsolate(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	on, ok := onOff(r, "state")
	if !ok {
		s.actionInvalid(w, r, instanceops.Isolate, "state", i18n.M("instanceactions.state.invalid"))
		return
	}
	slug, name := actionTarget(r)
	_, err := s.instances.SetIsolate(r.Context(), actionRequest(r), slug, name, on)
	if s.actionFailed(w, r, instanceops.Isolate, err) {
		return
	}
	if on {
		s.actionDone(w, r, i18n.M("instanceactions.done.isolate"))
	} else {
		s.actionDone(w, r, i18n.M("instanceactions.done.deisolate"))
	}
}
