package web

import (
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// applicationApprove approves a pending application (or submits a failed
// one again) with the reviewer's edits and placement: the service checks
// everything, then in one transaction approves it, submits it and queues
// the creation job. A form error shows the review form again (422) and
// nothing is written.
func (s *Server) applicationApprove(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) || s.notReviewer(w, r, audit.ApplicationApprove) {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := parseApplicationForm(r)
	f.AcceptTerms = true // the applicant accepted them; reviewers edit the request
	choice := parsePlacement(r)
	comment := strings.ReplaceAll(r.PostForm.Get("comment"), "\r\n", "\n")
	ctx := r.Context()
	p := principalFrom(r)
	id := applicationIDFrom(r)
	// The requested network is the applicant's wish; it is not edited.
	if cur, err := s.apps.Get(ctx, p, id); err == nil {
		f.NetworkID = cur.RequestedNetworkID
	}
	a, err := s.apps.Approve(ctx, p, id, applications.Review{Request: &f, Placement: choice, Comment: comment})
	if errs, ok := validationErrors(err); ok {
		s.renderApplication(w, r, http.StatusUnprocessableEntity, func(d *applicationShowData) {
			d.Review, d.Comment, d.Errors = f, comment, errs
			d.Placement = submittedPlacement(choice)
		})
		return
	}
	if s.applicationFailed(w, r, err) {
		return
	}
	s.log.Info("application approved", "application_id", a.ID, "by", p.User.ID, "cluster_id", a.ClusterID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("apppages.approved"))
	http.Redirect(w, r, s.path(applications.ApplicationPath(a.ID)), http.StatusSeeOther)
}
