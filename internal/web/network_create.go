package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// networkCreate declares a network.
func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := &networkForm{}
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
	n, err := s.store.CreateNetwork(ctx, f.input())
	if err != nil {
		s.networkSaveError(w, r, f, err)
		return
	}
	s.log.Info("network added", "network", n.ID, "cluster", n.ClusterSlug, "link", n.Link,
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("networks.added"))
	http.Redirect(w, r, s.path("/admin/networks"), http.StatusSeeOther)
}
