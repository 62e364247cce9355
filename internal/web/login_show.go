package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// loginForm is the login page's content.
type loginForm struct {
	Username string
	Next     string
	Error    i18n.Msg
	Args     []any
	// RegistrationOpen shows the link to the registration form.
	RegistrationOpen bool
}

// loginShow shows the login form; a logged-in user goes to the dashboard.
func (s *Server) loginShow(w http.ResponseWriter, r *http.Request) {
	if principalFrom(r) != nil {
		http.Redirect(w, r, s.path("/"), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", loginForm{Next: s.safeNext(r.URL.Query().Get("next"), ""),
		RegistrationOpen: s.cfg.Accounts.RegistrationOpen})
}
