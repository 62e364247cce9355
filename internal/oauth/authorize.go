package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	oauth2 "github.com/go-oauth2/oauth2/v4"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// AuthorizeRequest is an authorization request that passed every check:
// what the consent page shows and what Authorize issues.
type AuthorizeRequest struct {
	Client *store.OAuthClient
	// ResponseType is "token" (implicit grant) or "code".
	ResponseType string
	// RedirectURI is where the answer goes: the request's redirect_uri,
	// which is one of the registered ones, or the only registered one when
	// the request named none.
	RedirectURI string
	// Scope is the normalized scope; Scopes the same, split.
	Scope  string
	Scopes []string
	State  string
	// CodeChallenge and CodeChallengeMethod (S256) are PKCE's, for codes.
	CodeChallenge       string
	CodeChallengeMethod string
}

// Params returns the request's parameters as the consent form carries
// them (back to the same checks when it is posted).
func (a *AuthorizeRequest) Params() url.Values {
	v := url.Values{"client_id": {a.Client.ClientID}, "response_type": {a.ResponseType},
		"redirect_uri": {a.RedirectURI}, "scope": {a.Scope}}
	if a.State != "" {
		v.Set("state", a.State)
	}
	if a.CodeChallenge != "" {
		v.Set("code_challenge", a.CodeChallenge)
		v.Set("code_challenge_method", a.CodeChallengeMethod)
	}
	return v
}

// AuthorizeError is a refused authorization request. When RedirectURI is
// set, the client is trusted to receive the error there (Redirect gives the
// address); otherwise the client or its redirect URI could not be trusted,
// and the user is shown Message instead (RFC 6749 §4.1.2.1).
type AuthorizeError struct {
	// Code is the OAuth2 error code (invalid_request, unsupported_response_type ...).
	Code string
	// Message explains the error to the user, translated by the page.
	Message i18n.Msg
	// RedirectURI, ResponseType and State address the client, when trusted.
	RedirectURI  string
	ResponseType string
	State        string
}

func (e *AuthorizeError) Error() string { return "oauth: authorize: " + e.Code }

// Redirect returns where the error is sent, "" when the user is to be
// shown it.
func (e *AuthorizeError) Redirect() string {
	if e.RedirectURI == "" {
		return ""
	}
	v := url.Values{"error": {e.Code}}
	if e.State != "" {
		v.Set("state", e.State)
	}
	return withParams(e.RedirectURI, e.ResponseType == string(oauth2.Token), v)
}

// Largest accepted parameters of an authorization request.
const (
	maxStateLen = 1000
	maxURILen   = 2000
)

