package web

import (
	"net/http"
)

// resetRequestForm is the form that asks for a password-reset link.
type resetRequestForm struct {
	Email  string
	Errors fieldErrors
}

// accountResetRequestShow shows the form that asks for a password-reset
// link; a logged-in user goes to the password change form instead.
func (s *Server) accountResetRequestShow(w http.ResponseWriter, r *http.Request) {
	if principalFrom(r) != nil {
		http.Redirect(w, r, s.path("/profile/password"), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "account_reset_request", resetRequestForm{})
}
