package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceRenameShow is the form page of the action that renames a stopped instance to a new fully qualified domain name that no instance of any cluster uses. It warns,
// and shows why the action cannot be done now when it cannot.
func (s *Server) instanceRenameShow(w http.ResponseWriter, r *http.Request) {
	s.confirmedShow(w, r, instanceops.Rename)
}
