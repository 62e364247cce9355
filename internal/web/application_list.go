package web

import (
	"net/http"
	"strconv"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// applicationListData is a page of applications: the user's own, or
// (All) everyone's with a status filter.
type applicationListData struct {
	All      bool
	Items    []*store.Application
	Statuses []store.ApplicationStatus
	// Status is the filter ("" for every status).
	Status store.ApplicationStatus
	// Next continues the listing (0 on the last page).
	Next int64
}

// applicationList shows the user's own applications, newest first.
func (s *Server) applicationList(w http.ResponseWriter, r *http.Request) {
	s.renderApplicationList(w, r, false)
}

// renderApplicationList reads the filter (?status=) and the page
// (?before=) and renders a list of applications.
func (s *Server) renderApplicationList(w http.ResponseWriter, r *http.Request, all bool) {
	if s.applicationsOff(w, r) {
		return
	}
	d := &applicationListData{All: all, Statuses: store.ApplicationStatuses()}
	q := store.ApplicationQuery{}
	if st := store.ApplicationStatus(r.URL.Query().Get("status")); st != "" {
		if !st.Valid() {
			s.badRequest(w, r, i18n.M("apppages.list.badstatus"))
			return
		}
		d.Status, q.Statuses = st, []store.ApplicationStatus{st}
	}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			s.badRequest(w, r, i18n.M("apppages.list.badpage"))
			return
		}
		q.Before = n
	}
	page, err := s.apps.List(r.Context(), principalFrom(r), all, q)
	if s.applicationFailed(w, r, err) {
		return
	}
	d.Items, d.Next = page.Items, page.Next
	s.render(w, r, http.StatusOK, "application_list", d)
}

// applicationPathOf is the page of an application (for templates).
func applicationPathOf(id int64) string { return applications.ApplicationPath(id) }
