package web

import "net/http"

// dashboardData is the dashboard's content.
type dashboardData struct {
	Permissions []string
	Demo        bool // the simulated demo cluster is registered
}

// dashboard is the home page after login.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	var d dashboardData
	var err error
	if d.Demo, err = s.store.HasDemoCluster(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	for _, perm := range p.Held() {
		d.Permissions = append(d.Permissions, string(perm))
	}
	s.render(w, r, http.StatusOK, "dashboard", d)
}
