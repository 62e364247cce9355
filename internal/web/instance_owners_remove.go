package web

import "net/http"

// instanceOwnersRemove removes an owner user or group from the instance
// (a non-superuser cannot remove the last owner).
func (s *Server) instanceOwnersRemove(w http.ResponseWriter, r *http.Request) {
	s.instanceOwnersChange(w, r, false)
}
