package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminGroupsListData is the administrators' group list.
type adminGroupsListData struct {
	accountLabels
	Groups []store.GroupSummary
}

// adminGroupsList lists the groups with their member counts, permissions
// and instance counts.
func (s *Server) adminGroupsList(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.ListGroups(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_groups", adminGroupsListData{Groups: gs})
}
