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

			r.Group(func(r chi.Router) {
				r.Use(s.requireSuperuser)
				r.Get("/admin/", s.adminHome)
			})
		})
	})

	r.NotFound(dynamic.HandlerFunc(s.notFound).ServeHTTP)
	r.MethodNotAllowed(dynamic.HandlerFunc(s.methodNotAllowed).ServeHTTP)
	return r
}
