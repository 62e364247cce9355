package web

import "net/http"

// oauthToken is the OAuth2 token endpoint: an application exchanges an
// authorization code (with its credentials, or its PKCE verifier) for an
// access token. It is exempt from the cross-origin protection
// (oauthCrossOriginRoutes) and loads no session.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	s.oauth.HandleToken(w, r)
}
