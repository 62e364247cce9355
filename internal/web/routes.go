package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// routes is the route table: every URL the site answers, with the
// middleware chain that guards it. Read it top to bottom to learn the
// security model:
//   - every request: request id, client address (also handed to the audit
//     log), logging, metrics, panic
//     recovery, security headers, a body size limit and cross-origin
//     protection (Go's http.CrossOriginProtection rejects any state-changing
//     request that a browser marks as coming from another site);
//   - "dynamic": a session, the logged-in user (if any) and the language;
//   - "protected": a logged-in, active user;
//   - pages reached from a mailed link carry their token in the URL: they
//     use tokenPage (no referrer, no-store) and the token is redacted from
//     every log line (logPath);
//   - "helpdesk": a holder of view_instances, or a superuser;
//   - "admin": a superuser.
//
// No GET route changes state (TestGETRoutesDoNotWrite walks this table).
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.requestContext, s.observe, s.recoverPanics,
		s.securityHeaders, limitBody, s.crossOriginProtection)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/static/*", s.static)
	// Instance applications, anonymous: the SSH keys a new VM fetches while
	// it installs (application_keys.go); the token in the path is the
	// secret (never logged, never sent as a Referer, never cached).
	r.With(tokenPage).Get("/applications/keys/{token}", s.applicationKeys)

	dynamic := chi.Chain(s.sessions.LoadAndSave, s.authenticate, s.localize)

	// OAuth2 provider (oauth_*.go) and the JSON API for scripts (api_*.go),
	// at django-oauth-toolkit's and ganetimgr's paths; without a provider
	// (Deps.OAuth nil) they answer 404.
	//   - /o/ pages: "dynamic" and "protected" like every logged-in page;
	//     a user sees and changes only their own applications and tokens
	//     (another user's id is a 404). The consent is a same-origin POST
	//     form; "allow" issues a token (implicit grant) or a code (PKCE).
	//   - /o/token/ and /o/revoke_token/: POSTs from scripts and from other
	//     origins' pages, so they are deliberately exempt from the
	//     cross-origin protection (oauthCrossOriginRoutes): no session is
	//     loaded and no cookie carries authority there; the client's
	//     credentials, code and verifier are the authority. CORS for the
	//     configured origins (GANETIMGR_API_CORS_ORIGINS).
	//   - The JSON API (GET, no session): the access token, as the
	//     access_token query parameter or "Authorization: Bearer", is the
	//     authority (apiAuth). Only paths are logged, never the query
	//     string, so a token never reaches a log (logPath). /instances/list/
	//     is matched before /instances/{cluster}/{name}/ can be (one path
	//     segment fewer).
	r.Group(func(r chi.Router) {
		r.Use(s.requireOAuth)
		r.Group(func(r chi.Router) {
			r.Use(dynamic...)
			r.Use(s.requireLogin)
			r.Get("/o/authorize", s.oauthAuthorizeShow) // the documented address
			r.Get("/o/authorize/", s.oauthAuthorizeShow)
			r.Post("/o/authorize/", s.oauthAuthorize)
			r.Get("/o/applications", s.oauthApplicationsList)
			r.Get("/o/applications/", s.oauthApplicationsList)
			r.Get("/o/applications/register/", s.oauthApplicationsNew)
			r.Post("/o/applications/register/", s.oauthApplicationsCreate)
			r.Get("/o/applications/{id:[0-9]+}/", s.oauthApplicationsShow)
			r.Get("/o/applications/{id:[0-9]+}/update/", s.oauthApplicationsEdit)
			r.Post("/o/applications/{id:[0-9]+}/update/", s.oauthApplicationsUpdate)
			r.Get("/o/applications/{id:[0-9]+}/delete/", s.oauthApplicationsDeleteConfirm)
			r.Post("/o/applications/{id:[0-9]+}/delete/", s.oauthApplicationsDelete)
			r.Get("/o/authorized_tokens/", s.oauthTokensList)
			r.Post("/o/authorized_tokens/{id:[0-9]+}/delete/", s.oauthTokensRevoke)
		})
		r.With(s.apiCORS("POST")).Post("/o/token/", s.oauthToken)
		r.With(s.apiCORS("POST")).Options("/o/token/", corsPreflight)
		r.With(s.apiCORS("POST")).Post("/o/revoke_token/", s.oauthRevokeToken)
		r.With(s.apiCORS("POST")).Options("/o/revoke_token/", corsPreflight)
		r.Group(func(r chi.Router) {
			r.Use(s.apiCORS("GET"))
			r.Options("/instances/list/", corsPreflight)
			r.Options("/instances/list", corsPreflight)
			r.Options("/user/details/", corsPreflight)
			r.With(s.apiAuth).Get("/instances/list/", s.apiInstancesList)
			r.With(s.apiAuth).Get("/instances/list", s.apiInstancesList)
			r.With(s.apiAuth).Get("/user/details/", s.apiUserDetails)
		})
	})
	// (end of OAuth2 and API routes)
	r.Group(func(r chi.Router) {
		r.Use(dynamic...)
		r.Get("/login", s.loginShow)
		r.Post("/login", s.loginSubmit)
		r.Post("/language", s.languageSet)

		// Accounts, anonymous: registration, address confirmation,
		// password reset (account_*.go).
		r.Get("/accounts/register", s.accountRegisterShow)
		r.Post("/accounts/register", s.accountRegister)
		r.Get("/accounts/register/done", s.accountRegisterDone)
		r.Get("/accounts/password/reset", s.accountResetRequestShow)
		r.Post("/accounts/password/reset", s.accountResetRequest)
		r.Get("/accounts/password/sent", s.accountResetSent)
		// Mailed links: the token in the path is secret (never logged,
		// never sent as a Referer, pages never cached); GET shows a form,
		// only POST uses the link.
		r.Group(func(r chi.Router) {
			r.Use(tokenPage)
			r.Get("/accounts/verify/{token}", s.accountVerifyShow)
			r.Post("/accounts/verify/{token}", s.accountVerify)
			r.Get("/accounts/password/reset/{token}", s.accountResetShow)
			r.Post("/accounts/password/reset/{token}", s.accountReset)
		})
		// (end of anonymous account routes)

		r.Group(func(r chi.Router) {
			r.Use(s.requireLogin)
			r.Get("/", s.dashboard)
			r.Post("/logout", s.logout)
			r.Post("/account/logout-everywhere", s.logoutEverywhere)

			// Accounts, logged in: profile, password, e-mail change, SSH keys
			// (account_*.go).
			r.Get("/profile", s.accountProfileShow)
			r.Post("/profile", s.accountProfileUpdate)
			r.Get("/profile/password", s.accountPasswordShow)
			r.Post("/profile/password", s.accountPasswordChange)
			r.Get("/profile/email", s.accountEmailShow)
			r.Post("/profile/email", s.accountEmailRequest)
			r.With(tokenPage).Get("/profile/email/confirm/{token}", s.accountEmailConfirmShow)
			r.With(tokenPage).Post("/profile/email/confirm/{token}", s.accountEmailConfirm)
			r.Get("/profile/keys", s.accountKeysList)
			r.Post("/profile/keys", s.accountKeysAdd)
			r.Post("/profile/keys/{id:[0-9]+}/delete", s.accountKeysDelete)
			// (end of logged-in account routes)

			// Instances the user may see (everything from the cluster cache;
			// no page calls a cluster).
			r.Get("/instances/", s.instanceList)
			r.Get("/instances/{cluster}/{name}/", s.instanceShow)

			// Instance actions (instance_*.go; internal/instanceops decides
			// and audits every one, refusals included): owners and
			// superusers act, view_instances holders see; lock and isolate
			// need can_lock / can_isolate. Every action is a POST that
			// answers 303 to the instance page (or the page with the
			// refusal's reason and status). Reinstall, rename and destroy
			// have a form page and are confirmed by password or by a mailed
			// single-use link (/instances/confirm/{token}). A job's
			// progress is a fragment and an event stream.
			r.Group(func(r chi.Router) {
				r.Use(s.instanceOpsEnabled)
				r.Post("/instances/{cluster}/{name}/start", s.instanceStart)
				r.Post("/instances/{cluster}/{name}/shutdown", s.instanceShutdown)
				r.Post("/instances/{cluster}/{name}/reboot", s.instanceReboot)
				r.Post("/instances/{cluster}/{name}/config", s.instanceConfig)
				r.Post("/instances/{cluster}/{name}/owners/add", s.instanceOwnersAdd)
				r.Post("/instances/{cluster}/{name}/owners/remove", s.instanceOwnersRemove)
				r.Post("/instances/{cluster}/{name}/lock", s.instanceLock)
				r.Post("/instances/{cluster}/{name}/isolate", s.instanceIsolate)
				r.Post("/instances/{cluster}/{name}/allow-from", s.instanceAllowFrom)
				r.Get("/instances/{cluster}/{name}/reinstall", s.instanceReinstallShow)
				r.Post("/instances/{cluster}/{name}/reinstall", s.instanceReinstall)
				r.Get("/instances/{cluster}/{name}/rename", s.instanceRenameShow)
				r.Post("/instances/{cluster}/{name}/rename", s.instanceRename)
				r.Get("/instances/{cluster}/{name}/destroy", s.instanceDestroyShow)
				r.Post("/instances/{cluster}/{name}/destroy", s.instanceDestroy)
				r.Get("/instances/{cluster}/{name}/jobs/{id:[0-9]+}", s.instanceJobShow)
				r.Get("/instances/{cluster}/{name}/jobs/{id:[0-9]+}/events", s.instanceJobEvents)
				r.With(tokenPage).Get("/instances/confirm/{token}", s.instanceConfirmShow)
				r.With(tokenPage).Post("/instances/confirm/{token}", s.instanceConfirm)
			})
			// (end of instance action routes)

			// Instance applications (application_*.go): every user applies
			// and sees their own; /applications/all is for holders of
			// view_applications and reviewers; the actions are for reviewers
			// (change_application). The service checks each permission; the
			// detail page is also the review page.
			r.Get("/applications/", s.applicationList)
			r.Get("/applications/new", s.applicationNew)
			r.Post("/applications/new", s.applicationCreate)
			r.Get("/applications/all", s.applicationListAll)
			r.Get("/applications/{id:[0-9]+}/", s.applicationShow)
			r.Post("/applications/{id:[0-9]+}/approve", s.applicationApprove)
			r.Post("/applications/{id:[0-9]+}/refuse", s.applicationRefuse)
			r.Post("/applications/{id:[0-9]+}/discard", s.applicationDiscard)
			r.Post("/applications/{id:[0-9]+}/submit", s.applicationSubmit)
			// The creation job's live progress on the application's page.
			r.Get("/applications/{id:[0-9]+}/jobs/{job:[0-9]+}/events", s.applicationJobEvents)
			// (end of application routes)

			// The audit log (audit_list.go): every user sees their own
			// entries; holders of view_instances and superusers see
			// everyone's, with the user filter and the client addresses.
			r.Get("/history/", s.auditList)
			// (end of audit log routes)

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

				// Users, groups, permissions and organizations
				// (admin_users_*.go, admin_groups_*.go, admin_orgs_*.go).
				// /admin/users/{id} is also where a registration is approved
				// or rejected (the administrators' notification links there).
				r.Get("/admin/users", s.adminUsersList)
				r.Get("/admin/users/{id:[0-9]+}", s.adminUsersShow)
				r.Post("/admin/users/{id:[0-9]+}/approve", s.adminUsersApprove)
				r.Post("/admin/users/{id:[0-9]+}/reject", s.adminUsersReject)
				r.Post("/admin/users/{id:[0-9]+}/active", s.adminUsersActive)
				r.Post("/admin/users/{id:[0-9]+}/superuser", s.adminUsersSuperuser)
				r.Post("/admin/users/{id:[0-9]+}/logout-everywhere", s.adminUsersLogoutEverywhere)
				r.Post("/admin/users/{id:[0-9]+}/groups", s.adminUsersGroups)
				r.Post("/admin/users/{id:[0-9]+}/permissions", s.adminUsersPermissions)
				r.Get("/admin/users/{id:[0-9]+}/delete", s.adminUsersDeleteConfirm)
				r.Post("/admin/users/{id:[0-9]+}/delete", s.adminUsersDelete)
				r.Get("/admin/groups", s.adminGroupsList)
				r.Get("/admin/groups/new", s.adminGroupsNew)
				r.Post("/admin/groups/new", s.adminGroupsCreate)
				r.Get("/admin/groups/{id:[0-9]+}", s.adminGroupsShow)
				r.Post("/admin/groups/{id:[0-9]+}/rename", s.adminGroupsRename)
				r.Post("/admin/groups/{id:[0-9]+}/members", s.adminGroupsMembers)
				r.Post("/admin/groups/{id:[0-9]+}/permissions", s.adminGroupsPermissions)
				r.Get("/admin/groups/{id:[0-9]+}/delete", s.adminGroupsDeleteConfirm)
				r.Post("/admin/groups/{id:[0-9]+}/delete", s.adminGroupsDelete)
				r.Get("/admin/organizations", s.adminOrgsList)
				r.Get("/admin/organizations/new", s.adminOrgsNew)
				r.Post("/admin/organizations/new", s.adminOrgsCreate)
				r.Get("/admin/organizations/{id:[0-9]+}/edit", s.adminOrgsEdit)
				r.Post("/admin/organizations/{id:[0-9]+}/edit", s.adminOrgsUpdate)
				r.Get("/admin/organizations/{id:[0-9]+}/delete", s.adminOrgsDeleteConfirm)
				r.Post("/admin/organizations/{id:[0-9]+}/delete", s.adminOrgsDelete)
				// (end of account administration routes)

				// Instance applications, administrators (admin_application_*.go,
				// admin_os_images_*.go): creating a VM directly on a cluster
				// allowing fast creation, recorded as the administrator's
				// application; the operating system catalogue, whose secret OS
				// parameters are write-only.
				r.Get("/admin/applications/fast", s.adminApplicationFastNew)
				r.Post("/admin/applications/fast", s.adminApplicationFastCreate)
				r.Get("/admin/os-images", s.adminOSImagesList)
				r.Get("/admin/os-images/clusters/{id:[0-9]+}", s.adminOSImagesCluster)
				r.Get("/admin/os-images/new", s.adminOSImagesNew)
				r.Post("/admin/os-images/new", s.adminOSImagesCreate)
				r.Get("/admin/os-images/{id}/edit", s.adminOSImagesEdit)
				r.Post("/admin/os-images/{id}/edit", s.adminOSImagesUpdate)
				r.Get("/admin/os-images/{id}/delete", s.adminOSImagesDeleteConfirm)
				r.Post("/admin/os-images/{id}/delete", s.adminOSImagesDelete)
				// (end of application administration routes)

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
