package web

import (
	"net/http"
)

// passwordForm is the password change form; passwords are never sent back.
type passwordForm struct {
	MinLength int
	Errors    fieldErrors
}

// accountPasswordShow shows the password change form.
func (s *Server) accountPasswordShow(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "account_password", passwordForm{MinLength: s.accountPolicy().PasswordMinLength})
}
