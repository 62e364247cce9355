package oauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// ErrInvalidToken is returned for an access token that is missing, unknown,
// revoked, expired, or of a user who can no longer log in.
var ErrInvalidToken = errors.New("oauth: invalid access token")

// Authenticate returns the access token and its user for a bearer token
// presented to the API. It reads the database every time, so a revocation
// takes effect at once.
func (p *Provider) Authenticate(ctx context.Context, token string) (*store.OAuthAccess, error) {
	if token == "" || len(token) > maxSecretLen {
		return nil, ErrInvalidToken
	}
	a, err := p.store.OAuthAccessByHash(ctx, HashSecret(token), p.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, fmt.Errorf("oauth: authenticate: %w", err)
	}
	return a, nil
}

// AuthorizedTokens returns the valid access tokens the user granted, newest
// first.
func (p *Provider) AuthorizedTokens(ctx context.Context, userID int64) ([]*store.OAuthToken, error) {
	ts, err := p.store.OAuthAccessTokensOfUser(ctx, userID, p.now())
	if err != nil {
		return nil, fmt.Errorf("oauth: authorized tokens: %w", err)
	}
	return ts, nil
}

// RevokeAuthorizedToken revokes the access token id the user granted, at
// once. Another user's token is store.ErrNotFound.
func (p *Provider) RevokeAuthorizedToken(ctx context.Context, userID, id int64) error {
	if err := p.store.DeleteOAuthTokenOfUser(ctx, userID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return fmt.Errorf("oauth: revoke token: %w", err)
	}
	return nil
}

// Purge deletes the codes and tokens that expired before now and returns
// how many (revoked ones are deleted when revoked).
func (p *Provider) Purge(ctx context.Context, now time.Time) (int64, error) {
	n, err := p.store.DeleteExpiredOAuthTokens(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("oauth: purge: %w", err)
	}
	return n, nil
}
