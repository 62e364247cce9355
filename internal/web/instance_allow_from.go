package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceAllowFrom sets the address or network that may still reach an
// isolated instance; an empty field removes it.
func (s *Server) instanceAllowFrom(w http.ResponseWriter, r *http.Request) {
	if !s.actionForm(w, r) {
		return
	}
	prefix, ok := field(r, "allow_from", 64)
	if !ok {
		s.actionInvalid(w, r, instanceops.AllowFrom, "allow_from", i18n.M("instanceactions.allowfrom.invalid"))
		return
	}
	slug, name := actionTarget(r)
	_, err := s.instances.SetAllowFrom(r.Context(), actionRequest(r), slug, name, prefix)
	if s.actionFailed(w, r, instanceops.AllowFrom, err) {
		return
	}
	if prefix == "" {
		s.actionDone(w, r, i18n.M("instanceactions.done.allowfrom.removed"))
	} else {
		s.actionDone(w, r, i18n.M("instanceactions.done.allowfrom"))
	}
}
