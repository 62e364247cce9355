package web

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// applicationKeys serves the applicant's SSH keys as an authorized_keys
// text to the new VM installing itself (no login: the token in the URL is
// the secret, and it serves only while the application is submitted or
// created and the URL is young). Anything else is a plain 404.
func (s *Server) applicationKeys(w http.ResponseWriter, r *http.Request) {
	if s.apps == nil {
		http.NotFound(w, r)
		return
	}
	keys, err := s.apps.AuthorizedKeys(r.Context(), chi.URLParam(r, "token"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		s.log.Error("authorized keys failed", "err", err, "request_id", requestIDFrom(r), "path", logPath(r))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(keys))
}
