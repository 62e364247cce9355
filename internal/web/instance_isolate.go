package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceIsolate isolates ("on") the instance from the network or ends
// its isolation ("off") (can_isolate holders).
func (s *Server) instanceIsolate(w http.ResponseWriter, r *http.Request) {
	s.instanceSwitch(w, r, instanceops.Isolate, s.instances.SetIsolate,
		i18n.M("instanceactions.done.isolate"), i18n.M("instanceactions.done.deisolate"))
}
