package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what a pool and a transaction have in common, so helpers run
// alone or inside a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// TxFunc is work done inside a store function's transaction, just before
// it commits: typically queueing the mail that tells someone about the
// change (mail.Outbox.EnqueueTx), so that the change and its mail are
// saved together or not at all. An error rolls the whole transaction back.
type TxFunc func(ctx context.Context, tx pgx.Tx) error

// runTx runs fns in tx, in order.
func runTx(ctx context.Context, tx pgx.Tx, fns []TxFunc) error {
	for _, fn := range fns {
		if fn == nil {
			continue
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
	}
	return nil
}

// Approval is the administrators' decision on a self-registered account.
type Approval string

// The approval states. Accounts not made by self-registration are approved.
const (
	ApprovalPending  Approval = "pending"
	ApprovalApproved Approval = "approved"
	ApprovalRejected Approval = "rejected"
)

// AccountState summarises whether and why an account may log in.
type AccountState string

// The account states, from a user's point of view.
const (
	StateActive     AccountState = "active"     // may log in
	StateInactive   AccountState = "inactive"   // approved once, deactivated by an administrator
	StateUnverified AccountState = "unverified" // registered, e-mail address not yet confirmed
	StatePending    AccountState = "pending"    // address confirmed, awaiting an administrator's approval
	StateRejected   AccountState = "rejected"   // registration rejected by an administrator
)

// State returns the account's state. Only StateActive may log in: the
// database allows is_active only on verified, approved accounts.
func (u *User) State() AccountState {
	switch {
	case u.Approval == ApprovalRejected:
		return StateRejected
	case u.Approval == ApprovalPending && u.EmailVerifiedAt == nil:
		return StateUnverified
	case u.Approval == ApprovalPending:
		return StatePending
	case !u.IsActive:
		return StateInactive
	}
	return StateActive
}

// Errors of the account functions. Each matches ErrConflict.
var (
	// ErrUsernameTaken: another account has the username (case-insensitively).
	ErrUsernameTaken = fmt.Errorf("%w: username taken", ErrConflict)
	// ErrEmailTaken: another account has the e-mail address (case-insensitively).
	ErrEmailTaken = fmt.Errorf("%w: e-mail address taken", ErrConflict)
	// ErrNotVerified: the account's e-mail address is not confirmed yet.
	ErrNotVerified = fmt.Errorf("%w: e-mail address not verified", ErrConflict)
	// ErrNotApproved: the account was never approved, so it cannot be activated.
	ErrNotApproved = fmt.Errorf("%w: account not approved", ErrConflict)
	// ErrAlreadyDecided: the registration is not (or no longer) awaiting a decision.
	ErrAlreadyDecided = fmt.Errorf("%w: registration already decided", ErrConflict)
	// ErrLastSuperuser: the change would leave no active superuser.
	ErrLastSuperuser = fmt.Errorf("%w: last active superuser", ErrConflict)
)

// accountsErr is mapErr that passes the package's own errors through
// unwrapped, so their messages stay short.
func accountsErr(op string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return mapErr(op, err)
}

// userConflict maps the users table's unique indexes to ErrUsernameTaken
// and ErrEmailTaken.
func userConflict(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "users_username_key":
			return ErrUsernameTaken
		case "users_email_key":
			return ErrEmailTaken
		}
	}
	return accountsErr(op, err)
}

// Registration is a self-registration: the account is created inactive,
// unverified and pending approval, with its e-mail verification token.
type Registration struct {
	Username     string
	Email        string
	FirstName    string
	LastName     string
	Phone        string
	Organization int64 // 0 for none
	PasswordHash string
	Language     string
	// TokenHash is the SHA-256 of the verification token mailed to Email.
	TokenHash []byte
	// TokenTTL is how long the verification link stays valid.
	TokenTTL time.Duration
}

// Register creates a self-registered account and its e-mail verification
// token in one transaction. then runs inside it after the change
// (typically to queue the verification mail); an error from it undoes the
// registration. A taken username or address gives ErrUsernameTaken or
// ErrEmailTaken; an unknown organization ErrNotFound.
func (s *Store) Register(ctx context.Context, r Registration, then ...TxFunc) (*User, *AccountToken, error) {
	var u *User
	var t *AccountToken
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users
			(username, email, first_name, last_name, password_hash, is_active, language, phone,
			 organization_id, email_verified_at, approval, approval_decided_at)
			VALUES ($1, $2, $3, $4, $5, false, $6, $7, NULLIF($8, 0), NULL, 'pending', NULL)
			RETURNING `+userColumns,
			r.Username, r.Email, r.FirstName, r.LastName, r.PasswordHash, r.Language, r.Phone, r.Organization))
		if err != nil {
			return err
		}
		t, err = createAccountToken(ctx, tx, NewAccountToken{UserID: u.ID, Purpose: TokenVerifyEmail,
			Hash: r.TokenHash, Payload: r.Email, TTL: r.TokenTTL})
		if err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	if err != nil {
		return nil, nil, userConflict("register", err)
	}
	return u, t, nil
}

// AccountsTaken reports whether an account other than exceptID (0 for
// none) already has the username or the e-mail address, compared
// case-insensitively; an empty argument is not looked up. Forms use it to
// name every taken field at once.
func (s *Store) AccountsTaken(ctx context.Context, username, email string, exceptID int64) (usernameTaken, emailTaken bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
		$1 <> '' AND EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1) AND id <> $3),
		$2 <> '' AND EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2) AND id <> $3)`,
		username, email, exceptID).Scan(&usernameTaken, &emailTaken)
	return usernameTaken, emailTaken, accountsErr("accounts taken", err)
}

