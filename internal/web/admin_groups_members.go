package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Bounds of the add-members field.
const (
	maxAddMembersLength = 20000
	maxAddMembers       = 500
)

// adminGroupsMembers sets a group's members: the checked current members
// (member=<user id>, repeated) plus the accounts named in the add field
// (usernames separated by spaces, commas or new lines). An unknown
// username or id changes nothing (422).
func (s *Server) adminGroupsMembers(w http.ResponseWriter, r *http.Request) {
	g := s.groupFromURL(w, r)
	if g == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	add := r.PostForm.Get("add")
	fail := func(m i18n.Msg, args ...any) {
		s.renderAdminGroup(w, r, g, http.StatusUnprocessableEntity, func(d *adminGroupShowData) {
			d.Add = add
			d.Errors = d.Errors.add("members", m, args...)
		})
	}
	ids, ok := formIDs(r, "member")
	if !ok {
		fail(i18n.M("adminacct.groups.members.invalid"))
		return
	}
	names := strings.FieldsFunc(add, func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	if len(add) > maxAddMembersLength || len(names) > maxAddMembers {
		fail(i18n.M("adminacct.groups.members.toomany"), "Max", maxAddMembers)
		return
	}
	var unknown []string
	for _, n := range names {
		u, err := s.store.UserByUsername(ctx, n)
		if errors.Is(err, store.ErrNotFound) {
			unknown = append(unknown, n)
			continue
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !slices.Contains(ids, u.ID) {
			ids = append(ids, u.ID)
		}
	}
	if len(unknown) > 0 {
		fail(i18n.M("adminacct.groups.members.unknown"), "Names", strings.Join(unknown, ", "))
		return
	}
	before, err := s.groupMemberIDs(ctx, g.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	err = s.store.SetGroupMembers(ctx, g.ID, ids)
	if errors.Is(err, store.ErrNotFound) {
		if _, gone := s.store.GroupByID(ctx, g.ID); errors.Is(gone, store.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		fail(i18n.M("adminacct.groups.members.invalid")) // an account deleted meanwhile, or a made-up id
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.forgetPrincipals(before...)
	s.forgetPrincipals(ids...)
	s.log.Info("group members set", "group", g.ID, "members", len(ids), "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.groups.members.saved"))
	http.Redirect(w, r, s.adminGroupPath(g.ID), http.StatusSeeOther)
}
