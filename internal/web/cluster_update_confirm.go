package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
)

// clusterUpdateConfirm is the second step of an edit that pins a new
// certificate: connect with the confirmed pin, check, then save.
func (s *Server) clusterUpdateConfirm(w http.ResponseWriter, r *http.Request) {
	c := s.editableCluster(w, r)
	if c == nil {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := clusterFormFrom(c)
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
	secret, ok := s.openPending(r.PostForm.Get("token"), pendingSecret{UserID: principalFrom(r).User.ID, ClusterID: c.ID,
		Host: f.Hostname, Port: f.port, Username: f.Username, Fingerprint: pin})
	if !ok {
		f.Error = i18n.Message{Msg: i18n.M("cluster.error.pendinginvalid")}
		s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
		return
	}
	password := secret.Password
	if secret.Keep {
		if password, err = s.storedPassword(c); err != nil {
			s.log.Warn("cluster password unreadable", "cluster", c.Slug, "err", err, "request_id", requestIDFrom(r))
			f.fieldError("rapi_password", i18n.M("cluster.error.password.unreadable"))
			s.render(w, r, http.StatusUnprocessableEntity, "cluster_form", f)
			return
		}
	}
	sealed, probe, ok := s.checkAndSeal(w, r, f, "cluster_form", password, pin, secret.Keep)
	if !ok {
		return
	}
	s.saveClusterUpdate(w, r, c, f, sealed, pin, probe)
}