// CheckAuthorize checks an authorization request's parameters (a GET
// query, or the posted consent form). It returns an *AuthorizeError for a
// request to refuse, any other error for a failure of the server.
func (p *Provider) CheckAuthorize(ctx context.Context, q url.Values) (*AuthorizeRequest, error) {
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"} {
		if len(q[k]) > 1 {
			return nil, &AuthorizeError{Code: "invalid_request", Message: i18n.M("oauth.authorize.error.repeated")}
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return nil, &AuthorizeError{Code: "invalid_request", Message: i18n.M("oauth.authorize.error.noclient")}
	}
	if len(clientID) > 100 {
		return nil, &AuthorizeError{Code: "invalid_client", Message: i18n.M("oauth.authorize.error.client")}
	}
	c, err := p.store.OAuthClientByClientID(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &AuthorizeError{Code: "invalid_client", Message: i18n.M("oauth.authorize.error.client")}
	} else if err != nil {
		return nil, err
	}
	redirect := q.Get("redirect_uri")
	switch {
	case redirect == "" && len(c.RedirectURIs) == 1:
		redirect = c.RedirectURIs[0]
	case redirect == "":
		return nil, &AuthorizeError{Code: "invalid_request", Message: i18n.M("oauth.authorize.error.noredirect")}
	case !slices.Contains(c.RedirectURIs, redirect):
		return nil, &AuthorizeError{Code: "invalid_request", Message: i18n.M("oauth.authorize.error.redirect")}
	}

	// From here on the client learns of errors at its redirect URI.
	rt := q.Get("response_type")
	state := q.Get("state")
	fail := func(code string) (*AuthorizeRequest, error) {
		return nil, &AuthorizeError{Code: code, Message: i18n.M("oauth.authorize.error.request"),
			RedirectURI: redirect, ResponseType: rt, State: state}
	}
	if len(state) > maxStateLen {
		state = ""
		return fail("invalid_request")
	}
	switch {
	case rt != string(oauth2.Token) && rt != string(oauth2.Code):
		return fail("unsupported_response_type")
	case rt == string(oauth2.Token) && c.GrantType != store.OAuthImplicit,
		rt == string(oauth2.Code) && c.GrantType != store.OAuthAuthorizationCode:
		return fail("unauthorized_client")
	}
	scope, ok := ParseScope(q.Get("scope"))
	if !ok {
		return fail("invalid_scope")
	}
	req := &AuthorizeRequest{Client: c, ResponseType: rt, RedirectURI: redirect, Scope: scope,
		Scopes: strings.Fields(scope), State: state}
	if rt == string(oauth2.Code) {
		cc, method := q.Get("code_challenge"), q.Get("code_challenge_method")
		switch {
		case cc == "" && c.ClientType == store.OAuthPublic:
			return fail("invalid_request") // a public client must use PKCE
		case cc == "" && method == "":
		case method != string(oauth2.CodeChallengeS256) || !validChallenge(cc):
			return fail("invalid_request") // only S256 (not plain), and a well-formed challenge
		default:
			req.CodeChallenge, req.CodeChallengeMethod = cc, method
		}
	}
	return req, nil
}

// validChallenge checks a PKCE code challenge's form: 43 to 128 characters
// of the unreserved set (RFC 7636 §4.2; an S256 challenge is 43).
func validChallenge(cc string) bool {
	if len(cc) < 43 || len(cc) > 128 {
		return false
	}
	for _, r := range cc {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// Authorize issues what the user consented to for a checked request (an
// access token for the implicit grant, a code otherwise) and returns the
// address to send the user to.
func (p *Provider) Authorize(ctx context.Context, req *AuthorizeRequest, userID int64) (string, error) {
	ar := &server.AuthorizeRequest{ResponseType: oauth2.ResponseType(req.ResponseType), ClientID: req.Client.ClientID,
		Scope: req.Scope, RedirectURI: req.RedirectURI, State: req.State, UserID: strconv.FormatInt(userID, 10),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: oauth2.CodeChallengeMethod(req.CodeChallengeMethod)}
	ti, err := p.srv.GetAuthorizeToken(ctx, ar)
	if err != nil {
		return "", fmt.Errorf("oauth: authorize: %w", err)
	}
	v := url.Values{}
	for k, val := range p.srv.GetAuthorizeData(ar.ResponseType, ti) {
		v.Set(k, fmt.Sprint(val))
	}
	if req.State != "" {
		v.Set("state", req.State)
	}
	return withParams(req.RedirectURI, ar.ResponseType == oauth2.Token, v), nil
}

// Deny returns the address that tells the client the user refused.
func (p *Provider) Deny(req *AuthorizeRequest) string {
	return (&AuthorizeError{Code: "access_denied", RedirectURI: req.RedirectURI, ResponseType: req.ResponseType,
		State: req.State}).Redirect()
}

// withParams adds v to a redirect URI: in the fragment for the implicit
// grant (the token never reaches a server's logs), else to the query. The
// registered URI's own query is kept as it is.
func withParams(redirect string, fragment bool, v url.Values) string {
	u, err := url.Parse(redirect)
	if err != nil { // registered URIs are checked when registered
		return ""
	}
	u.Fragment, u.RawFragment = "", ""
	if fragment {
		return u.String() + "#" + v.Encode()
	}
	q := u.Query()
	for k, vals := range v {
		q[k] = vals
	}
	u.RawQuery = q.Encode()
	return u.String()
}
