package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// accountResetSent is where every password-reset request ends, whether or
// not a mail was sent.
func (s *Server) accountResetSent(w http.ResponseWriter, r *http.Request) {
	s.renderNotice(w, r, http.StatusOK, accountNotice{Title: i18n.M("account.reset.title"),
		Message: i18n.Message{Msg: i18n.M("account.reset.sent")}, LinkPath: "/login", LinkText: i18n.M("account.tologin")})
}
