package web

import "net/http"

// dashboardData is the dashboard's content.
type dashboardData struct {
	Permissions []string
}

// dashboard is the home page after login.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	var d dashboardData
	for _, perm := range p.Held() {
		d.Permissions = append(d.Permissions, string(perm))
	}
	s.render(w, r, http.StatusOK, "dashboard", d)
}
