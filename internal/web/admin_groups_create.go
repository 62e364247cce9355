package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminGroupsCreate adds a group and goes to its page, where members and
// permissions are set.
func (s *Server) adminGroupsCreate(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	name, errs, err := s.groupName(ctx, r, 0)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f := &groupForm{Name: name, Errors: errs}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_group_new", f)
		return
	}
	g, err := s.store.CreateGroup(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		// Taken meanwhile.
		f.Errors = f.Errors.add("name", i18n.M("adminacct.groups.name.taken"))
		s.render(w, r, http.StatusUnprocessableEntity, "admin_group_new", f)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("group added", "group", g.ID, "name", g.Name, "by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.groups.added"))
	http.Redirect(w, r, s.adminGroupPath(g.ID), http.StatusSeeOther)
}
