package web

import (
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// applicationRefuse refuses an application; the reason is required and
// mailed to the applicant in the same transaction.
func (s *Server) applicationRefuse(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) || s.notReviewer(w, r, audit.ApplicationRefuse) {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	reason := strings.ReplaceAll(r.PostForm.Get("comment"), "\r\n", "\n")
	ctx := r.Context()
	p := principalFrom(r)
	a, err := s.apps.Refuse(ctx, p, applicationIDFrom(r), reason)
	if errs, ok := validationErrors(err); ok {
		s.renderApplication(w, r, http.StatusUnprocessableEntity, func(d *applicationShowData) {
			d.Comment, d.Errors = reason, errs
		})
		return
	}
	if s.applicationFailed(w, r, err) {
		return
	}
	s.log.Info("application refused", "application_id", a.ID, "by", p.User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("apppages.refused"))
	http.Redirect(w, r, s.path(applications.ApplicationPath(a.ID)), http.StatusSeeOther)
}
