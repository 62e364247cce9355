package store

import (
	"context"
	"time"
)

// User is an account.
type User struct {
	ID           int64
	Username     string
	Email        string
	FirstName    string
	LastName     string
	PasswordHash string
	IsActive     bool
	IsSuperuser  bool
	Language     string
	SessionEpoch int32
	CreatedAt    time.Time
	LastLoginAt  *time.Time
	// Phone is the optional telephone number given at registration.
	Phone string
	// OrganizationID is the user's organization, nil for none.
	OrganizationID *int64
	// EmailVerifiedAt is when the address was confirmed; nil while a
	// self-registered account has not followed its verification link.
	EmailVerifiedAt *time.Time
	// Approval is the administrators' decision on a self-registration
	// (ApprovalApproved for every account made another way).
	Approval Approval
	// ApprovalDecidedAt is when Approval was decided, nil while pending.
	ApprovalDecidedAt *time.Time
	// ApprovalDecidedBy is the administrator who decided, nil when unknown.
	ApprovalDecidedBy *int64
	// WelcomedAt is when the first-login welcome was shown, nil before.
	WelcomedAt *time.Time
}

// NewUser holds the fields of an account being created.
type NewUser struct {
	Username     string
	Email        string
	FirstName    string
	LastName     string
	PasswordHash string
	IsActive     bool
	IsSuperuser  bool
	Language     string
}

const userColumns = `id, username, email, first_name, last_name, password_hash, is_active,
	is_superuser, language, session_epoch, created_at, last_login_at, phone, organization_id,
	email_verified_at, approval, approval_decided_at, approval_decided_by, welcomed_at`

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	u := &User{}
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&u.IsActive, &u.IsSuperuser, &u.Language, &u.SessionEpoch, &u.CreatedAt, &u.LastLoginAt,
		&u.Phone, &u.OrganizationID, &u.EmailVerifiedAt, &u.Approval, &u.ApprovalDecidedAt,
		&u.ApprovalDecidedBy, &u.WelcomedAt)
	return u, err
}

// CreateUser inserts an account. A username or email already taken
// (case-insensitively) gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	row := s.pool.QueryRow(ctx, `INSERT INTO users
		(username, email, first_name, last_name, password_hash, is_active, is_superuser, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+userColumns,
		n.Username, n.Email, n.FirstName, n.LastName, n.PasswordHash, n.IsActive, n.IsSuperuser, n.Language)
	u, err := scanUser(row)
	return u, mapErr("create user", err)
}

// UserByID returns the account with the given id.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, mapErr("user by id", err)
}

// UserByUsername returns the account with the given username, compared
// case-insensitively.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(username) = lower($1)`, username))
	return u, mapErr("user by username", err)
}

// CountSuperusers returns the number of active superusers.
func (s *Store) CountSuperusers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE is_superuser AND is_active`).Scan(&n)
	return n, mapErr("count superusers", err)
}

// RecordLogin sets the last-login time and, when newHash is not empty,
// replaces the password hash (rehashing with current parameters).
func (s *Store) RecordLogin(ctx context.Context, id int64, newHash string) error {
	_, err := s.pool.Exec(ctx, `UPDATE users SET last_login_at = now(),
		password_hash = CASE WHEN $2 = '' THEN password_hash ELSE $2 END WHERE id = $1`, id, newHash)
	return mapErr("record login", err)
}

// SetUserLanguage stores the account's preferred language.
func (s *Store) SetUserLanguage(ctx context.Context, id int64, lang string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET language = $2 WHERE id = $1`, id, lang)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("set language", err)
}

// SetPassword replaces the account's password hash. It leaves existing
// sessions alone; ChangePassword also ends them.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	return setPassword(ctx, s.pool, id, hash)
}

func setPassword(ctx context.Context, q querier, id int64, hash string) error {
	tag, err := q.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("set password", err)
}

// BumpSessionEpoch invalidates every existing session of the account (they
// carry the old epoch) and returns the new epoch.
func (s *Store) BumpSessionEpoch(ctx context.Context, id int64) (int32, error) {
	return bumpSessionEpoch(ctx, s.pool, id)
}

func bumpSessionEpoch(ctx context.Context, q querier, id int64) (int32, error) {
	var epoch int32
	err := q.QueryRow(ctx, `UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch`, id).Scan(&epoch)
	return epoch, mapErr("bump session epoch", err)
}

// CountUsers returns the number of accounts and of active superusers.
func (s *Store) CountUsers(ctx context.Context) (users, superusers int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE is_superuser AND is_active) FROM users`).Scan(&users, &superusers)
	return users, superusers, mapErr("count users", err)
}

// OldestSuperuser returns the first-created active superuser.
func (s *Store) OldestSuperuser(ctx context.Context) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users
		WHERE is_superuser AND is_active ORDER BY id LIMIT 1`))
	return u, mapErr("oldest superuser", err)
}
