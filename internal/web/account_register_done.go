package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// accountRegisterDone tells a new registrant to look for the confirmation
// mail.
func (s *Server) accountRegisterDone(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Accounts.RegistrationOpen {
		s.registrationClosed(w, r)
		return
	}
	s.renderNotice(w, r, http.StatusOK, accountNotice{Title: i18n.M("account.register.done.title"),
		Message: i18n.Message{Msg: i18n.M("account.register.done")}})
}
