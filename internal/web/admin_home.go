package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminHomeData is the administration overview's content.
type adminHomeData struct {
	SchemaVersion int64
	KnownVersion  int64
	Users         int
	Superusers    int
	// Pending counts the registrations awaiting approval.
	Pending  int
	Clusters []*store.Cluster
}

// adminHome is the administrators' overview: the system's state.
func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var d adminHomeData
	var err error
	if d.Users, d.Superusers, err = s.store.CountUsers(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	pending, err := s.store.ListUsers(ctx, store.UserQuery{Filter: store.FilterPending, Limit: 1})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Pending = pending.Total
	if d.Clusters, err = s.store.Clusters(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	if d.SchemaVersion, d.KnownVersion, err = s.readiness.Versions(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_home", d)
}
