package web

import (
	"net/http"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// languageSet switches the interface language: a cookie for everyone, and
// the account's preference for a logged-in user.
func (s *Server) languageSet(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	lang := r.PostForm.Get("lang")
	if !i18n.Supported(lang) {
		s.badRequest(w, r, i18n.M("language.unsupported"))
		return
	}
	if p := principalFrom(r); p != nil {
		if err := s.store.SetUserLanguage(r.Context(), p.User.ID, lang); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.principals.forget(p.User.ID)
	}
	http.SetCookie(w, &http.Cookie{
		Name: langCookie, Value: lang, Path: cookiePath(s.cfg), MaxAge: int((365 * 24 * time.Hour).Seconds()),
		HttpOnly: true, Secure: s.cfg.Secure(), SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, s.safeNext(r.PostForm.Get("next"), s.path("/")), http.StatusSeeOther)
}
