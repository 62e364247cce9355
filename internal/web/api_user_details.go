package web

import "net/http"

// apiUserDetails answers GET /user/details/ with the token's user:
// {"username", "email", "id"}.
func (s *Server) apiUserDetails(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, apiUserOf(apiAccessFrom(r)))
}
