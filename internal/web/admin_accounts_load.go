package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// urlID parses the {id} URL parameter; false when it is no positive
// number.
func urlID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

// accountFromURL loads the account named by {id}. On failure it has
// answered (404 or 500) and returns nil.
func (s *Server) accountFromURL(w http.ResponseWriter, r *http.Request) *store.User {
	id, ok := urlID(r)
	if !ok {
		s.notFound(w, r)
		return nil
	}
	u, err := s.store.UserByID(r.Context(), id)
	if s.loadFailed(w, r, err) {
		return nil
	}
	u.PasswordHash = ""
	return u
}

// groupFromURL loads the group named by {id} with its counts. On failure
// it has answered and returns nil.
func (s *Server) groupFromURL(w http.ResponseWriter, r *http.Request) *store.GroupSummary {
	id, ok := urlID(r)
	if !ok {
		s.notFound(w, r)
		return nil
	}
	g, err := s.store.GroupSummaryByID(r.Context(), id)
	if s.loadFailed(w, r, err) {
		return nil
	}
	return g
}

// organizationFromURL loads the organization named by {id}. On failure it
// has answered and returns nil.
func (s *Server) organizationFromURL(w http.ResponseWriter, r *http.Request) *store.Organization {
	id, ok := urlID(r)
	if !ok {
		s.notFound(w, r)
		return nil
	}
	o, err := s.store.OrganizationByID(r.Context(), id)
	if s.loadFailed(w, r, err) {
		return nil
	}
	return o
}

// adminUserPath is the address of an account's administration page.
func (s *Server) adminUserPath(id int64) string {
	return s.path("/admin/users/" + strconv.FormatInt(id, 10))
}

// adminGroupPath is the address of a group's administration page.
func (s *Server) adminGroupPath(id int64) string {
	return s.path("/admin/groups/" + strconv.FormatInt(id, 10))
}

// formIDs reads the ids posted under name, without duplicates; false when
// one is no positive number.
func formIDs(r *http.Request, name string) ([]int64, bool) {
	ids := []int64{}
	for _, v := range r.PostForm[name] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, true
}

// formPermissions reads the permissions posted under name, without
// duplicates; false when one is unknown.
func formPermissions(r *http.Request, name string) ([]string, bool) {
	perms := []string{}
	for _, v := range r.PostForm[name] {
		if !auth.Permission(v).Valid() {
			return nil, false
		}
		if !slices.Contains(perms, v) {
			perms = append(perms, v)
		}
	}
	return perms, true
}

// forgetPrincipals drops the cached principals of the users, so a change
// to who they are or what they may do applies to their next request on
// this server.
func (s *Server) forgetPrincipals(ids ...int64) {
	for _, id := range ids {
		s.principals.forget(id)
	}
}
