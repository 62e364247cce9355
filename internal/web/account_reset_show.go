package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountResetShow opens a mailed password-reset link: the form for the
// new password.
func (s *Server) accountResetShow(w http.ResponseWriter, r *http.Request) {
	hash, ok := urlTokenHash(r)
	if !ok {
		s.invalidToken(w, r)
		return
	}
	ctx := r.Context()
	t, err := s.store.AccountTokenByHash(ctx, store.TokenResetPassword, hash)
	if s.tokenFailed(w, r, err, i18n.M("account.reset.expired"), resetRequestPath) {
		return
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if s.tokenFailed(w, r, err, i18n.M("account.reset.expired"), resetRequestPath) {
		return
	}
	s.render(w, r, http.StatusOK, "account_reset", tokenForm{Action: tokenAction(r, resetPath), Username: u.Username,
		MinLength: s.accountPolicy().PasswordMinLength})
}
