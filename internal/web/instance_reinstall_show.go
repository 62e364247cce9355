package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceReinstallShow is the form page of the action that reinstalls the instance's operating system (the current one, or another from the catalogue): every disk is wiped. It warns,
// and shows why the action cannot be done now when it cannot.
func (s *Server) instanceReinstallShow(w http.ResponseWriter, r *http.Request) {
	s.confirmedShow(w, r, instanceops.Reinstall)
}
