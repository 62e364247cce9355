package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Kinds of OAuth2 token rows.
const (
	OAuthKindCode   = "code"   // an authorization code, exchanged once for an access token
	OAuthKindAccess = "access" // an access token
)

// OAuthToken is an authorization code or access token (table oauth_tokens).
// Only the SHA-256 of the code or token is stored, so the row does not
// carry it.
type OAuthToken struct {
	ID                  int64
	Kind                string // OAuthKindCode or OAuthKindAccess
	ClientRowID         int64  // oauth_clients.id
	ClientID            string // the application's public client id
	ClientName          string
	UserID              int64
	Scope               string
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

// NewOAuthToken is a code or token to store.
type NewOAuthToken struct {
	Kind string
	// Hash is the SHA-256 of the code or token (32 bytes).
	Hash                []byte
	ClientID            string // the application's public client id
	UserID              int64
	Scope               string
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

const oauthTokenColumns = `t.id, t.kind, t.client_id, c.client_id, c.name, t.user_id, t.scope, t.redirect_uri,
	t.code_challenge, t.code_challenge_method, t.created_at, t.expires_at`

func scanOAuthToken(row pgx.Row) (*OAuthToken, error) {
	t := &OAuthToken{}
	err := row.Scan(&t.ID, &t.Kind, &t.ClientRowID, &t.ClientID, &t.ClientName, &t.UserID, &t.Scope, &t.RedirectURI,
		&t.CodeChallenge, &t.CodeChallengeMethod, &t.CreatedAt, &t.ExpiresAt)
	return t, err
}

// CreateOAuthToken stores a code or token for the application with the
// public client id n.ClientID. An unknown application or user is
// ErrNotFound; a hash already stored ErrConflict.
func (s *Store) CreateOAuthToken(ctx context.Context, n NewOAuthToken) (*OAuthToken, error) {
	t, err := scanOAuthToken(s.pool.QueryRow(ctx, `WITH t AS (
		INSERT INTO oauth_tokens (kind, token_hash, client_id, user_id, scope, redirect_uri, code_challenge,
			code_challenge_method, created_at, expires_at)
		SELECT $1, $2, c.id, $4, $5, $6, $7, $8, $9, $10 FROM oauth_clients c WHERE c.client_id = $3
		RETURNING *)
		SELECT `+oauthTokenColumns+` FROM t JOIN oauth_clients c ON c.id = t.client_id`,
		n.Kind, n.Hash, n.ClientID, n.UserID, n.Scope, n.RedirectURI, n.CodeChallenge, n.CodeChallengeMethod,
		n.CreatedAt, n.ExpiresAt))
	return t, mapErr("create oauth token", err)
}

// OAuthTokenByHash returns the code or token of the kind whose SHA-256 is
// hash, unless it expired by now (then, like a revoked or unknown one, it
// is ErrNotFound).
func (s *Store) OAuthTokenByHash(ctx context.Context, kind string, hash []byte, now time.Time) (*OAuthToken, error) {
	t, err := scanOAuthToken(s.pool.QueryRow(ctx, `SELECT `+oauthTokenColumns+`
		FROM oauth_tokens t JOIN oauth_clients c ON c.id = t.client_id
		WHERE t.token_hash = $1 AND t.kind = $2 AND t.expires_at > $3`, hash, kind, now))
	return t, mapErr("oauth token", err)
}

// OAuthAccess is a valid access token with the user it acts for.
type OAuthAccess struct {
	Token    *OAuthToken
	Username string
	Email    string
}

// OAuthAccessByHash returns the access token whose SHA-256 is hash with its
// user, in one query. An unknown, revoked or expired token, or one of an
// inactive user, is ErrNotFound.
func (s *Store) OAuthAccessByHash(ctx context.Context, hash []byte, now time.Time) (*OAuthAccess, error) {
	a := &OAuthAccess{Token: &OAuthToken{}}
	t := a.Token
	err := s.pool.QueryRow(ctx, `SELECT `+oauthTokenColumns+`, u.username, u.email
		FROM oauth_tokens t JOIN oauth_clients c ON c.id = t.client_id JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 AND u.is_active`, hash, now).Scan(
		&t.ID, &t.Kind, &t.ClientRowID, &t.ClientID, &t.ClientName, &t.UserID, &t.Scope, &t.RedirectURI,
		&t.CodeChallenge, &t.CodeChallengeMethod, &t.CreatedAt, &t.ExpiresAt, &a.Username, &a.Email)
	if err != nil {
		return nil, mapErr("oauth access", err)
	}
	return a, nil
}

// DeleteOAuthTokenByHash deletes the code or token of the kind whose SHA-256
// is hash. It reports whether there was one: exchanging a code deletes it,
// and of two concurrent exchanges only one finds it.
func (s *Store) DeleteOAuthTokenByHash(ctx context.Context, kind string, hash []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oauth_tokens WHERE token_hash = $1 AND kind = $2`, hash, kind)
	if err != nil {
		return false, mapErr("delete oauth token", err)
	}
	return tag.RowsAffected() > 0, nil
}

// RevokeOAuthTokenOfClient deletes the code or token whose SHA-256 is hash
// if it was issued to the application with the public client id (RFC 7009:
// a client revokes only its own tokens). It reports whether one was
// deleted.
func (s *Store) RevokeOAuthTokenOfClient(ctx context.Context, clientID string, hash []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oauth_tokens t USING oauth_clients c
		WHERE t.token_hash = $1 AND c.id = t.client_id AND c.client_id = $2`, hash, clientID)
	if err != nil {
		return false, mapErr("revoke oauth token", err)
	}
	return tag.RowsAffected() > 0, nil
}

// OAuthAccessTokensOfUser returns the access tokens the user granted that
// are still valid at now, newest first, with their applications.
func (s *Store) OAuthAccessTokensOfUser(ctx context.Context, userID int64, now time.Time) ([]*OAuthToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+oauthTokenColumns+`
		FROM oauth_tokens t JOIN oauth_clients c ON c.id = t.client_id
		WHERE t.user_id = $1 AND t.kind = 'access' AND t.expires_at > $2
		ORDER BY t.created_at DESC, t.id DESC`, userID, now)
	if err != nil {
		return nil, mapErr("oauth tokens of user", err)
	}
	defer rows.Close()
	var out []*OAuthToken
	for rows.Next() {
		t, err := scanOAuthToken(rows)
		if err != nil {
			return nil, mapErr("oauth tokens of user", err)
		}
		out = append(out, t)
	}
	return out, mapErr("oauth tokens of user", rows.Err())
}

// DeleteOAuthTokenOfUser revokes the access token id the user granted;
// another user's token is ErrNotFound.
func (s *Store) DeleteOAuthTokenOfUser(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oauth_tokens WHERE id = $1 AND user_id = $2 AND kind = 'access'`, id, userID)
	if err != nil {
		return mapErr("delete oauth token of user", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteExpiredOAuthTokens purges the codes and tokens that expired before
// now and returns how many.
func (s *Store) DeleteExpiredOAuthTokens(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oauth_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, mapErr("delete expired oauth tokens", err)
	}
	return tag.RowsAffected(), nil
}
