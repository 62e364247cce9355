package web

import (
	"net/http"
)

// emailForm is the e-mail address change form.
type emailForm struct {
	Current string // the address now
	Email   string // the new address, as typed
	Errors  fieldErrors
}

// accountEmailShow shows the e-mail address change form.
func (s *Server) accountEmailShow(w http.ResponseWriter, r *http.Request) {
	u, err := s.currentUser(r)
	if s.loadFailed(w, r, err) {
		return
	}
	s.render(w, r, http.StatusOK, "account_email", emailForm{Current: u.Email})
}
