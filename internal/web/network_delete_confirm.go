package web

import "net/http"

// networkDeleteConfirm asks before deleting a declared network.
func (s *Server) networkDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	n := s.networkFromURL(w, r)
	if n == nil {
		return
	}
	s.render(w, r, http.StatusOK, "network_delete", n)
}
