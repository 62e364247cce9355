package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceReboot reboots a running instance: "soft" (the default) asks
// the guest to restart, "hard" restarts the virtual machine itself.
func (s *Server) instanceReboot(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	hard := false
	switch r.PostForm.Get("type") {
	case "", "soft":
	case "hard":
		hard = true
	default:
		s.actionInvalid(w, r, instanceops.Reboot, "type", i18n.M("instanceactions.reboot.type.invalid"))
		return
	}
	slug, name := actionTarget(r)
	_, err := s.instances.Reboot(r.Context(), actionRequest(r), slug, name, hard)
	if s.actionFailed(w, r, instanceops.Reboot, err) {
		return
	}
	s.actionDone(w, r, i18n.M("instanceactions.done.reboot"))
}
