package web

import (
	"errors"
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/sshkeys"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// accountKeysAdd adds the SSH public keys pasted in the form, one per line.
// If any line is refused nothing is saved and every refused line is named
// with its reason (a pasted private key is never shown back). Keys the
// account already has are skipped, and the page says which.
func (s *Server) accountKeysAdd(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	text := r.PostForm.Get("keys")
	results := sshkeys.Parse(text)
	var page keysPage
	private := false
	for _, res := range results {
		if !res.OK() {
			page.Problems = append(page.Problems, res)
			private = private || res.Problem.Msg.ID() == "sshkeys.error.private_key"
		}
	}
	switch {
	case len(results) == 0:
		page.Error = i18n.Message{Msg: i18n.M("account.keys.empty")}
	case len(page.Problems) > 0 && !private:
		page.Text = text
	}
	if len(results) == 0 || len(page.Problems) > 0 {
		s.renderKeys(w, r, http.StatusUnprocessableEntity, page)
		return
	}

	var keys []store.NewSSHKey
	for _, k := range sshkeys.Keys(results) {
		keys = append(keys, store.NewSSHKey(k))
	}
	ctx := r.Context()
	uid := principalFrom(r).User.ID
	added, skipped, err := s.store.AddSSHKeys(ctx, uid, keys)
	if errors.Is(err, store.ErrTooManySSHKeys) {
		page.Text = text
		page.Error = i18n.Message{Msg: i18n.M("account.keys.toomany"), Args: []any{"Max", store.MaxSSHKeysPerUser}}
		s.renderKeys(w, r, http.StatusUnprocessableEntity, page)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("ssh keys added", "user_id", uid, "added", len(added), "skipped", len(skipped), "request_id", requestIDFrom(r))
	if len(skipped) == 0 {
		s.addFlash(ctx, "success", i18n.M("account.keys.added"))
		http.Redirect(w, r, s.path(keysPath), http.StatusSeeOther)
		return
	}
	page.Added, page.Skipped = len(added), skipped
	s.renderKeys(w, r, http.StatusOK, page)
}
