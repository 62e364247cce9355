package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// clusterCreate is the first step of adding a cluster. In pin mode it
// fetches the certificate the cluster presents (sending no credentials) and
// shows it for confirmation; in CA mode it checks the connection at once
// and saves.
func (s *Server) clusterCreate(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := newClusterForm()
	parseClusterForm(r, f)
	f.validate(true)
	if err := s.checkSlugFree(ctx, f); err != nil {
		s.serverError(w, r, err)
		return
	}
	if f.HasErrors() {
		f.Password = ""
		s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
		return
	}
	if f.TLSMode == tlsModePin {
		s.fetchForConfirmation(w, r, f, "cluster_form", s.path("/admin/clusters/new/confirm"), pendingSecret{Password: f.Password})
		return
	}
	sealed, probe, ok := s.checkAndSeal(w, r, f, "cluster_form", f.Password, "", false)
	if !ok {
		return
	}
	c, err := s.store.CreateCluster(ctx, f.input(sealed, ""))
	if err != nil {
		s.clusterSaveError(w, r, f, "cluster_form", err)
		return
	}
	s.log.Info("cluster added", "cluster", c.Slug, "host", c.Hostname, "port", c.Port, "tls", "ca",
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.flashSaved(ctx, i18n.M("cluster.added"), probe)
	http.Redirect(w, r, s.clusterPath(c.ID, ""), http.StatusSeeOther)
}
