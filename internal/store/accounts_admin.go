package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// UserFilter selects accounts in the administrators' user list.
type UserFilter string

// The user list filters.
const (
	FilterAllUsers   UserFilter = ""           // every account
	FilterActive     UserFilter = "active"     // may log in
	FilterInactive   UserFilter = "inactive"   // approved, then deactivated
	FilterPending    UserFilter = "pending"    // address confirmed, awaiting approval
	FilterUnverified UserFilter = "unverified" // registered, address not confirmed yet
	FilterRejected   UserFilter = "rejected"   // registration rejected
	FilterSuperuser  UserFilter = "superuser"  // superusers, active or not
)

// UserFilters returns every filter, in the order a page offers them.
func UserFilters() []UserFilter {
	return []UserFilter{FilterAllUsers, FilterActive, FilterInactive, FilterPending, FilterUnverified, FilterRejected, FilterSuperuser}
}

func (f UserFilter) clause() (string, bool) {
	switch f {
	case FilterAllUsers:
		return "true", true
	case FilterActive:
		return "u.is_active", true
	case FilterInactive:
		return "NOT u.is_active AND u.approval = 'approved'", true
	case FilterPending:
		return "u.approval = 'pending' AND u.email_verified_at IS NOT NULL", true
	case FilterUnverified:
		return "u.approval = 'pending' AND u.email_verified_at IS NULL", true
	case FilterRejected:
		return "u.approval = 'rejected'", true
	case FilterSuperuser:
		return "u.is_superuser", true
	}
	return "", false
}

// Bounds of a user list page.
const (
	DefaultUserPageSize = 50
	MaxUserPageSize     = 500
	maxUserSearch       = 200
)

// UserQuery selects a page of the user list, ordered by username
// (case-insensitively).
type UserQuery struct {
	// Search matches part of the username, e-mail address, full name or
	// organization title, case-insensitively.
	Search string
	Filter UserFilter
	// After is the Next cursor of the previous page; empty for the first.
	After string
	// Limit is the page size; 0 means DefaultUserPageSize, and it is capped
	// at MaxUserPageSize.
	Limit int
}

// UserListItem is one row of the user list. Its User has no password hash.
type UserListItem struct {
	User
	OrganizationTitle string
}

