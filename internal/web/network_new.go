package web

import (
	"net/http"
	"strconv"
)

// networkNew shows the empty network form (?cluster=<id> preselects).
func (s *Server) networkNew(w http.ResponseWriter, r *http.Request) {
	f := &networkForm{Mode: "bridged"}
	f.ClusterID, _ = strconv.ParseInt(r.URL.Query().Get("cluster"), 10, 64)
	if err := s.loadNetworkChoices(r.Context(), f); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "network_form", f)
}
