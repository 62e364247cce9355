package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// networkUpdate saves a changed network and its groups.
func (s *Server) networkUpdate(w http.ResponseWriter, r *http.Request) {
	n := s.networkFromURL(w, r)
	if n == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := &networkForm{ID: n.ID}
	parseNetworkForm(r, f)
	if err := s.loadNetworkChoices(ctx, f); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.validateNetworkForm(ctx, f); err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "network_form", f)
		return
	}
	updated, err := s.store.UpdateNetwork(ctx, n.ID, f.input())
	if errors.Is(err, store.ErrNotFound) {
		// The network itself, or its cluster or a group, went away meanwhile.
		if _, gone := s.store.NetworkByID(ctx, n.ID); errors.Is(gone, store.ErrNotFound) {
			s.notFound(w, r)
			return
		}
	}
	if err != nil {
		s.networkSaveError(w, r, f, err)
		return
	}
	s.log.Info("network changed", "network", updated.ID, "cluster", updated.ClusterSlug, "link", updated.Link,
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("networks.saved"))
	http.Redirect(w, r, s.path("/admin/networks"), http.StatusSeeOther)
}
