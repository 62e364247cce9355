package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// adminUsersDelete deletes a registration that was never approved (pending
// or rejected), freeing its username and address.
func (s *Server) adminUsersDelete(w http.ResponseWriter, r *http.Request) {
	u := s.accountFromURL(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	err := s.store.DeleteRegistration(ctx, u.ID)
	if errors.Is(err, store.ErrAlreadyDecided) {
		s.renderAdminUser(w, r, u.ID, http.StatusConflict, func(d *adminUserShowData) {
			d.Error = i18n.Message{Msg: i18n.M("adminacct.users.error.deleteapproved")}
		})
		return
	}
	if s.loadFailed(w, r, err) {
		return
	}
	s.forgetPrincipals(u.ID)
	s.log.Info("registration deleted", "user_id", u.ID, "username", u.Username, "by", principalFrom(r).User.ID,
		"request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("adminacct.users.deleted"))
	http.Redirect(w, r, s.path("/admin/users"), http.StatusSeeOther)
}
