package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// accountKeysDelete deletes one of the account's SSH keys; another
// account's key is a 404.
func (s *Server) accountKeysDelete(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	uid := principalFrom(r).User.ID
	if s.loadFailed(w, r, s.store.DeleteSSHKey(ctx, uid, id)) {
		return
	}
	s.log.Info("ssh key deleted", "user_id", uid, "key_id", id, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("account.keys.deleted"))
	http.Redirect(w, r, s.path(keysPath), http.StatusSeeOther)
}
