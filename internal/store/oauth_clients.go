package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OAuth2 client types and grant types (the values of oauth_clients'
// client_type and grant_type, as django-oauth-toolkit named them).
const (
	OAuthConfidential      = "confidential"
	OAuthPublic            = "public"
	OAuthImplicit          = "implicit"
	OAuthAuthorizationCode = "authorization-code"
)

// MaxOAuthClientsPerUser bounds how many applications one account registers.
const MaxOAuthClientsPerUser = 50

// ErrTooManyOAuthClients is returned when registering an application would
// give an account more than MaxOAuthClientsPerUser. It matches ErrConflict.
var ErrTooManyOAuthClients = fmt.Errorf("%w: too many OAuth2 applications", ErrConflict)

// OAuthClient is an application registered with the OAuth2 provider (table
// oauth_clients). Only the SHA-256 of its secret is stored.
type OAuthClient struct {
	ID           int64
	ClientID     string // the public identifier (client_id)
	UserID       int64  // who registered it
	Name         string
	ClientType   string // OAuthConfidential or OAuthPublic
	GrantType    string // OAuthImplicit or OAuthAuthorizationCode
	RedirectURIs []string
	// SecretHash is the SHA-256 of the client secret; nil for public
	// clients.
	SecretHash []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// OAuthClientInput is what a user sets on an application (validated by the
// caller; see internal/oauth).
type OAuthClientInput struct {
	Name         string
	ClientType   string
	GrantType    string
	RedirectURIs []string
}

const oauthClientColumns = `id, client_id, user_id, name, client_type, grant_type, redirect_uris, secret_hash, created_at, updated_at`

func scanOAuthClient(row pgx.Row) (*OAuthClient, error) {
	c := &OAuthClient{}
	err := row.Scan(&c.ID, &c.ClientID, &c.UserID, &c.Name, &c.ClientType, &c.GrantType, &c.RedirectURIs,
		&c.SecretHash, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// CreateOAuthClient registers an application of the user with the given
// client id and secret hash (nil for a public client). More than
// MaxOAuthClientsPerUser gives ErrTooManyOAuthClients, a taken client id
// ErrConflict, an unknown user ErrNotFound.
func (s *Store) CreateOAuthClient(ctx context.Context, userID int64, clientID string, secretHash []byte, in OAuthClientInput) (*OAuthClient, error) {
	var c *OAuthClient
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the account so concurrent registrations count each other.
		if err := lockRow(ctx, tx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM oauth_clients WHERE user_id = $1`, userID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxOAuthClientsPerUser {
			return ErrTooManyOAuthClients
		}
		var err error
		c, err = scanOAuthClient(tx.QueryRow(ctx, `INSERT INTO oauth_clients
			(client_id, user_id, name, client_type, grant_type, redirect_uris, secret_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+oauthClientColumns,
			clientID, userID, in.Name, in.ClientType, in.GrantType, nonNil(in.RedirectURIs), secretHash))
		return err
	})
	if err != nil {
		return nil, accountsErr("create oauth client", err)
	}
	return c, nil
}

// OAuthClientByClientID returns the application with the public client id.
func (s *Store) OAuthClientByClientID(ctx context.Context, clientID string) (*OAuthClient, error) {
	c, err := scanOAuthClient(s.pool.QueryRow(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients WHERE client_id = $1`, clientID))
	return c, mapErr("oauth client", err)
}

// OAuthClientOfUser returns the user's application id; another user's is
// ErrNotFound.
func (s *Store) OAuthClientOfUser(ctx context.Context, userID, id int64) (*OAuthClient, error) {
	c, err := scanOAuthClient(s.pool.QueryRow(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients
		WHERE id = $1 AND user_id = $2`, id, userID))
	return c, mapErr("oauth client of user", err)
}

// OAuthClientsOfUser returns the user's applications, oldest first.
func (s *Store) OAuthClientsOfUser(ctx context.Context, userID int64) ([]*OAuthClient, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+oauthClientColumns+` FROM oauth_clients
		WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, mapErr("oauth clients of user", err)
	}
	defer rows.Close()
	var out []*OAuthClient
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, mapErr("oauth clients of user", err)
		}
		out = append(out, c)
	}
	return out, mapErr("oauth clients of user", rows.Err())
}

// UpdateOAuthClient changes the user's application id. A public client
// loses its secret; a confidential one keeps its secret unless newSecretHash
// is given (it must be when a public client becomes confidential, or the
// table's check refuses the change). Another user's application is
// ErrNotFound.
func (s *Store) UpdateOAuthClient(ctx context.Context, userID, id int64, in OAuthClientInput, newSecretHash []byte) (*OAuthClient, error) {
	c, err := scanOAuthClient(s.pool.QueryRow(ctx, `UPDATE oauth_clients SET name = $3, client_type = $4,
		grant_type = $5, redirect_uris = $6,
		secret_hash = CASE WHEN $4 = 'public' THEN NULL ELSE coalesce($7, secret_hash) END,
		updated_at = now()
		WHERE id = $1 AND user_id = $2 RETURNING `+oauthClientColumns,
		id, userID, in.Name, in.ClientType, in.GrantType, nonNil(in.RedirectURIs), newSecretHash))
	return c, mapErr("update oauth client", err)
}

// DeleteOAuthClient deletes the user's application id with every code and
// token issued to it. Another user's application is ErrNotFound.
func (s *Store) DeleteOAuthClient(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM oauth_clients WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return mapErr("delete oauth client", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
