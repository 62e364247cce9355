package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// instanceDestroyShow is the form page of the action that destroys the instance and its disks. It warns,
// and shows why the action cannot be done now when it cannot.
func (s *Server) instanceDestroyShow(w http.ResponseWriter, r *http.Request) {
	s.confirmedShow(w, r, instanceops.Destroy)
}
