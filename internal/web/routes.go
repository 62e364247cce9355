package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// routes is the route table: every URL the site answers, with the
// middleware chain that guards it. Read it top to bottom to learn the
// security model:
//   - every request: request id, client address, logging, metrics, panic
//     recovery, security headers, a body size limit and cross-origin
//     protection (Go's http.CrossOriginProtection rejects any state-changing
//     request that a browser marks as coming from another site);
//   - "dynamic": a session, the logged-in user (if any) and the language;
//   - "protected": a logged-in, active user;
//   - "helpdesk": a holder of view_instances, or a superuser;
//   - "admin": a superuser.
//
// No GET route changes state (TestGETRoutesDoNotWrite walks this table).
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.requestID, s.clientAddr, s.observe, s.recoverPanics,
		s.securityHeaders, limitBody, s.crossOriginProtection)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/static/*", s.static)

	dynamic := chi.Chain(s.sessions.LoadAndSave, s.authenticate, s.localize)
	r.Group(func(r chi.Router) {
		r.Use(dynamic...)
		r.Get("/login", s.loginShow)
		r.Post("/login", s.loginSubmit)
		r.Post("/language", s.languageSet)

		r.Group(func(r chi.Router) {
			r.Use(s.requireLogin)
			r.Get("/", s.dashboard)
			r.Post("/logout", s.logout)
			r.Post("/account/logout-everywhere", s.logoutEverywhere)

			// Instances the user may see (everything from the cluster cache;
			// no page calls a cluster).
			r.Get("/instances/", s.instanceList)
			r.Get("/instances/{cluster}/{name}/", s.instanceShow)

			// Helpdesk (view_instances) and administrators.
			r.Group(func(r chi.Router) {
				r.Use(s.requireHelpdesk)
				r.Get("/nodes/", s.nodeList)
				r.Get("/jobs/", s.jobList)
				r.Get("/jobs/{cluster}/{id:[0-9]+}/", s.jobShow)
				r.Get("/clusters/{slug}/", s.clusterInfo)
			})

			r.Group(func(r chi.Router) {
				r.Use(s.requireSuperuser, s.refreshStateAfterChange)
				r.Get("/admin/", s.adminHome)

				// Clusters: adding one in pin mode is two POSTs (fetch the
				// certificate, then confirm it); GET pages never call a cluster.
				r.Get("/admin/clusters", s.clusterList)
				r.Post("/admin/clusters/bulk", s.clusterBulk)
				r.Get("/admin/clusters/new", s.clusterNew)
				r.Post("/admin/clusters/new", s.clusterCreate)
				r.Post("/admin/clusters/new/confirm", s.clusterCreateConfirm)
				r.Get("/admin/clusters/{id:[0-9]+}", s.clusterShow)
				r.Post("/admin/clusters/{id:[0-9]+}/test", s.clusterTestConnection)
				r.Get("/admin/clusters/{id:[0-9]+}/edit", s.clusterEdit)
				r.Post("/admin/clusters/{id:[0-9]+}/edit", s.clusterUpdate)
				r.Post("/admin/clusters/{id:[0-9]+}/edit/confirm", s.clusterUpdateConfirm)
				r.Get("/admin/clusters/{id:[0-9]+}/delete", s.clusterDeleteConfirm)
				r.Post("/admin/clusters/{id:[0-9]+}/delete", s.clusterDelete)

				// Declared networks.
				r.Get("/admin/networks", s.networkList)
				r.Get("/admin/networks/new", s.networkNew)
				r.Post("/admin/networks/new", s.networkCreate)
				r.Get("/admin/networks/{id:[0-9]+}/edit", s.networkEdit)
				r.Post("/admin/networks/{id:[0-9]+}/edit", s.networkUpdate)
				r.Get("/admin/networks/{id:[0-9]+}/delete", s.networkDeleteConfirm)
				r.Post("/admin/networks/{id:[0-9]+}/delete", s.networkDelete)
			})
		})
	})

	r.NotFound(dynamic.HandlerFunc(s.notFound).ServeHTTP)
	r.MethodNotAllowed(dynamic.HandlerFunc(s.methodNotAllowed).ServeHTTP)
	return r
}
