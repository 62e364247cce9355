package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Bounds of the user list's query, in bytes.
const (
	maxUserSearchLength = 200
	maxUserCursorLength = 200
)

// userPageSizes are the page sizes the user list offers.
var userPageSizes = []int{25, store.DefaultUserPageSize, 100, 200, store.MaxUserPageSize}

// adminUsersListData is the administrators' user list.
type adminUsersListData struct {
	accountLabels
	Search  string
	Filter  store.UserFilter
	Filters []store.UserFilter
	Size    int
	Sizes   []int
	After   string
	Page    *store.UserPage
	// NextURL is the following page's address, FirstURL the first page's
	// (when this is not the first); empty otherwise.
	NextURL  string
	FirstURL string
}

// adminUsersList lists the accounts: search (?q=), filter (?filter=),
// page size (?size=) and keyset pagination (?after=).
func (s *Server) adminUsersList(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	d := adminUsersListData{Search: v.Get("q"), Filter: store.UserFilter(v.Get("filter")), After: v.Get("after"),
		Size: store.DefaultUserPageSize, Sizes: userPageSizes, Filters: store.UserFilters()}
	if len(d.Search) > maxUserSearchLength || !utf8.ValidString(d.Search) {
		s.badRequest(w, r, i18n.M("adminacct.users.bad.search"))
		return
	}
	if !slices.Contains(d.Filters, d.Filter) {
		s.badRequest(w, r, i18n.M("adminacct.users.bad.filter"))
		return
	}
	if len(d.After) > maxUserCursorLength || !utf8.ValidString(d.After) {
		s.badRequest(w, r, i18n.M("adminacct.users.bad.cursor"))
		return
	}
	if sz := v.Get("size"); sz != "" {
		n, err := strconv.Atoi(sz)
		if err != nil || n < 1 || n > store.MaxUserPageSize {
			s.badRequest(w, r, i18n.M("adminacct.users.bad.size"))
			return
		}
		d.Size = n
	}
	page, err := s.store.ListUsers(r.Context(), store.UserQuery{Search: d.Search, Filter: d.Filter, After: d.After, Limit: d.Size})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Page = page
	link := func(after string) string {
		q := url.Values{}
		if d.Search != "" {
			q.Set("q", d.Search)
		}
		if d.Filter != store.FilterAllUsers {
			q.Set("filter", string(d.Filter))
		}
		if d.Size != store.DefaultUserPageSize {
			q.Set("size", strconv.Itoa(d.Size))
		}
		if after != "" {
			q.Set("after", after)
		}
		if len(q) == 0 {
			return s.path("/admin/users")
		}
		return s.path("/admin/users") + "?" + q.Encode()
	}
	if page.Next != "" {
		d.NextURL = link(page.Next)
	}
	if d.After != "" {
		d.FirstURL = link("")
	}
	s.render(w, r, http.StatusOK, "admin_users", d)
}
