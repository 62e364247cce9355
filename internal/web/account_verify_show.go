package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// tokenForm is the page a mailed link opens: what the link confirms and a
// button that posts back to the link (GET never changes anything).
type tokenForm struct {
	// Action is the link's path, where the form posts.
	Action string
	// Email is the address the link confirms ("" when none is shown).
	Email    string
	Username string
	// MinLength is the minimum password length (password reset).
	MinLength int
	Errors    fieldErrors
}

// tokenAction returns the path of the current mailed link (its token was
// checked by urlTokenHash, so it is plain base64url).
func tokenAction(r *http.Request, prefix string) string { return prefix + chi.URLParam(r, "token") }

// accountVerifyShow opens the confirmation link mailed at registration: a
// page naming the address, with a button that confirms it.
func (s *Server) accountVerifyShow(w http.ResponseWriter, r *http.Request) {
	hash, ok := urlTokenHash(r)
	if !ok {
		s.invalidToken(w, r)
		return
	}
	t, err := s.store.AccountTokenByHash(r.Context(), store.TokenVerifyEmail, hash)
	if s.tokenFailed(w, r, err, i18n.M("account.verify.expired"), "") {
		return
	}
	s.render(w, r, http.StatusOK, "account_verify", tokenForm{Action: tokenAction(r, verifyPath), Email: t.Payload})
}
