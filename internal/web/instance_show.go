package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ganetimgr/ganetimgr/internal/auth"
)

// instanceShowData is the instance page's content.
type instanceShowData struct {
	*instanceView
	Wide bool // helpdesk and admins see nodes and raw tags
	Demo bool
}

// instanceShow is the read-only page of one instance, from the cache. An
// instance the user may not see is answered exactly like one that does not
// exist (404), so the page reveals nothing.
func (s *Server) instanceShow(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	slug, name := chi.URLParam(r, "cluster"), chi.URLParam(r, "name")
	wide := p.Can(auth.ViewInstances)
	in, err := s.store.VisibleInstance(r.Context(), p.User.ID, wide, slug, name)
	if s.loadFailed(w, r, err) {
		return
	}
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pc, err := s.loadPageContext(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := instanceShowData{instanceView: s.instanceView(in, pc), Wide: wide}
	for _, st := range statuses {
		if st.ClusterID == in.ClusterID {
			d.Demo = st.Demo
		}
	}
	s.render(w, r, http.StatusOK, "instance", d)
}
