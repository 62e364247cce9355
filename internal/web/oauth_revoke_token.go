package web

import "net/http"

// oauthRevokeToken is the OAuth2 revocation endpoint (RFC 7009): an
// application revokes one of its tokens. It is exempt from the cross-origin
// protection (oauthCrossOriginRoutes) and loads no session.
func (s *Server) oauthRevokeToken(w http.ResponseWriter, r *http.Request) {
	s.oauth.HandleRevoke(w, r)
}
