package web

import "net/http"

// adminGroupsDeleteConfirm asks before deleting a group, saying how many
// members lose it and how many instances stay tagged with its name.
func (s *Server) adminGroupsDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	g := s.groupFromURL(w, r)
	if g == nil {
		return
	}
	s.render(w, r, http.StatusOK, "admin_group_delete", g)
}
