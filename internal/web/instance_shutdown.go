package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceShutdown shuts a running instance down, waiting at most the
// chosen timeout (seconds; 0 or none: Ganeti's default) for it to stop
// before it is forced off.
func (s *Server) instanceShutdown(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	timeout := 0
	if v := r.PostForm.Get("timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxShutdownTimeout {
			s.actionInvalid(w, r, instanceops.Shutdown, "timeout", i18n.M("instanceactions.shutdown.timeout.invalid"))
			return
		}
		timeout = n
	}
	slug, name := actionTarget(r)
	_, err := s.instances.Shutdown(r.Context(), actionRequest(r), slug, name, time.Duration(timeout)*time.Second)
	if s.actionFailed(w, r, instanceops.Shutdown, err) {
		return
	}
	s.actionDone(w, r, i18n.M("instanceactions.done.shutdown"))
}
