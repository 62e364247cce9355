package web

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
)

// confirmLinkPage is the page a mailed confirmation link opens.
type confirmLinkPage struct {
	Kind instanceops.Kind
	// Name and Cluster name the instance, URL its page; Value is the
	// action's argument (OS image, new name).
	Name, Cluster, URL, Value string
	ExpiresAt                 time.Time
	// Action is the link's path, where the form posts.
	Action string
}

// instanceConfirmShow opens a mailed confirmation link of a reinstall,
// rename or destroy: a page saying what will happen, with a button that
// confirms it (GET never changes anything). Only the user who asked may
// use it, while they still own the instance.
func (s *Server) instanceConfirmShow(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	c, err := s.instances.Confirmation(r.Context(), actionRequest(r), token)
	if s.confirmLinkFailed(w, r, err) {
		return
	}
	s.render(w, r, http.StatusOK, "instance_confirm", confirmLinkPage{Kind: instanceops.Kind(c.Kind),
		Name: c.Instance, Cluster: c.ClusterSlug, URL: s.instancePath(c.ClusterSlug, c.Instance), Value: c.Value,
		ExpiresAt: c.ExpiresAt, Action: instanceops.ConfirmPath(token)})
}

// confirmLinkFailed answers a confirmation link the service refused and
// reports whether it answered: a notice with the reason and the refusal's
// status (a link that is unknown, used, expired or another user's is not
// found); anything else is a 500.
func (s *Server) confirmLinkFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	rf := refusalOf(err)
	if rf == nil {
		s.serverError(w, r, err)
		return true
	}
	s.renderNotice(w, r, rf.HTTPStatus(), accountNotice{Title: i18n.M("instanceactions.link.title"),
		Message: refusalMessage(rf), LinkPath: "/instances/", LinkText: i18n.M("instanceactions.link.list")})
	return true
}
