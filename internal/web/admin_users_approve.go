package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminUsersApprove approves a registration (awaiting approval, or
// rejected before) and activates the account; the user is mailed, in
// their language, in the same transaction.
func (s *Server) adminUsersApprove(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	by := principalFrom(r).User.ID
	_, err := s.store.ApproveUser(ctx, u.ID, by, s.mailAccountTx(u, mail.AccountApproved{Username: u.Username, Path: "/login"})...)
	if s.accountActionFailed(w, r, u.ID, err) {
		return
	}
	s.forgetPrincipals(u.ID)
	s.log.Info("registration approved", "user_id", u.ID, "by", by, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.users.approved"))
	http.Redirect(w, r, s.adminUserPath(u.ID), http.StatusSeeOther)
}

// accountActionFailed answers an account action the store refused: the
// account's page again with the reason (409), 404 for an account gone
// meanwhile, 500 for anything else. It reports whether it answered.
func (s *Server) accountActionFailed(w http.ResponseWriter, r *http.Request, id int64, err error) bool {
	var msg i18n.Msg
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
		return true
	case errors.Is(err, store.ErrLastSuperuser):
		msg = i18n.M("adminacct.users.error.lastsuperuser")
	case errors.Is(err, store.ErrNotVerified):
		msg = i18n.M("adminacct.users.error.notverified")
	case errors.Is(err, store.ErrNotApproved):
		msg = i18n.M("adminacct.users.error.notapproved")
	case errors.Is(err, store.ErrAlreadyDecided):
		msg = i18n.M("adminacct.users.error.decided")
	default:
		s.serverError(w, r, err)
		return true
	}
	s.renderAdminUser(w, r, id, http.StatusConflict, func(d *adminUserShowData) { d.Error = i18n.Message{Msg: msg} })
	return true
}
