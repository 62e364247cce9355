package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// instanceShowData is the instance page's content.
type instanceShowData struct {
	*instanceView
	Wide bool // helpdesk and admins see nodes and raw tags
	Demo bool
	// Actions is what the user may do to the instance; nil when the site
	// offers no instance actions.
	Actions *instanceActions
}

// instanceShow is the page of one instance, from the cache, with its
// actions panel, the progress of its latest job, its configuration and
// owners. An instance the user may not see is answered exactly like one
// that does not exist (404), so the page reveals nothing.
func (s *Server) instanceShow(w http.ResponseWriter, r *http.Request) {
	slug, name := actionTarget(r)
	s.showInstance(w, r, http.StatusOK, slug, name, nil)
}

// showInstance renders the instance page with status; pb is the refused
// or invalid action being answered (nil for a plain GET).
func (s *Server) showInstance(w http.ResponseWriter, r *http.Request, status int, slug, name string, pb *actionProblem) {
	p := principalFrom(r)
	ctx := r.Context()
	wide := p.Can(auth.ViewInstances)
	var in *store.CachedInstance
	var view *instanceops.View
	if s.instances != nil {
		v, err := s.instances.View(ctx, p, slug, name)
		if rf := refusalOf(err); rf != nil && rf.Code == instanceops.NotFound {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		view, in = v, v.Instance
	} else {
		var err error
		if in, err = s.store.VisibleInstance(ctx, p.User.ID, wide, slug, name); s.loadFailed(w, r, err) {
			return
		}
	}
	// The clusters' statuses (for the banner) and the page context
	// (declared IPv6 prefixes, node groups under maintenance) come from the
	// same snapshot as the lists'.
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	cs, err := s.state(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := instanceShowData{instanceView: s.instanceView(in, cs.pc), Wide: wide}
	for _, st := range statuses {
		if st.ClusterID == in.ClusterID {
			d.Demo = st.Demo
		}
	}
	if view != nil {
		d.Actions = s.instanceActionsOf(s.localizerFrom(r), view, pb)
		if view.Pending != nil {
			d.Busy = instanceops.Kind(view.Pending.Kind).Busy()
		}
	}
	s.render(w, r, status, "instance", d)
}