// UserByEmail returns the account with the given e-mail address, compared
// case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email))
	return u, accountsErr("user by email", err)
}

// VerifyEmail uses up a verify_email token and marks the address it was
// mailed to as confirmed, returning the account (still pending approval).
// Token errors as ConsumeAccountToken; a token for an address the account
// no longer has gives ErrNotFound. then runs inside the transaction after
// the change (typically to queue the administrators' approval request); an
// error from it undoes the confirmation and leaves the token unused.
func (s *Store) VerifyEmail(ctx context.Context, tokenHash []byte, then ...TxFunc) (*User, error) {
	var u *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := consumeAccountToken(ctx, tx, TokenVerifyEmail, tokenHash, 0)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, now())
			WHERE id = $1 AND lower(email) = lower($2) RETURNING `+userColumns, t.UserID, t.Payload))
		if err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	return u, accountsErr("verify email", err)
}

// ApproveUser approves a registration awaiting approval (or one rejected
// before) and activates the account; by is the deciding administrator (0
// when unknown). then runs inside the transaction after the change, with
// the account changed (typically to queue the mail that tells the user);
// an error from it undoes the approval. An unconfirmed address gives
// ErrNotVerified, an approved account ErrAlreadyDecided, a missing one
// ErrNotFound.
func (s *Store) ApproveUser(ctx context.Context, id, by int64, then ...TxFunc) (*User, error) {
	var u *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET approval = 'approved', is_active = true,
			approval_decided_at = now(), approval_decided_by = NULLIF($2, 0)
			WHERE id = $1 AND approval <> 'approved' AND email_verified_at IS NOT NULL RETURNING `+userColumns, id, by))
		if err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.whyUndecidable(ctx, id, true)
	}
	if err != nil {
		return nil, accountsErr("approve user", err)
	}
	return u, nil
}

// RejectUser rejects a registration that is still pending (confirmed or
// not); the account stays, inactive, until DeleteRegistration. Its unused
// tokens expire. by is the deciding administrator (0 when unknown). then
// runs inside the transaction after the change (as for ApproveUser); an
// error from it undoes the rejection. A decided registration gives
// ErrAlreadyDecided, a missing one ErrNotFound.
func (s *Store) RejectUser(ctx context.Context, id, by int64, then ...TxFunc) (*User, error) {
	var u *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET approval = 'rejected', is_active = false,
			approval_decided_at = now(), approval_decided_by = NULLIF($2, 0)
			WHERE id = $1 AND approval = 'pending' RETURNING `+userColumns, id, by))
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `UPDATE account_tokens SET expires_at = now()
			WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()`, id); err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.whyUndecidable(ctx, id, false)
	}
	if err != nil {
		return nil, accountsErr("reject user", err)
	}
	return u, nil
}

func (s *Store) whyUndecidable(ctx context.Context, id int64, approving bool) error {
	u, err := s.UserByID(ctx, id)
	switch {
	case err != nil:
		return err
	case approving && u.Approval != ApprovalApproved && u.EmailVerifiedAt == nil:
		return ErrNotVerified
	}
	return ErrAlreadyDecided
}

// DeleteRegistration deletes an account that was never approved (pending
// or rejected), freeing its username and address. An approved account is
// never deleted here (ErrAlreadyDecided): it may own instances and appear
// in logs; deactivate it instead.
func (s *Store) DeleteRegistration(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users WHERE id = $1 AND approval <> 'approved'`, id)
	if err != nil {
		return accountsErr("delete registration", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.UserByID(ctx, id); err != nil {
			return err
		}
		return ErrAlreadyDecided
	}
	return nil
}

