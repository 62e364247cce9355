package web

import (
	"net/http"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
)

// requireHelpdesk lets through holders of view_instances and superusers
// (the nodes, jobs and cluster information pages); others get 403.
func (s *Server) requireHelpdesk(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalFrom(r).Can(auth.ViewInstances) {
			s.errorPage(w, r, http.StatusForbidden, i18n.M("error.forbidden"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
