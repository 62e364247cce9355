package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// jobShowData is the job page's content.
type jobShowData struct {
	*jobView
	OpsJSON    string
	ResultJSON string
	// LogEarlier says that the log lacks the job's first entries (the
	// cache keeps the last ones).
	LogEarlier bool
}

// jobShow is the page of one cached job: its opcodes with their status,
// the opcodes as sent, its log, and the result or error. Helpdesk and
// administrators only.
func (s *Server) jobShow(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 0 {
		s.notFound(w, r)
		return
	}
	j, err := s.store.CachedJobBySlug(r.Context(), chi.URLParam(r, "cluster"), id)
	if s.loadFailed(w, r, err) {
		return
	}
	s.render(w, r, http.StatusOK, "job", jobShowData{jobView: s.jobView(j), OpsJSON: jsonDump(j.Ops),
		ResultJSON: jsonDump(j.OpResult), LogEarlier: len(j.Log) > 0 && j.Log[0].Serial > 1})
}
