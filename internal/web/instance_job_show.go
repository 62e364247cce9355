package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// instanceJobShow is the progress area of one of an instance's tracked
// jobs, as an HTML fragment (what the page shows in its progress area):
// for scripts that refresh the area, and for anyone who wants the
// current state without the whole page. A job the user may not see, or
// that is not this instance's, is not found.
func (s *Server) instanceJobShow(w http.ResponseWriter, r *http.Request) {
	j, ok := s.instanceJob(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := s.pages["instance"].ExecuteTemplate(&buf, "instance_job", s.jobProgressOf(s.localizerFrom(r), j)); err != nil {
		s.serverError(w, r, fmt.Errorf("web: render job progress: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

// instanceJob loads the tracked job of the URL: one the user may see, of
// the instance the URL names. It answers (404, 500) and returns false
// otherwise.
func (s *Server) instanceJob(w http.ResponseWriter, r *http.Request) (*store.InstanceJob, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return nil, false
	}
	j, err := s.instances.Job(r.Context(), principalFrom(r), id)
	if rf := refusalOf(err); rf != nil || (err == nil && !jobOf(j, r)) {
		s.notFound(w, r)
		return nil, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return nil, false
	}
	return j, true
}

// jobOf reports whether j is a job of the instance the URL names.
func jobOf(j *store.InstanceJob, r *http.Request) bool {
	slug, name := actionTarget(r)
	return j.ClusterSlug == slug && j.Instance == name
}
