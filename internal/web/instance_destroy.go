package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceDestroy destroys the instance and its disks. Depending on the
// configuration it mails the user a confirmation link or, after checking
// the password typed in the form, starts the job at once.
func (s *Server) instanceDestroy(w http.ResponseWriter, r *http.Request) {
	s.confirmedSubmit(w, r, instanceops.Destroy)
}
