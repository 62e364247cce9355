package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountEmailConfirm changes the address to the one the link confirms,
// using the link up. The store accepts only a link of the logged-in user;
// another user's gives 404 and stays unused.
func (s *Server) accountEmailConfirm(w http.ResponseWriter, r *http.Request) {
	hash, ok := urlTokenHash(r)
	if !ok {
		s.invalidToken(w, r)
		return
	}
	ctx := r.Context()
	p := principalFrom(r)
	u, err := s.store.ConfirmEmailChange(ctx, hash, p.User.ID)
	if errors.Is(err, store.ErrEmailTaken) {
		s.renderNotice(w, r, http.StatusConflict, accountNotice{Title: i18n.M("account.email.title"),
			Message: i18n.Message{Msg: i18n.M("account.email.taken.now")}, LinkPath: "/profile/email",
			LinkText: i18n.M("account.link.again")})
		return
	}
	if s.tokenFailed(w, r, err, i18n.M("account.email.expired"), "/profile/email") {
		return
	}
	s.principals.forget(u.ID)
	s.log.Info("e-mail address changed", "user_id", u.ID, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("account.email.changed"))
	http.Redirect(w, r, s.path(profilePath), http.StatusSeeOther)
}
