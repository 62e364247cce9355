package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountRegister creates a self-registered account: inactive, its address
// unconfirmed, pending approval. The confirmation link is mailed in the
// registration's transaction. Every submitted form counts against the
// client address's limit (registrationsPerAddress an hour), which also
// bounds how fast anyone can probe which usernames and addresses are taken.
func (s *Server) accountRegister(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Accounts.RegistrationOpen {
		s.registrationClosed(w, r)
		return
	}
	if principalFrom(r) != nil {
		http.Redirect(w, r, s.path("/"), http.StatusSeeOther)
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	addr := addressKey(clientAddrFrom(r))
	if blocked, left := s.regLimit.Blocked(addr); blocked {
		s.throttled(w, r, left, "registration")
		return
	}
	s.regLimit.Fail(addr)

	ctx := r.Context()
	f, err := s.newRegisterForm(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pf := r.PostForm
	in, errs := s.accountPolicy().CheckRegistration(accounts.RegistrationForm{
		Username: pf.Get("username"), Email: pf.Get("email"),
		Password: pf.Get("password"), PasswordConfirm: pf.Get("password2"),
		FirstName: pf.Get("first_name"), LastName: pf.Get("last_name"), Phone: pf.Get("phone"),
	})
	f.setValues(in)
	f.Errors = addAccountErrors(f.Errors, errs...)
	org, ok := formOrganization(r, f.Organizations)
	if !ok {
		f.Errors = f.Errors.add("organization", i18n.M("account.organization.invalid"))
	}
	f.Organization = org
	// Name every taken field at once; fields already refused are not
	// looked up.
	lookUser, lookEmail := in.Username, in.Email
	if f.Errors.Has("username") {
		lookUser = ""
	}
	if f.Errors.Has("email") {
		lookEmail = ""
	}
	userTaken, emailTaken, err := s.store.AccountsTaken(ctx, lookUser, lookEmail, 0)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if userTaken {
		f.Errors = f.Errors.add("username", i18n.M("account.username.taken"))
	}
	if emailTaken {
		f.Errors = f.Errors.add("email", i18n.M("account.email.taken"))
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "account_register", f)
		return
	}

	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	token, tokenHash, err := accounts.NewToken()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ttl := s.accountPolicy().ActivationTTL
	lang := s.localizerFrom(r).Lang()
	to := mail.Recipient{Address: in.Email, Name: i18n.FormatName(in.FirstName, in.LastName), Lang: lang}
	u, _, err := s.store.Register(ctx, store.Registration{
		Username: in.Username, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		Phone: in.Phone, Organization: org, PasswordHash: hash, Language: lang,
		TokenHash: tokenHash, TokenTTL: ttl,
	}, s.mailTo(to, mail.VerifyEmail{Username: in.Username, Path: verifyPath + token, Expiry: ttl}))
	switch {
	case errors.Is(err, store.ErrUsernameTaken): // taken meanwhile
		f.Errors = f.Errors.add("username", i18n.M("account.username.taken"))
	case errors.Is(err, store.ErrEmailTaken):
		f.Errors = f.Errors.add("email", i18n.M("account.email.taken"))
	case errors.Is(err, store.ErrNotFound): // the organization was deleted meanwhile
		f.Errors = f.Errors.add("organization", i18n.M("account.organization.invalid"))
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "account_register", f)
		return
	}
	s.log.Info("account registered", "user_id", u.ID, "client", clientAddrFrom(r).String(), "request_id", requestIDFrom(r))
	http.Redirect(w, r, s.path("/accounts/register/done"), http.StatusSeeOther)
}
