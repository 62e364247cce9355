package oauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	oauth2 "github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/models"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// ClientStore is the library's client store on PostgreSQL
// (oauth2.ClientStore).
type ClientStore struct {
	store Store
}

// GetByID returns the application with the public client id; an unknown
// one is the library's invalid_client.
func (cs *ClientStore) GetByID(ctx context.Context, id string) (oauth2.ClientInfo, error) {
	if id == "" || len(id) > 100 {
		return nil, oerrors.ErrInvalidClient
	}
	c, err := cs.store.OAuthClientByClientID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, oerrors.ErrInvalidClient
	} else if err != nil {
		return nil, err
	}
	return clientInfo{c}, nil
}

// clientInfo is a registered application as the library sees it
// (oauth2.ClientInfo and oauth2.ClientPasswordVerifier).
type clientInfo struct{ c *store.OAuthClient }

func (ci clientInfo) GetID() string { return ci.c.ClientID }

// GetSecret returns nothing: only the hash is known, and the library
// checks secrets with VerifyPassword.
func (ci clientInfo) GetSecret() string { return "" }

// GetDomain lists the registered redirect URIs, one per line (see
// validateRedirect).
func (ci clientInfo) GetDomain() string { return strings.Join(ci.c.RedirectURIs, "\n") }

func (ci clientInfo) IsPublic() bool { return ci.c.ClientType == store.OAuthPublic }

func (ci clientInfo) GetUserID() string { return strconv.FormatInt(ci.c.UserID, 10) }

// VerifyPassword checks the presented client secret: a public client has
// none and must present none; a confidential client's must match its hash.
func (ci clientInfo) VerifyPassword(secret string) bool {
	if ci.IsPublic() {
		return secret == ""
	}
	return verifySecret(ci.c.SecretHash, secret)
}

// TokenStore is the library's token store on PostgreSQL
// (oauth2.TokenStore). Codes and access tokens are stored as their SHA-256;
// a lookup hashes what it is given and hands the clear value back only to
// the caller that presented it. Refresh tokens are not issued.
type TokenStore struct {
	store Store
	now   func() time.Time
}

// Create stores a new authorization code or access token.
func (ts *TokenStore) Create(ctx context.Context, info oauth2.TokenInfo) error {
	uid, err := strconv.ParseInt(info.GetUserID(), 10, 64)
	if err != nil {
		return fmt.Errorf("oauth: token for user %q: %w", info.GetUserID(), err)
	}
	if info.GetRefresh() != "" {
		return errors.New("oauth: refresh tokens are not issued")
	}
	n := store.NewOAuthToken{ClientID: info.GetClientID(), UserID: uid, Scope: info.GetScope(),
		RedirectURI: info.GetRedirectURI()}
	switch {
	case info.GetCode() != "":
		n.Kind, n.Hash = store.OAuthKindCode, HashSecret(info.GetCode())
		n.CreatedAt, n.ExpiresAt = info.GetCodeCreateAt(), info.GetCodeCreateAt().Add(info.GetCodeExpiresIn())
		n.CodeChallenge, n.CodeChallengeMethod = info.GetCodeChallenge(), info.GetCodeChallengeMethod().String()
	case info.GetAccess() != "":
		n.Kind, n.Hash = store.OAuthKindAccess, HashSecret(info.GetAccess())
		n.CreatedAt, n.ExpiresAt = info.GetAccessCreateAt(), info.GetAccessCreateAt().Add(info.GetAccessExpiresIn())
	default:
		return errors.New("oauth: neither a code nor an access token to store")
	}
	if !n.ExpiresAt.After(n.CreatedAt) {
		return errors.New("oauth: every code and token must expire")
	}
	if _, err := ts.store.CreateOAuthToken(ctx, n); err != nil {
		return fmt.Errorf("oauth: store token: %w", err)
	}
	return nil
}

// RemoveByCode deletes an authorization code as it is exchanged. A code
// already gone (exchanged concurrently) is the library's invalid code, so
// a code is exchanged at most once.
func (ts *TokenStore) RemoveByCode(ctx context.Context, code string) error {
	found, err := ts.store.DeleteOAuthTokenByHash(ctx, store.OAuthKindCode, HashSecret(code))
	if err != nil {
		return err
	}
	if !found {
		return oerrors.ErrInvalidAuthorizeCode
	}
	return nil
}

// RemoveByAccess deletes an access token.
func (ts *TokenStore) RemoveByAccess(ctx context.Context, access string) error {
	_, err := ts.store.DeleteOAuthTokenByHash(ctx, store.OAuthKindAccess, HashSecret(access))
	return err
}

// RemoveByRefresh does nothing: refresh tokens are not issued.
func (ts *TokenStore) RemoveByRefresh(context.Context, string) error { return nil }

// GetByCode returns the unexpired authorization code, or nil.
func (ts *TokenStore) GetByCode(ctx context.Context, code string) (oauth2.TokenInfo, error) {
	return ts.get(ctx, store.OAuthKindCode, code)
}

// GetByAccess returns the unexpired access token, or nil.
func (ts *TokenStore) GetByAccess(ctx context.Context, access string) (oauth2.TokenInfo, error) {
	return ts.get(ctx, store.OAuthKindAccess, access)
}

// GetByRefresh finds nothing: refresh tokens are not issued.
func (ts *TokenStore) GetByRefresh(context.Context, string) (oauth2.TokenInfo, error) {
	return nil, nil
}

func (ts *TokenStore) get(ctx context.Context, kind, value string) (oauth2.TokenInfo, error) {
	if value == "" || len(value) > maxSecretLen {
		return nil, nil
	}
	t, err := ts.store.OAuthTokenByHash(ctx, kind, HashSecret(value), ts.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ti := models.NewToken()
	ti.SetClientID(t.ClientID)
	ti.SetUserID(strconv.FormatInt(t.UserID, 10))
	ti.SetScope(t.Scope)
	ti.SetRedirectURI(t.RedirectURI)
	switch kind {
	case store.OAuthKindCode:
		ti.SetCode(value)
		ti.SetCodeCreateAt(t.CreatedAt)
		ti.SetCodeExpiresIn(t.ExpiresAt.Sub(t.CreatedAt))
		ti.SetCodeChallenge(t.CodeChallenge)
		ti.SetCodeChallengeMethod(oauth2.CodeChallengeMethod(t.CodeChallengeMethod))
	default:
		ti.SetAccess(value)
		ti.SetAccessCreateAt(t.CreatedAt)
		ti.SetAccessExpiresIn(t.ExpiresAt.Sub(t.CreatedAt))
	}
	return ti, nil
}
