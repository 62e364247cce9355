package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceReinstall reinstalls the instance's operating system (the current one, or another from the catalogue): every disk is wiped. Depending on the
// configuration it mails the user a confirmation link or, after checking
// the password typed in the form, starts the job at once.
func (s *Server) instanceReinstall(w http.ResponseWriter, r *http.Request) {
	s.confirmedSubmit(w, r, instanceops.Reinstall)
}
