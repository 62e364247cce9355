package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenPurpose says what a mailed account token confirms. A token is only
// ever accepted for the purpose it was made for.
type TokenPurpose string

// The purposes of account tokens.
const (
	TokenVerifyEmail   TokenPurpose = "verify_email"   // confirm the address given at registration
	TokenResetPassword TokenPurpose = "reset_password" // set a new password without the old one
	TokenChangeEmail   TokenPurpose = "change_email"   // confirm a new address (the payload)
)

// ErrTokenUsed is returned for an account token that was already used. It
// matches ErrNotFound, so callers that need no distinction need no check.
var ErrTokenUsed = fmt.Errorf("%w: token already used", ErrNotFound)

// ErrTokenExpired is returned for an account token past its expiry. It
// matches ErrNotFound.
var ErrTokenExpired = fmt.Errorf("%w: token expired", ErrNotFound)

// AccountToken is a stored single-use token. Only the SHA-256 of the token
// is stored (the token itself is only ever in the mail), so the row does not
// carry it.
type AccountToken struct {
	ID        int64
	UserID    int64
	Purpose   TokenPurpose
	Payload   string // what the token confirms: the address for verify_email and change_email
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// NewAccountToken describes a token to store.
type NewAccountToken struct {
	UserID  int64
	Purpose TokenPurpose
	// Hash is the SHA-256 of the token (32 bytes); see accounts.NewToken.
	Hash    []byte
	Payload string
	// TTL is how long the token stays valid (more than zero).
	TTL time.Duration
}

const accountTokenColumns = `id, user_id, purpose, payload, created_at, expires_at, used_at`

func scanAccountToken(row pgx.Row) (*AccountToken, error) {
	t := &AccountToken{}
	err := row.Scan(&t.ID, &t.UserID, &t.Purpose, &t.Payload, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt)
	return t, err
}

// CreateAccountToken stores a token for a user. Unused tokens of the same
// user and purpose expire now, so only the newest mailed link works (they
// are kept, and counted by CountRecentAccountTokens, until
// DeleteStaleAccountTokens). then runs inside the transaction after the
// token is stored (typically to queue the mail that carries it); an error
// from it undoes the token. An unknown user gives ErrNotFound.
func (s *Store) CreateAccountToken(ctx context.Context, n NewAccountToken, then ...TxFunc) (*AccountToken, error) {
	var t *AccountToken
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if t, err = createAccountToken(ctx, tx, n); err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	return t, accountsErr("create account token", err)
}

func createAccountToken(ctx context.Context, q querier, n NewAccountToken) (*AccountToken, error) {
	if len(n.Hash) != 32 || n.TTL <= 0 {
		return nil, fmt.Errorf("store: create account token: need a 32-byte hash and a positive lifetime")
	}
	if err := expireAccountTokens(ctx, q, n.UserID, n.Purpose); err != nil {
		return nil, err
	}
	return scanAccountToken(q.QueryRow(ctx, `INSERT INTO account_tokens (user_id, purpose, token_hash, payload, expires_at)
		VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING `+accountTokenColumns,
		n.UserID, n.Purpose, n.Hash, n.Payload, n.TTL.Seconds()))
}

// expireAccountTokens ends the validity of the user's unused tokens of the
// purpose.
func expireAccountTokens(ctx context.Context, q querier, userID int64, purpose TokenPurpose) error {
	_, err := q.Exec(ctx, `UPDATE account_tokens SET expires_at = now()
		WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()`, userID, purpose)
	return err
}

// AccountTokenByHash returns the unused, unexpired token of the purpose
// whose SHA-256 is hash, without using it (to show the form a link leads
// to). Errors as ConsumeAccountToken.
func (s *Store) AccountTokenByHash(ctx context.Context, purpose TokenPurpose, hash []byte) (*AccountToken, error) {
	t, err := scanAccountToken(s.pool.QueryRow(ctx, `SELECT `+accountTokenColumns+` FROM account_tokens
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()`, hash, purpose))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, whyTokenUnusable(ctx, s.pool, purpose, hash, 0)
	}
	return t, accountsErr("account token", err)
}

// ConsumeAccountToken uses up the token of the purpose whose SHA-256 is
// hash and returns it. userID, when not 0, must be the token's user. A
// token that does not exist, is of another purpose or of another user gives
// ErrNotFound; a used one ErrTokenUsed; an expired one ErrTokenExpired.
// Exactly one of any number of concurrent calls succeeds.
func (s *Store) ConsumeAccountToken(ctx context.Context, purpose TokenPurpose, hash []byte, userID int64) (*AccountToken, error) {
	t, err := consumeAccountToken(ctx, s.pool, purpose, hash, userID)
	return t, accountsErr("consume account token", err)
}

func consumeAccountToken(ctx context.Context, q querier, purpose TokenPurpose, hash []byte, userID int64) (*AccountToken, error) {
	t, err := scanAccountToken(q.QueryRow(ctx, `UPDATE account_tokens SET used_at = now()
		WHERE token_hash = $1 AND purpose = $2 AND ($3 = 0 OR user_id = $3)
		AND used_at IS NULL AND expires_at > now()
		RETURNING `+accountTokenColumns, hash, purpose, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, whyTokenUnusable(ctx, q, purpose, hash, userID)
	}
	return t, err
}

// whyTokenUnusable tells a used or expired token from one that is not
// there for the caller (unknown, other purpose, other user).
func whyTokenUnusable(ctx context.Context, q querier, purpose TokenPurpose, hash []byte, userID int64) error {
	var used, expired bool
	err := q.QueryRow(ctx, `SELECT used_at IS NOT NULL, expires_at <= now() FROM account_tokens
		WHERE token_hash = $1 AND purpose = $2 AND ($3 = 0 OR user_id = $3)`, hash, purpose, userID).Scan(&used, &expired)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return accountsErr("account token", err)
	case used:
		return ErrTokenUsed
	case expired:
		return ErrTokenExpired
	}
	// Valid after all: it was used or created between the two statements.
	return ErrTokenUsed
}

// CountRecentAccountTokens returns how many tokens of the purpose were made
// for the user since the given time, to bound how many mails one user can
// have sent (used, expired and replaced tokens count while they are kept).
func (s *Store) CountRecentAccountTokens(ctx context.Context, userID int64, purpose TokenPurpose, since time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND created_at >= $3`,
		userID, purpose, since).Scan(&n)
	return n, accountsErr("count account tokens", err)
}

// DeleteStaleAccountTokens removes tokens that expired before the given
// time, used or not, and returns how many were removed.
func (s *Store) DeleteStaleAccountTokens(ctx context.Context, expiredBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM account_tokens WHERE expires_at < $1`, expiredBefore)
	if err != nil {
		return 0, accountsErr("delete stale account tokens", err)
	}
	return tag.RowsAffected(), nil
}
