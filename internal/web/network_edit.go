package web

import "net/http"

// networkEdit shows the form for changing a declared network.
func (s *Server) networkEdit(w http.ResponseWriter, r *http.Request) {
	n := s.networkFromURL(w, r)
	if n == nil {
		return
	}
	f := networkFormFrom(n)
	if err := s.loadNetworkChoices(r.Context(), f); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "network_form", f)
}
