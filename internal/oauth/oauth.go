// Package oauth is ganetimgr's OAuth2 provider: the applications users
// register, the authorization endpoint's checks (implicit grant, and
// authorization code with PKCE), the token and revocation endpoints, and
// the access tokens the JSON API accepts. It is built on go-oauth2/oauth2
// v4 with client and token stores in PostgreSQL (through internal/store).
//
// Client secrets, authorization codes and access tokens are stored only as
// their SHA-256: they are random 256-bit values, so a plain hash is enough,
// and a reader of the database cannot use them. A secret is shown once,
// when it is made. Redirect URIs are matched exactly against the
// registered ones. Revoking a token deletes its row, so it stops working at
// once; expired rows are purged by Purge.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	oauth2 "github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/server"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Scopes.
const (
	// ScopeRead reads the user's instances and account details (the JSON
	// API); it is the default.
	ScopeRead = "read"
	// ScopeWrite is reserved for endpoints that change things; none uses
	// it yet.
	ScopeWrite = "write"
)

// CodeLifetime is how long an authorization code may wait to be exchanged.
const CodeLifetime = 10 * time.Minute

// DefaultTokenLifetime is the access token lifetime when Options gives none
// (ganetimgr's 70 days).
const DefaultTokenLifetime = 70 * 24 * time.Hour

// Store is the part of the store the provider uses.
type Store interface {
	CreateOAuthClient(ctx context.Context, userID int64, clientID string, secretHash []byte, in store.OAuthClientInput) (*store.OAuthClient, error)
	OAuthClientByClientID(ctx context.Context, clientID string) (*store.OAuthClient, error)
	OAuthClientOfUser(ctx context.Context, userID, id int64) (*store.OAuthClient, error)
	OAuthClientsOfUser(ctx context.Context, userID int64) ([]*store.OAuthClient, error)
	UpdateOAuthClient(ctx context.Context, userID, id int64, in store.OAuthClientInput, newSecretHash []byte) (*store.OAuthClient, error)
	DeleteOAuthClient(ctx context.Context, userID, id int64) error
	CreateOAuthToken(ctx context.Context, n store.NewOAuthToken) (*store.OAuthToken, error)
	OAuthTokenByHash(ctx context.Context, kind string, hash []byte, now time.Time) (*store.OAuthToken, error)
	OAuthAccessByHash(ctx context.Context, hash []byte, now time.Time) (*store.OAuthAccess, error)
	DeleteOAuthTokenByHash(ctx context.Context, kind string, hash []byte) (bool, error)
	RevokeOAuthTokenOfClient(ctx context.Context, clientID string, hash []byte) (bool, error)
	OAuthAccessTokensOfUser(ctx context.Context, userID int64, now time.Time) ([]*store.OAuthToken, error)
	DeleteOAuthTokenOfUser(ctx context.Context, userID, id int64) error
	DeleteExpiredOAuthTokens(ctx context.Context, now time.Time) (int64, error)
}

// Options configure the provider.
type Options struct {
	// TokenLifetime is how long an access token is valid (default
	// DefaultTokenLifetime).
	TokenLifetime time.Duration
	// Logger receives internal errors of the endpoints (never a secret);
	// nil discards them.
	Logger *slog.Logger
	// Now returns the current time for token expiry checks (tests may move
	// it); nil means time.Now.
	Now func() time.Time
}

// Provider is the OAuth2 authorization server.
type Provider struct {
	store    Store
	srv      *server.Server
	lifetime time.Duration
	log      *slog.Logger
	now      func() time.Time
}

// New builds the provider on st.
func New(st Store, o Options) (*Provider, error) {
	if st == nil {
		return nil, errors.New("oauth: a store is required")
	}
	p := &Provider{store: st, lifetime: o.TokenLifetime, log: o.Logger, now: o.Now}
	if p.lifetime <= 0 {
		p.lifetime = DefaultTokenLifetime
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}

	m := manage.NewManager()
	m.SetAuthorizeCodeExp(CodeLifetime)
	// No refresh tokens: an access token lives TokenLifetime, as in
	// ganetimgr, and the user revokes it on /o/authorized_tokens/.
	m.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: p.lifetime})
	m.SetImplicitTokenCfg(&manage.Config{AccessTokenExp: p.lifetime})
	m.MapAuthorizeGenerate(codeGenerator{})
	m.MapAccessGenerate(tokenGenerator{})
	m.MapClientStorage(&ClientStore{store: st})
	m.MapTokenStorage(&TokenStore{store: st, now: p.now})
	m.SetValidateURIHandler(validateRedirect)

	cfg := server.NewConfig()
	cfg.AllowedGrantTypes = []oauth2.GrantType{oauth2.AuthorizationCode}
	cfg.AllowedResponseTypes = []oauth2.ResponseType{oauth2.Code, oauth2.Token}
	cfg.AllowedCodeChallengeMethods = []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256}
	srv := server.NewServer(cfg, m)
	srv.SetClientInfoHandler(p.clientCredentials)
	srv.SetInternalErrorHandler(func(err error) *oerrors.Response {
		switch {
		case errors.Is(err, oerrors.ErrInvalidRedirectURI), errors.Is(err, oerrors.ErrInvalidAuthorizeCode),
			errors.Is(err, oerrors.ErrMissingCodeVerifier), errors.Is(err, oerrors.ErrInvalidCodeChallenge):
			// The code was not issued for this redirect URI, or the PKCE
			// verifier is missing or wrong (RFC 6749 §5.2, RFC 7636 §4.6).
			return &oerrors.Response{Error: oerrors.ErrInvalidGrant, Description: oerrors.Descriptions[oerrors.ErrInvalidGrant]}
		}
		p.log.Error("oauth: token endpoint", "err", err)
		return nil // answered as server_error
	})
	srv.SetResponseErrorHandler(tokenErrorStatus)
	p.srv = srv
	return p, nil
}

