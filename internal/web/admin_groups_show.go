package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminGroupShowData is a group's administration page: rename, members,
// permissions.
type adminGroupShowData struct {
	accountLabels
	Group       *store.GroupSummary
	Members     []store.GroupMember
	Permissions []permissionChoice
	// Name and Add are the rename and add-members fields as typed.
	Name string
	Add  string
	// Errors are the forms' field errors ("name", "members",
	// "permissions").
	Errors fieldErrors
}

// adminGroupsShow shows a group with its members and permissions.
func (s *Server) adminGroupsShow(w http.ResponseWriter, r *http.Request) {
	g := s.groupFromURL(w, r)
	if g == nil {
		return
	}
	s.renderAdminGroup(w, r, g, http.StatusOK, nil)
}

// renderAdminGroup renders the group's page with a status; edit, when not
// nil, adds errors or typed values first.
func (s *Server) renderAdminGroup(w http.ResponseWriter, r *http.Request, g *store.GroupSummary, status int, edit func(*adminGroupShowData)) {
	d := &adminGroupShowData{Group: g, Name: g.Name, Permissions: permissionChoices(g.Permissions, nil)}
	var err error
	if d.Members, err = s.store.GroupMembers(r.Context(), g.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	if edit != nil {
		edit(d)
	}
	s.render(w, r, status, "admin_group", d)
}
