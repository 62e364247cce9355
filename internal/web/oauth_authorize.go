package web

import (
	"net/http"
)

// oauthAuthorize takes the user's decision on the consent page (POST
// /o/authorize/; a same-origin form, guarded by the cross-origin
// protection). The request is checked again; on "allow" an access token
// (implicit grant) or a code is issued for the logged-in user, and the
// user is sent back to the client either way.
func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	if status, msg, err := parseForm(r); err != nil {
		s.errorPage(w, r, status, msg)
		return
	}
	req, ok := s.checkAuthorize(w, r, r.PostForm)
	if !ok {
		return
	}
	uid := principalFrom(r).User.ID
	if r.PostForm.Get("decision") != "allow" {
		s.log.Info("oauth authorization denied", "user_id", uid, "client_id", req.Client.ClientID,
			"request_id", requestIDFrom(r))
		http.Redirect(w, r, s.oauth.Deny(req), http.StatusSeeOther)
		return
	}
	to, err := s.oauth.Authorize(r.Context(), req, uid)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("oauth authorization granted", "user_id", uid, "client_id", req.Client.ClientID,
		"response_type", req.ResponseType, "scope", req.Scope, "request_id", requestIDFrom(r))
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, to, http.StatusSeeOther)
}
