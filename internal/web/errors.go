package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// errorData is the content of the error page.
type errorData struct {
	Title   i18n.Msg
	Message i18n.Msg
}

func errorTitle(status int) i18n.Msg {
	switch status {
	case http.StatusBadRequest:
		return i18n.M("error.400.title")
	case http.StatusForbidden:
		return i18n.M("error.403.title")
	case http.StatusNotFound:
		return i18n.M("error.404.title")
	case http.StatusMethodNotAllowed:
		return i18n.M("error.405.title")
	case http.StatusRequestEntityTooLarge:
		return i18n.M("error.413.title")
	case http.StatusTooManyRequests:
		return i18n.M("error.429.title")
	case http.StatusServiceUnavailable:
		return i18n.M("error.503.title")
	default:
		return i18n.M("error.500.title")
	}
}

// errorPage renders the translated error page with a status and message.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg i18n.Msg) {
	s.render(w, r, status, "error", errorData{Title: errorTitle(status), Message: msg})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, i18n.M("error.notfound"))
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	// chi gives a custom 405 handler no list of allowed methods: ask the
	// router which methods match this path.
	var allowed []string
	if mux, ok := s.handler.(chi.Routes); ok {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if mux.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allowed = append(allowed, m)
			}
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
	}
	s.errorPage(w, r, http.StatusMethodNotAllowed, i18n.M("error.methodnotallowed"))
}

func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, msg i18n.Msg) {
	s.errorPage(w, r, http.StatusBadRequest, msg)
}

// serverError logs err with the request id and shows a generic 500 page
// that reveals nothing of the error.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("internal error", "err", err, "request_id", requestIDFrom(r), "path", logPath(r))
	s.errorPageNoSession(w, r, http.StatusInternalServerError, i18n.M("error.internal"))
}

// errorPageNoSession renders an error without touching the session (which
// may be the thing that failed).
func (s *Server) errorPageNoSession(w http.ResponseWriter, r *http.Request, status int, msg i18n.Msg) {
	t := s.pages["error"]
	p := &Page{L: s.localizerFrom(r), Languages: i18n.Languages(), Base: s.path(""), Version: s.version,
		Status: status, Path: "/", Data: errorData{Title: errorTitle(status), Message: msg}}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout.html", p); err != nil {
		s.log.Error("error page failed", "err", err)
	}
}

// loadFailed answers a failed lookup and reports whether it did: a missing
// row is a 404 (also for rows the user may not see), anything else a 500.
// Handlers write: if s.loadFailed(w, r, err) { return }.
func (s *Server) loadFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
	default:
		s.serverError(w, r, err)
	}
	return true
}
