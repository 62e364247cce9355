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
	s.instanceSwitch(w, r, instanceops.Lock, s.instances.SetLock,
		i18n.M("instanceactions.done.lock"), i18n.M("instanceactions.done.unlock"))
}
