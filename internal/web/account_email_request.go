package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountEmailRequest asks for an address change (the current password is
// required): a confirmation link goes to the new address and a notice to
// the old one, both in the transaction that stores the request. Nothing
// changes until the link is followed by the same user.
func (s *Server) accountEmailRequest(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	u, err := s.currentUser(r)
	if s.loadFailed(w, r, err) {
		return
	}
	f := emailForm{Current: u.Email, Email: strings.TrimSpace(r.PostForm.Get("email"))}
	if status, errs := s.checkCurrentPassword(r, u, r.PostForm.Get("current")); errs != nil {
		f.Errors = errs
		s.render(w, r, status, "account_email", f)
		return
	}
	email, fe := accounts.NormalizeEmail(f.Email)
	switch {
	case fe != nil:
		f.Errors = addAccountErrors(f.Errors, fe)
	case strings.EqualFold(email, u.Email):
		f.Errors = f.Errors.add("email", i18n.M("account.email.same"))
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "account_email", f)
		return
	}
	f.Email = email
	token, hash, err := accounts.NewToken()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ttl := s.accountPolicy().EmailChangeTTL
	newAddr := accountRecipient(u)
	newAddr.Address = email
	_, err = s.store.RequestEmailChange(ctx, u.ID, email, hash, ttl,
		s.mailTo(newAddr, mail.EmailChangeConfirm{Username: u.Username, Path: emailConfirmPath + token, Expiry: ttl}),
		s.mailTo(accountRecipient(u), mail.EmailChangeNotice{Username: u.Username, NewAddress: email, Path: resetRequestPath}))
	if errors.Is(err, store.ErrEmailTaken) {
		f.Errors = f.Errors.add("email", i18n.M("account.email.taken"))
		s.render(w, r, http.StatusUnprocessableEntity, "account_email", f)
		return
	}
	if s.loadFailed(w, r, err) {
		return
	}
	s.log.Info("e-mail change requested", "user_id", u.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("account.email.sent"))
	http.Redirect(w, r, s.path(profilePath), http.StatusSeeOther)
}
