package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// oauthTokensRevoke revokes an access token the user granted, at once;
// another user's token is a 404.
func (s *Server) oauthTokensRevoke(w http.ResponseWriter, r *http.Request) {
	id, ok := oauthAppID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	uid := principalFrom(r).User.ID
	if s.loadFailed(w, r, s.oauth.RevokeAuthorizedToken(ctx, uid, id)) {
		return
	}
	s.log.Info("oauth token revoked", "user_id", uid, "token_id", id, "request_id", requestIDFrom(r))
	s.addFlash(ctx, "success", i18n.M("oauth.tokens.revoked"))
	http.Redirect(w, r, s.path(oauthTokensPath), http.StatusSeeOther)
}