// TokenLifetime returns how long an access token is valid.
func (p *Provider) TokenLifetime() time.Duration { return p.lifetime }

// HashSecret returns the SHA-256 of a secret, code or token: the form in
// which they are stored.
func HashSecret(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// maxSecretLen bounds a presented secret, code or token: longer text is
// refused without a lookup.
const maxSecretLen = 512

// newSecret returns a random 256-bit value, base64url without padding (43
// characters).
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oauth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newClientID returns a random public client id (32 characters).
func newClientID() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oauth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// codeGenerator makes authorization codes, and tokenGenerator access
// tokens, from the system's random source (the library's defaults derive
// them from UUIDs).
type (
	codeGenerator  struct{}
	tokenGenerator struct{}
)

// Token returns a new authorization code.
func (codeGenerator) Token(context.Context, *oauth2.GenerateBasic) (string, error) {
	return newSecret()
}

// Token returns a new access token; refresh tokens are not issued.
func (tokenGenerator) Token(_ context.Context, _ *oauth2.GenerateBasic, refresh bool) (string, string, error) {
	if refresh {
		return "", "", errors.New("oauth: refresh tokens are not issued")
	}
	t, err := newSecret()
	return t, "", err
}

// ParseScope checks a requested scope (space-separated) and returns it
// normalized: known scopes only, each once, in a fixed order; empty means
// ScopeRead.
func ParseScope(s string) (string, bool) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return ScopeRead, true
	}
	var out []string
	for _, known := range []string{ScopeRead, ScopeWrite} {
		if slices.Contains(fields, known) {
			out = append(out, known)
		}
	}
	for _, f := range fields {
		if f != ScopeRead && f != ScopeWrite {
			return "", false
		}
	}
	return strings.Join(out, " "), true
}

// HasScope reports whether the space-separated scope includes want.
func HasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

// validateRedirect is the manager's redirect URI check: the URI must be
// one of the registered ones (ClientInfo.GetDomain lists them, one per
// line), character for character.
func validateRedirect(registered, redirect string) error {
	if slices.Contains(strings.Split(registered, "\n"), redirect) {
		return nil
	}
	return oerrors.ErrInvalidRedirectURI
}

// verifySecret compares a presented client secret with the stored hash in
// constant time.
func verifySecret(hash []byte, secret string) bool {
	if len(hash) == 0 || secret == "" || len(secret) > maxSecretLen {
		return false
	}
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

// clientCredentials reads the client's credentials from HTTP Basic
// authentication or the form (client_id, client_secret), and refuses a
// client whose grant type is not the authorization code. Both at once
// must agree.
func (p *Provider) clientCredentials(r *http.Request) (string, string, error) {
	id, secret, err := credentials(r)
	if err != nil {
		return "", "", err
	}
	c, err := p.store.OAuthClientByClientID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", oerrors.ErrInvalidClient
	} else if err != nil {
		return "", "", err
	}
	if oauth2.GrantType(r.PostForm.Get("grant_type")) == oauth2.AuthorizationCode && c.GrantType != store.OAuthAuthorizationCode {
		return "", "", oerrors.ErrUnauthorizedClient
	}
	return id, secret, nil
}

// credentials returns the client id and secret of a token or revocation
// request.
func credentials(r *http.Request) (string, string, error) {
	if err := r.ParseForm(); err != nil {
		return "", "", oerrors.ErrInvalidRequest
	}
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		id, secret = formDecode(id), formDecode(secret)
	}
	switch {
	case basic && (formSecret != "" || (formID != "" && formID != id)):
		return "", "", oerrors.ErrInvalidRequest
	case !basic:
		id, secret = formID, formSecret
	}
	if id == "" || len(id) > 100 || len(secret) > maxSecretLen {
		return "", "", oerrors.ErrInvalidClient
	}
	return id, secret, nil
}

// formDecode undoes application/x-www-form-urlencoded encoding, leaving
// text that is not so encoded as it is.
func formDecode(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// tokenErrorStatus gives token endpoint errors the status of RFC 6749
// §5.2: 400, except 401 for a client that failed to authenticate (with
// WWW-Authenticate) and 500 for the server's own failures.
func tokenErrorStatus(re *oerrors.Response) {
	switch re.Error {
	case oerrors.ErrInvalidClient:
		re.StatusCode = http.StatusUnauthorized
		re.SetHeader("WWW-Authenticate", `Basic realm="ganetimgr"`)
	case oerrors.ErrServerError:
		re.StatusCode = http.StatusInternalServerError
	case oerrors.ErrTemporarilyUnavailable:
		re.StatusCode = http.StatusServiceUnavailable
	default:
		re.StatusCode = http.StatusBadRequest
	}
}
