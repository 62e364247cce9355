package web

import (
	"net/http"
)

// applicationNew shows the application form, prefilled from the user's
// profile (organization, the user as administrative contact).
func (s *Server) applicationNew(w http.ResponseWriter, r *http.Request) {
	if s.applicationsOff(w, r) {
		return
	}
	p := principalFrom(r)
	s.renderApplicationForm(w, r, http.StatusOK, &applicationFormData{Form: s.apps.NewForm(p)})
}

// renderApplicationForm renders the application form with what it offers
// the user.
func (s *Server) renderApplicationForm(w http.ResponseWriter, r *http.Request, status int, d *applicationFormData) {
	ch, err := s.apps.FormChoices(r.Context(), principalFrom(r))
	if s.applicationFailed(w, r, err) {
		return
	}
	d.Choices, d.Limits = ch, s.apps.Limits()
	s.render(w, r, status, "application_new", d)
}
