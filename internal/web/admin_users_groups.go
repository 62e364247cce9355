package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminUsersGroups makes the checked groups (group=<id>, repeated) the
// account's exact group list. Unknown groups change nothing (422).
func (s *Server) adminUsersGroups(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	ids, ok := formIDs(r, "group")
	if ok {
		all, err := s.store.GroupChoices(ctx)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		for _, id := range ids {
			ok = ok && slices.ContainsFunc(all, func(g store.Group) bool { return g.ID == id })
		}
	}
	var err error
	if ok {
		err = s.store.SetUserGroups(ctx, u.ID, ids)
	}
	if !ok || errors.Is(err, store.ErrNotFound) {
		// A group unknown or deleted meanwhile (or the account itself).
		s.renderAdminUser(w, r, u.ID, http.StatusUnprocessableEntity, func(d *adminUserShowData) {
			d.Errors = d.Errors.add("groups", i18n.M("adminacct.groups.unknown"))
		})
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.forgetPrincipals(u.ID)
	s.log.Info("account groups set", "user_id", u.ID, "groups", ids, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.users.groups.saved"))
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}
