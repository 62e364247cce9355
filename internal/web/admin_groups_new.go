package web

import "net/http"

// adminGroupsNew shows the empty new-group form.
func (s *Server) adminGroupsNew(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin_group_new", &groupForm{})
}
