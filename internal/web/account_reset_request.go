package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountResetRequest mails a password-reset link to an account that may
// log in. The answer is the same whether or not the address belongs to
// such an account, so the form reveals nothing. Requests are limited per
// client address (resetRequestsPerAddress an hour, then 429) and mails per
// account (resetMailsPerAccount an hour, then silently none).
func (s *Server) accountResetRequest(w http.ResponseWriter, r *http.Request) {
	if principalFrom(r) != nil {
		http.Redirect(w, r, s.path("/profile/password"), http.StatusSeeOther)
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	addr := addressKey(clientAddrFrom(r))
	if blocked, left := s.resetLimit.Blocked(addr); blocked {
		s.throttled(w, r, left, "password reset request")
		return
	}
	s.resetLimit.Fail(addr)

	email, fe := accounts.NormalizeEmail(r.PostForm.Get("email"))
	if fe != nil {
		s.render(w, r, http.StatusUnprocessableEntity, "account_reset_request",
			resetRequestForm{Email: r.PostForm.Get("email"), Errors: addAccountErrors(nil, fe)})
		return
	}
	if err := s.sendResetLink(r, email); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, s.path("/accounts/password/sent"), http.StatusSeeOther)
}

// sendResetLink mails a reset link to the account with the address, if
// there is one that may log in and that has not had resetMailsPerAccount
// links in the last accountRequestWindow.
func (s *Server) sendResetLink(r *http.Request, email string) error {
	ctx := r.Context()
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ok, _ := accounts.CanLogIn(u); !ok {
		s.log.Info("password reset not sent: account may not log in", "user_id", u.ID, "request_id", requestIDFrom(r))
		return nil
	}
	n, err := s.store.CountRecentAccountTokens(ctx, u.ID, store.TokenResetPassword, s.now().Add(-accountRequestWindow))
	if err != nil {
		return err
	}
	if n >= resetMailsPerAccount {
		s.log.Warn("password reset not sent: too many for this account", "user_id", u.ID,
			"client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
		return nil
	}
	token, hash, err := accounts.NewToken()
	if err != nil {
		return err
	}
	ttl := s.accountPolicy().PasswordResetTTL
	_, err = s.store.CreateAccountToken(ctx, store.NewAccountToken{UserID: u.ID, Purpose: store.TokenResetPassword,
		Hash: hash, Payload: u.Email, TTL: ttl},
		s.mailTo(accountRecipient(u), mail.PasswordReset{Username: u.Username, Path: resetPath + token, Expiry: ttl}))
	if err != nil {
		return err
	}
	s.log.Info("password reset link sent", "user_id", u.ID, "request_id", requestIDFrom(r))
	return nil
}
