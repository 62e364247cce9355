package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceRename renames a stopped instance to a new fully qualified domain name that no instance of any cluster uses. Depending on the
// configuration it mails the user a confirmation link or, after checking
// the password typed in the form, starts the job at once.
func (s *Server) instanceRename(w http.ResponseWriter, r *http.Request) {
	s.confirmedSubmit(w, r, instanceops.Rename)
}
