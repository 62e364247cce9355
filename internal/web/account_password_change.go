package web

import (
	"math"
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountPasswordChange changes the password: the current one is required,
// every other session of the account ends (this one stays, under a new
// token), and the owner is mailed a notice in the same transaction.
func (s *Server) accountPasswordChange(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	u, err := s.currentUser(r)
	if s.loadFailed(w, r, err) {
		return
	}
	pol := s.accountPolicy()
	f := passwordForm{MinLength: pol.PasswordMinLength}
	current, password := r.PostForm.Get("current"), r.PostForm.Get("password")
	if status, errs := s.checkCurrentPassword(r, u, current); errs != nil {
		f.Errors = errs
		s.render(w, r, status, "account_password", f)
		return
	}
	if fe := pol.CheckPassword(password, r.PostForm.Get("password2"), u.Username, u.Email, u.FirstName, u.LastName); fe != nil {
		f.Errors = addAccountErrors(f.Errors, fe)
	} else if password == current {
		f.Errors = f.Errors.add("password", i18n.M("account.password.same"))
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "account_password", f)
		return
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	epoch, err := s.store.ChangePassword(ctx, u.ID, hash,
		s.mailTo(accountRecipient(u), mail.PasswordChanged{Username: u.Username, Path: resetRequestPath}))
	if s.loadFailed(w, r, err) {
		return
	}
	// The other sessions carry the old epoch and end at their next
	// request; this one moves to the new epoch under a new token.
	s.principals.forget(u.ID)
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.sessions.Put(ctx, keyEpoch, epoch)
	s.log.Info("password changed", "user_id", u.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("account.password.changed"))
	http.Redirect(w, r, s.path(profilePath), http.StatusSeeOther)
}

// checkCurrentPassword checks the current password a form asks for before
// a sensitive change. Wrong ones count against the account like failed
// logins (and are blocked with them), so a stolen session cannot be used
// to guess the password. It returns nil when the password is right, else
// the status and the error of the "current" field.
func (s *Server) checkCurrentPassword(r *http.Request, u *store.User, current string) (int, fieldErrors) {
	key := strings.ToLower(u.Username)
	if blocked, left := s.acctLimit.Blocked(key); blocked {
		return http.StatusTooManyRequests, fieldErrors{}.add("current", i18n.M("login.throttled"),
			"Minutes", int(math.Ceil(left.Minutes())))
	}
	ok := false
	if current != "" && len(current) <= 1024 {
		var err error
		if ok, _, err = s.hasher.Verify(r.Context(), current, u.PasswordHash); err != nil && r.Context().Err() == nil {
			s.log.Error("password hash unreadable", "user_id", u.ID, "err", err)
		}
	}
	if !ok {
		s.acctLimit.Fail(key)
		s.log.Info("current password wrong", "user_id", u.ID, "client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
		return http.StatusUnprocessableEntity, fieldErrors{}.add("current", i18n.M("account.password.wrong"))
	}
	return 0, nil
}
