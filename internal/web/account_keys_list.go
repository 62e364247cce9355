package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/sshkeys"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// keysPage is the SSH keys page: the account's keys and the form that adds
// more, with the outcome of the last addition.
type keysPage struct {
	Keys []store.SSHKey
	// Text is the form's text as typed, shown back when some lines were
	// refused; never when it held a private key.
	Text string
	// Problems are the refused lines of the last addition (nothing was
	// saved then).
	Problems []sshkeys.Result
	// Added counts the keys just added; Skipped are those not added because
	// the account already had them.
	Added   int
	Skipped []store.NewSSHKey
	// Error is about the whole form.
	Error i18n.Message
}

// renderKeys renders the SSH keys page with the account's keys.
func (s *Server) renderKeys(w http.ResponseWriter, r *http.Request, status int, page keysPage) {
	keys, err := s.store.SSHKeys(r.Context(), principalFrom(r).User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	page.Keys = keys
	s.render(w, r, status, "account_keys", page)
}

// accountKeysList shows the account's SSH keys and the form to add more.
func (s *Server) accountKeysList(w http.ResponseWriter, r *http.Request) {
	s.renderKeys(w, r, http.StatusOK, keysPage{})
}