// DeleteAbandonedRegistrations deletes registrations made before the given
// time whose address was never confirmed and that hold no valid
// verification token, and returns how many were deleted.
func (s *Store) DeleteAbandonedRegistrations(ctx context.Context, registeredBefore time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM users u WHERE u.approval = 'pending' AND u.email_verified_at IS NULL
		AND u.created_at < $1 AND NOT EXISTS (SELECT 1 FROM account_tokens t WHERE t.user_id = u.id
			AND t.purpose = 'verify_email' AND t.used_at IS NULL AND t.expires_at > now())`, registeredBefore)
	if err != nil {
		return 0, accountsErr("delete abandoned registrations", err)
	}
	return tag.RowsAffected(), nil
}

// Profile is the part of an account its user edits.
type Profile struct {
	FirstName    string
	LastName     string
	Phone        string
	Organization int64 // 0 for none
	// Language is the preferred language ("" for none: the browser
	// decides); nil keeps the current one.
	Language *string
}

// UpdateProfile changes the account's names, phone, organization and, when
// p.Language is set, language. An unknown account or organization gives
// ErrNotFound.
func (s *Store) UpdateProfile(ctx context.Context, id int64, p Profile) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `UPDATE users SET first_name = $2, last_name = $3, phone = $4,
		organization_id = NULLIF($5, 0), language = COALESCE($6, language) WHERE id = $1 RETURNING `+userColumns,
		id, p.FirstName, p.LastName, p.Phone, p.Organization, p.Language))
	return u, accountsErr("update profile", err)
}

// ChangePassword replaces the account's password hash and ends every
// session of the account (the session epoch is bumped) in one transaction;
// unused password-reset links expire. It returns the new epoch, which the
// caller stores in its own session to stay logged in. then runs inside the
// transaction after the change (typically to queue the notice mail); an
// error from it undoes the change.
func (s *Store) ChangePassword(ctx context.Context, id int64, hash string, then ...TxFunc) (int32, error) {
	var epoch int32
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if epoch, err = changePassword(ctx, tx, id, hash); err != nil {
			return err
		}
		if err := expireAccountTokens(ctx, tx, id, TokenResetPassword); err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	return epoch, accountsErr("change password", err)
}

func changePassword(ctx context.Context, q querier, id int64, hash string) (int32, error) {
	if err := setPassword(ctx, q, id, hash); err != nil {
		return 0, err
	}
	return bumpSessionEpoch(ctx, q, id)
}

// ResetPassword uses up a reset_password token and sets the password of its
// account, ending every session of it, in one transaction. then runs inside
// it after the change (typically to queue the notice mail); an error from
// it undoes the reset and leaves the token unused. Token errors as
// ConsumeAccountToken.
func (s *Store) ResetPassword(ctx context.Context, tokenHash []byte, passwordHash string, then ...TxFunc) (*User, error) {
	var u *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := consumeAccountToken(ctx, tx, TokenResetPassword, tokenHash, 0)
		if err != nil {
			return err
		}
		if _, err := changePassword(ctx, tx, t.UserID, passwordHash); err != nil {
			return err
		}
		if err := expireAccountTokens(ctx, tx, t.UserID, TokenResetPassword); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, t.UserID))
		if err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	return u, accountsErr("reset password", err)
}

// RequestEmailChange stores a change_email token for the account, whose
// payload is the new address; it replaces any earlier request. then runs
// inside the transaction after the change (typically to queue the
// confirmation to the new address and the notice to the old one); an error
// from it undoes the request. An address another account has gives
// ErrEmailTaken.
func (s *Store) RequestEmailChange(ctx context.Context, userID int64, newEmail string, tokenHash []byte, ttl time.Duration, then ...TxFunc) (*AccountToken, error) {
	var t *AccountToken
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2)`,
			newEmail, userID).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ErrEmailTaken
		}
		var err error
		t, err = createAccountToken(ctx, tx, NewAccountToken{UserID: userID, Purpose: TokenChangeEmail,
			Hash: tokenHash, Payload: newEmail, TTL: ttl})
		if err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	return t, accountsErr("request email change", err)
}

// ConfirmEmailChange uses up a change_email token of the account userID
// (the logged-in user following the link) and sets its address to the one
// the token confirms, as verified. A token of another account gives
// ErrNotFound and is left unused; other token errors as
// ConsumeAccountToken; an address taken meanwhile gives ErrEmailTaken.
// Password-reset links mailed to the old address expire. then runs inside
// the transaction after the change; an error from it undoes the change and
// leaves the token unused.
func (s *Store) ConfirmEmailChange(ctx context.Context, tokenHash []byte, userID int64, then ...TxFunc) (*User, error) {
	if userID == 0 {
		return nil, ErrNotFound
	}
	var u *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := consumeAccountToken(ctx, tx, TokenChangeEmail, tokenHash, userID)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET email = $2, email_verified_at = now()
			WHERE id = $1 RETURNING `+userColumns, t.UserID, t.Payload))
		if err != nil {
			return err
		}
		if err := expireAccountTokens(ctx, tx, t.UserID, TokenResetPassword); err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	return u, userConflict("confirm email change", err)
}

// MarkWelcomed records that the first-login welcome was shown and reports
// whether this call did it (true exactly once per account, even with
// concurrent logins).
func (s *Store) MarkWelcomed(ctx context.Context, id int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET welcomed_at = now() WHERE id = $1 AND welcomed_at IS NULL`, id)
	if err != nil {
		return false, accountsErr("mark welcomed", err)
	}
	return tag.RowsAffected() == 1, nil
}