// UserPage is a page of the user list.
type UserPage struct {
	Users []UserListItem
	// Total is the number of accounts matching the search and filter.
	Total int
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// listUserColumns is userColumns without the password hash.
const listUserColumns = `u.id, u.username, u.email, u.first_name, u.last_name, '', u.is_active,
	u.is_superuser, u.language, u.session_epoch, u.created_at, u.last_login_at, u.phone, u.organization_id,
	u.email_verified_at, u.approval, u.approval_decided_at, u.approval_decided_by, u.welcomed_at`

// likePattern turns a search term into an ILIKE pattern matching it
// anywhere, with the wildcard characters taken literally.
func likePattern(term string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(term) + "%"
}

// ListUsers returns a page of accounts (keyset pagination on the
// lower-cased username). An unknown filter is an error.
func (s *Store) ListUsers(ctx context.Context, q UserQuery) (*UserPage, error) {
	filter, ok := q.Filter.clause()
	if !ok {
		return nil, fmt.Errorf("store: list users: unknown filter %q", q.Filter)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultUserPageSize
	}
	limit = min(limit, MaxUserPageSize)
	search := strings.TrimSpace(q.Search)
	if len(search) > maxUserSearch {
		search = search[:maxUserSearch]
	}
	where := filter + ` AND ($1 = '' OR u.username ILIKE $2 OR u.email ILIKE $2
		OR (u.first_name || ' ' || u.last_name) ILIKE $2 OR o.title ILIKE $2)`
	from := ` FROM users u LEFT JOIN organizations o ON o.id = u.organization_id WHERE ` + where
	page := &UserPage{}
	if err := s.pool.QueryRow(ctx, `SELECT count(*)`+from, search, likePattern(search)).Scan(&page.Total); err != nil {
		return nil, mapErr("list users", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+listUserColumns+`, COALESCE(o.title, ''), lower(u.username)`+from+`
		AND ($3 = '' OR lower(u.username) > $3) ORDER BY lower(u.username) LIMIT $4`,
		search, likePattern(search), q.After, limit+1)
	if err != nil {
		return nil, mapErr("list users", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var it UserListItem
		var key string
		u := &it.User
		if err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
			&u.IsActive, &u.IsSuperuser, &u.Language, &u.SessionEpoch, &u.CreatedAt, &u.LastLoginAt,
			&u.Phone, &u.OrganizationID, &u.EmailVerifiedAt, &u.Approval, &u.ApprovalDecidedAt,
			&u.ApprovalDecidedBy, &u.WelcomedAt, &it.OrganizationTitle, &key); err != nil {
			return nil, mapErr("list users", err)
		}
		page.Users = append(page.Users, it)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("list users", err)
	}
	if len(page.Users) > limit {
		page.Users = page.Users[:limit]
		page.Next = keys[limit-1]
	}
	return page, nil
}

// UserDetail is everything the administrators' page of one account shows.
type UserDetail struct {
	// User is the account, without its password hash.
	User *User
	// Organization is the user's organization, nil for none.
	Organization *Organization
	// DecidedBy is the username of the administrator who approved or
	// rejected the registration; empty when unknown or pending.
	DecidedBy string
	// Groups are the groups the user belongs to, by name.
	Groups []Group
	// DirectPermissions are granted to the user; EffectivePermissions adds
	// those of the user's groups. Both sorted; superuser status is not
	// among them.
	DirectPermissions    []string
	EffectivePermissions []string
	// InstancesOwned counts the cached instances tagged with the user's
	// name; InstancesThroughGroups those the user sees only through a
	// group tag.
	InstancesOwned         int
	InstancesThroughGroups int
	// SSHKeys is the number of the user's SSH keys.
	SSHKeys int
}

// UserDetail returns the account with its organization, groups,
// permissions and counts. A missing account gives ErrNotFound.
func (s *Store) UserDetail(ctx context.Context, id int64) (*UserDetail, error) {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	d := &UserDetail{User: u}
	if u.OrganizationID != nil {
		if d.Organization, err = s.OrganizationByID(ctx, *u.OrganizationID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	if u.ApprovalDecidedBy != nil {
		err := s.pool.QueryRow(ctx, `SELECT username FROM users WHERE id = $1`, *u.ApprovalDecidedBy).Scan(&d.DecidedBy)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, mapErr("user detail", err)
		}
	}
	if d.Groups, err = s.UserGroups(ctx, id); err != nil {
		return nil, err
	}
	if d.DirectPermissions, err = s.UserPermissions(ctx, id); err != nil {
		return nil, err
	}
	if d.EffectivePermissions, err = s.EffectivePermissions(ctx, id); err != nil {
		return nil, err
	}
	groups := make([]string, 0, len(d.Groups))
	for _, g := range d.Groups {
		groups = append(groups, g.Name)
	}
	err = s.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE owner_users @> ARRAY[$1::text]),
		count(*) FILTER (WHERE NOT owner_users @> ARRAY[$1::text])
		FROM cluster_instances WHERE owner_users @> ARRAY[$1::text] OR owner_groups && $2::text[]`,
		u.Username, groups).Scan(&d.InstancesOwned, &d.InstancesThroughGroups)
	if err != nil {
		return nil, mapErr("user detail", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM ssh_keys WHERE user_id = $1`, id).Scan(&d.SSHKeys); err != nil {
		return nil, mapErr("user detail", err)
	}
	return d, nil
}

// superuserLock is the transaction-level advisory lock (class, key) taken
// by every change that could remove the last active superuser, so two
// concurrent changes cannot each leave the other as the last one. The
// class spells "acct".
const superuserLockClass, superuserLockKey = 0x61636374, 1

// SetUserActive activates or deactivates an account. Activating an account
// whose registration was not approved gives ErrNotApproved (approve it
// instead); deactivating the last active superuser ErrLastSuperuser; a
// missing account ErrNotFound. A deactivated user's sessions end at their
// next request.
func (s *Store) SetUserActive(ctx context.Context, id int64, active bool) error {
	return s.changeSuperuserSafely(ctx, "set user active", id, func(tx pgx.Tx, u *User) error {
		switch {
		case active && u.Approval != ApprovalApproved:
			return ErrNotApproved
		case !active && u.IsActive && u.IsSuperuser:
			if err := requireAnotherSuperuser(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE users SET is_active = $2 WHERE id = $1`, id, active)
		return err
	})
}

// SetUserSuperuser grants or removes superuser status. Removing it from the
// last active superuser gives ErrLastSuperuser; a missing account
// ErrNotFound.
func (s *Store) SetUserSuperuser(ctx context.Context, id int64, superuser bool) error {
	return s.changeSuperuserSafely(ctx, "set user superuser", id, func(tx pgx.Tx, u *User) error {
		if !superuser && u.IsActive && u.IsSuperuser {
			if err := requireAnotherSuperuser(ctx, tx, id); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE users SET is_superuser = $2 WHERE id = $1`, id, superuser)
		return err
	})
}

// changeSuperuserSafely runs fn on the locked account inside a transaction
// holding the superuser lock.
func (s *Store) changeSuperuserSafely(ctx context.Context, op string, id int64, fn func(pgx.Tx, *User) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, superuserLockClass, superuserLockKey); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		return fn(tx, u)
	})
	return accountsErr(op, err)
}

func requireAnotherSuperuser(ctx context.Context, tx pgx.Tx, id int64) error {
	var others int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE is_superuser AND is_active AND id <> $1`, id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return ErrLastSuperuser
	}
	return nil
}
