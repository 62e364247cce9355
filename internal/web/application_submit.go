package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// applicationSubmit queues the creation of an application left approved
// with its placement (a failed one is submitted again through the review
// form, which may choose another placement).
func (s *Server) applicationSubmit(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) || s.notReviewer(w, r, audit.ApplicationSubmit) {
		return
	}
	ctx := r.Context()
	p := principalFrom(r)
	a, err := s.apps.Submit(ctx, p, applicationIDFrom(r))
	if errs, ok := validationErrors(err); ok {
		s.renderApplication(w, r, http.StatusUnprocessableEntity, func(d *applicationShowData) { d.Errors = errs })
		return
	}
	if s.applicationFailed(w, r, err) {
		return
	}
	s.log.Info("application submitted", "application_id", a.ID, "by", p.User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("apppages.submitted"))
	http.Redirect(w, r, s.path(applications.ApplicationPath(a.ID)), http.StatusSeeOther)
}
