package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
)

// clusterCreateConfirm is the second step of adding a cluster in pin mode:
// the admin confirmed the fingerprint. The server connects with that pin
// and the credentials, checks it is a Ganeti RAPI, and only then saves.
func (s *Server) clusterCreateConfirm(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	f := newClusterForm()
	parseClusterForm(r, f)
	pin, err := rapi.NormalizeFingerprint(r.PostForm.Get("fingerprint"))
	if err != nil || f.TLSMode != tlsModePin {
		s.badRequest(w, r, i18n.M("error.badform"))
		return
	}
	f.validate(false)
	if f.HasErrors() {
		s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
		return
	}
	secret, ok := s.openPending(r.PostForm.Get("token"), pendingSecret{UserID: principalFrom(r).User.ID,
		Host: f.Hostname, Port: f.port, Username: f.Username, Fingerprint: pin})
	if !ok {
		f.Error = i18n.Message{Msg: i18n.M("cluster.error.pendinginvalid")}
		s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
		return
	}
	sealed, probe, ok := s.checkAndSeal(w, r, f, "cluster_form", secret.Password, pin, false)
	if !ok {
		return
	}
	c, err := s.store.CreateCluster(ctx, f.input(sealed, pin))
	if err != nil {
		s.clusterSaveError(w, r, f, "cluster_form", err)
		return
	}
	s.log.Info("cluster added", "cluster", c.Slug, "host", c.Hostname, "port", c.Port, "tls", "pin",
		"fingerprint", pin, "by", principalFrom(r).User.ID, "request_id", requestIDFrom(r))
	s.flashSaved(ctx, i18n.M("cluster.added"), probe)
	http.Redirect(w, r, s.clusterPath(c.ID, ""), http.StatusSeeOther)
}
