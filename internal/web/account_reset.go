package web

import (
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountReset sets a new password through a mailed reset link, using the
// link up and ending every session of the account; the owner is mailed a
// notice in the same transaction.
func (s *Server) accountReset(w http.ResponseWriter, r *http.Request) {
	hash, ok := urlTokenHash(r)
	if !ok {
		s.invalidToken(w, r)
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	expired := i18n.M("account.reset.expired")
	t, err := s.store.AccountTokenByHash(ctx, store.TokenResetPassword, hash)
	if s.tokenFailed(w, r, err, expired, resetRequestPath) {
		return
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if s.tokenFailed(w, r, err, expired, resetRequestPath) {
		return
	}
	pol := s.accountPolicy()
	password := r.PostForm.Get("password")
	if fe := pol.CheckPassword(password, r.PostForm.Get("password2"), u.Username, u.Email, u.FirstName, u.LastName); fe != nil {
		s.render(w, r, http.StatusUnprocessableEntity, "account_reset", tokenForm{Action: tokenAction(r, resetPath),
			Username: u.Username, MinLength: pol.PasswordMinLength, Errors: addAccountErrors(nil, fe)})
		return
	}
	newHash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	_, err = s.store.ResetPassword(ctx, hash, newHash,
		s.mailTo(accountRecipient(u), mail.PasswordChanged{Username: u.Username, Path: resetRequestPath}))
	if s.tokenFailed(w, r, err, expired, resetRequestPath) {
		return
	}
	s.principals.forget(u.ID)
	// Failed logins counted against the account (someone guessing, maybe)
	// no longer block its owner, who just proved access to its mailbox.
	s.acctLimit.Reset(strings.ToLower(u.Username))
	if p := principalFrom(r); p != nil && p.User.ID == u.ID {
		// Every session of the account ended, this one too: end it now, so
		// the message below reaches the login page.
		if err := s.endSession(ctx); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.log.Info("password reset", "user_id", u.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("account.reset.done"))
	http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
}
