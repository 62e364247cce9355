package web

import (
	"fmt"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountVerify confirms a registration's address (using up the link) and,
// in the same transaction, mails the administrators a link to the page
// where they approve or reject the account.
func (s *Server) accountVerify(w http.ResponseWriter, r *http.Request) {
	hash, ok := urlTokenHash(r)
	if !ok {
		s.invalidToken(w, r)
		return
	}
	ctx := r.Context()
	expired := i18n.M("account.verify.expired")
	t, err := s.store.AccountTokenByHash(ctx, store.TokenVerifyEmail, hash)
	if s.tokenFailed(w, r, err, expired, "") {
		return
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if s.tokenFailed(w, r, err, expired, "") {
		return
	}
	org, err := s.organizationTitle(ctx, u.OrganizationID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	_, err = s.store.VerifyEmail(ctx, hash, s.mailAdmins(mail.ApprovalRequest{
		Username: u.Username, Name: i18n.FormatName(u.FirstName, u.LastName), Email: u.Email,
		Organization: org, Phone: u.Phone, Path: fmt.Sprintf("/admin/users/%d", u.ID),
	}))
	if s.tokenFailed(w, r, err, expired, "") {
		return
	}
	s.log.Info("e-mail address confirmed", "user_id", u.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("account.verify.done"))
	http.Redirect(w, r, s.path("/login"), http.StatusSeeOther)
}
