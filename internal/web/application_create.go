package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/applications"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// applicationCreate files the user's application. An invalid form (a
// hostname an instance or another open application uses included) is shown
// again with each field's error; the reviewers are mailed in the same
// transaction as the filing.
func (s *Server) applicationCreate(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := parseApplicationForm(r)
	ctx := r.Context()
	p := principalFrom(r)
	a, err := s.apps.Apply(ctx, p, f)
	if errs, ok := validationErrors(err); ok {
		s.renderApplicationForm(w, r, http.StatusUnprocessableEntity, &applicationFormData{Form: f, Errors: errs})
		return
	}
	if s.applicationFailed(w, r, err) {
		return
	}
	s.log.Info("application filed", "application_id", a.ID, "user_id", p.User.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("apppages.filed"))
	http.Redirect(w, r, s.path(applications.ApplicationPath(a.ID)), http.StatusSeeOther)
}
