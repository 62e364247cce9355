package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// adminApplicationFastCreate creates a VM directly: the service validates
// the request as a reviewer's and the placement against the clusters
// allowing fast creation, then in one transaction records it as the
// administrator's application, approved and submitted, and queues the
// creation job. A form error (a cluster without fast creation included)
// shows the form again (422) and nothing is written.
func (s *Server) adminApplicationFastCreate(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := parseApplicationForm(r)
	// The "network" field is the placement's; the administrator applies
	// for no declared network and accepts the terms by creating the VM.
	f.NetworkID, f.AcceptTerms = 0, true
	choice := parsePlacement(r)
	comment := strings.ReplaceAll(r.PostForm.Get("comment"), "\r\n", "\n")
	ctx := r.Context()
	p := principalFrom(r)
	a, err := s.apps.FastCreate(ctx, p, f, choice, comment)
	errs, invalid := validationErrors(err)
	if errors.Is(err, applications.ErrFastCreateDisabled) {
		msg, _ := applications.ErrorMessage(err)
		errs, invalid = fieldErrors{}.add("cluster", msg), true
	}
	if invalid {
		s.renderFastCreate(w, r, http.StatusUnprocessableEntity,
			&fastCreateData{Review: f, Comment: comment, Errors: errs}, &choice)
		return
	}
	if s.applicationFailed(w, r, err) {
		return
	}
	s.log.Info("instance created directly", "application_id", a.ID, "by", p.User.ID, "cluster_id", a.ClusterID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("appadmin.fast.created"))
	http.Redirect(w, r, s.path(applications.ApplicationPath(a.ID)), http.StatusSeeOther)
}
