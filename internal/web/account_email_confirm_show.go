package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountEmailConfirmShow opens the link mailed to a new address: a page
// naming the address, with a button that confirms it. Only the user who
// asked for the change may use the link; to anyone else it does not exist.
func (s *Server) accountEmailConfirmShow(w http.ResponseWriter, r *http.Request) {
	hash, ok := urlTokenHash(r)
	if !ok {
		s.invalidToken(w, r)
		return
	}
	t, err := s.store.AccountTokenByHash(r.Context(), store.TokenChangeEmail, hash)
	if err == nil && t.UserID != principalFrom(r).User.ID {
		err = store.ErrNotFound
	}
	if s.tokenFailed(w, r, err, i18n.M("account.email.expired"), "/profile/email") {
		return
	}
	s.render(w, r, http.StatusOK, "account_email_confirm", tokenForm{Action: tokenAction(r, emailConfirmPath), Email: t.Payload})
}
