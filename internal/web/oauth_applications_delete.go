package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// oauthApplicationsDelete deletes one of the user's applications and every
// token issued to it (they stop working at once); another user's is a 404.
func (s *Server) oauthApplicationsDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := oauthAppID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	uid := principalFrom(r).User.ID
	if s.loadFailed(w, r, s.oauth.DeleteApplication(ctx, uid, id)) {
		return
	}
	s.log.Info("oauth application deleted", "user_id", uid, "application_id", id, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("oauth.app.deleted"))
	http.Redirect(w, r, s.path(oauthApplicationsPath), http.StatusSeeOther)
}
