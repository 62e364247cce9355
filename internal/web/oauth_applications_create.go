package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// oauthApplicationsCreate registers an application of the user. The answer
// is the application's page with its client secret, shown this once (it is
// stored only as a hash, so it is not redirected through a flash).
func (s *Server) oauthApplicationsCreate(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	f := oauthAppFormOf(r)
	in := f.check()
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "oauth_application_form", f)
		return
	}
	uid := principalFrom(r).User.ID
	app, err := s.oauth.Register(r.Context(), uid, in)
	if errors.Is(err, store.ErrTooManyOAuthClients) {
		f.Errors = f.Errors.add("name", i18n.M("oauth.app.error.toomany"), "Max", store.MaxOAuthClientsPerUser)
		s.render(w, r, http.StatusUnprocessableEntity, "oauth_application_form", f)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("oauth application registered", "user_id", uid, "application_id", app.Client.ID,
		"client_id", app.Client.ClientID, "request_id", requestIDFrom(r))
	s.renderOAuthApp(w, r, http.StatusCreated, app.Client, app.Secret)
}
