package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// clusterUpdate saves a changed cluster. A change of address or TLS
// settings in pin mode (or "fetch the certificate again") goes through the
// certificate confirmation; any other change of how to connect (user name,
// password, CA) is checked against the cluster before saving; the rest
// (description, flags) is saved without contacting the cluster.
func (s *Server) clusterUpdate(w http.ResponseWriter, r *http.Request) {
	c := s.editableCluster(w, r)
	if c == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := clusterFormFrom(c)
	parseClusterForm(r, f)
	f.validate(false)
	if f.Slug != c.Slug {
		if err := s.checkSlugFree(ctx, f); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if f.HasErrors() {
		f.Password = ""
		s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
		return
	}

	moved := f.Hostname != c.Hostname || f.port != c.Port
	pinMode := f.TLSMode == tlsModePin
	if pinMode && (moved || f.Refetch || c.TLSFingerprint == "") {
		s.fetchForConfirmation(w, r, f, "cluster_form", s.clusterPath(c.ID, "/edit/confirm"),
			pendingSecret{ClusterID: c.ID, Password: f.Password, Keep: f.Password == ""})
		return
	}
	pin := ""
	if pinMode {
		pin = c.TLSFingerprint
	}
	var sealed []byte
	var probe *clusterProbe
	if moved || f.Username != c.RAPIUsername || f.Password != "" || (!pinMode && f.caPEM != c.TLSCAPEM) {
		password, keep := f.Password, f.Password == ""
		if keep {
			var err error
			if password, err = s.storedPassword(c); err != nil {
				s.log.Warn("cluster password unreadable", "cluster", c.Slug, "err", err, "request_id", requestIDFrom(r))
				f.fieldError("rapi_password", i18n.M("cluster.error.password.unreadable"))
				s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
				return
			}
		}
		var ok bool
		if sealed, probe, ok = s.checkAndSeal(w, r, f, "cluster_form", password, pin, keep); !ok {
			return
		}
	}
	s.saveClusterUpdate(w, r, c, f, sealed, pin, probe)
}

// saveClusterUpdate stores the checked form and redirects to the cluster.
func (s *Server) saveClusterUpdate(w http.ResponseWriter, r *http.Request, c *store.Cluster, f *clusterForm, sealed []byte, pin string, probe *clusterProbe) {
	updated, err := s.store.UpdateCluster(r.Context(), c.ID, f.input(sealed, pin))
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.clusterSaveError(w, r, f, "cluster_form", err)
		return
	}
	s.log.Info("cluster changed", "cluster", updated.Slug, "host", updated.Hostname, "port", updated.Port,
		"fingerprint", updated.TLSFingerprint, "password_changed", sealed != nil,
		"by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.flashSaved(r.Context(), i18n.M("cluster.saved"), probe)
	http.Redirect(w, r, s.clusterPath(c.ID, ""), http.StatusSeeOther)
}
