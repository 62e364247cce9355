package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// oauthApplicationsUpdate saves one of the user's applications; another
// user's is a 404. An application that becomes confidential gets a secret,
// shown this once on the answer.
func (s *Server) oauthApplicationsUpdate(w http.ResponseWriter, r *http.Request) {
	id, ok := oauthAppID(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	ctx := r.Context()
	uid := principalFrom(r).User.ID
	if _, err := s.oauth.Application(ctx, uid, id); s.loadFailed(w, r, err) {
		return
	}
	f := oauthAppFormOf(r)
	f.ID = id
	in := f.check()
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "oauth_application_form", f)
		return
	}
	app, err := s.oauth.Update(ctx, uid, id, in)
	if s.loadFailed(w, r, err) {
		return
	}
	s.log.Info("oauth application updated", "user_id", uid, "application_id", id, "request_id", requestIDFrom(r))
	if app.Secret != "" {
		s.renderOAuthApp(w, r, http.StatusOK, app.Client, app.Secret)
		return
	}
	s.addFlash(ctx, "success", i18n.M("oauth.app.saved"))
	http.Redirect(w, r, s.path(oauthAppPath(id, "")), http.StatusSeeOther)
}
