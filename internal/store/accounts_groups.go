package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// GroupSummary is one row of the administrators' group list.
type GroupSummary struct {
	Group
	CreatedAt time.Time
	// Members is the number of members.
	Members int
	// Permissions are granted to the group, sorted.
	Permissions []string
	// Instances counts the cached instances tagged with the group's name:
	// renaming or deleting the group takes them away from its members,
	// since Ganeti's tags are not rewritten.
	Instances int
}

// GroupMember is a member of a group as the group's page lists it.
type GroupMember struct {
	ID        int64
	Username  string
	FirstName string
	LastName  string
	Email     string
	IsActive  bool
}

// ListGroups returns every group with its member count, permissions and
// instance count, by name.
func (s *Store) ListGroups(ctx context.Context) ([]GroupSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT g.id, g.name, g.created_at,
		(SELECT count(*) FROM group_members m WHERE m.group_id = g.id),
		ARRAY(SELECT p.permission FROM group_permissions p WHERE p.group_id = g.id ORDER BY 1),
		(SELECT count(*) FROM cluster_instances i WHERE i.owner_groups @> ARRAY[g.name])
		FROM groups g ORDER BY lower(g.name)`)
	if err != nil {
		return nil, mapErr("list groups", err)
	}
	defer rows.Close()
	var out []GroupSummary
	for rows.Next() {
		var g GroupSummary
		if err := rows.Scan(&g.ID, &g.Name, &g.CreatedAt, &g.Members, &g.Permissions, &g.Instances); err != nil {
			return nil, mapErr("list groups", err)
		}
		out = append(out, g)
	}
	return out, mapErr("list groups", rows.Err())
}

// GroupByID returns the group with the given id.
func (s *Store) GroupByID(ctx context.Context, id int64) (*Group, error) {
	g := &Group{}
	err := s.pool.QueryRow(ctx, `SELECT id, name FROM groups WHERE id = $1`, id).Scan(&g.ID, &g.Name)
	return g, mapErr("group by id", err)
}

// GroupByName returns the group with the given name, compared
// case-insensitively.
func (s *Store) GroupByName(ctx context.Context, name string) (*Group, error) {
	g := &Group{}
	err := s.pool.QueryRow(ctx, `SELECT id, name FROM groups WHERE lower(name) = lower($1)`, name).Scan(&g.ID, &g.Name)
	return g, mapErr("group by name", err)
}

// RenameGroup renames a group; a name already taken gives ErrConflict, a
// missing group ErrNotFound. Instances tagged with the old name are not
// retagged (see GroupSummary.Instances).
func (s *Store) RenameGroup(ctx context.Context, id int64, name string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE groups SET name = $2 WHERE id = $1`, id, name)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("rename group", err)
}

// DeleteGroup deletes a group with its memberships and grants; a missing
// group gives ErrNotFound.
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("delete group", err)
}

// GroupMembers returns the members of a group by username.
func (s *Store) GroupMembers(ctx context.Context, groupID int64) ([]GroupMember, error) {
	rows, err := s.pool.Query(ctx, `SELECT u.id, u.username, u.first_name, u.last_name, u.email, u.is_active
		FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY lower(u.username)`, groupID)
	if err != nil {
		return nil, mapErr("group members", err)
	}
	defer rows.Close()
	var out []GroupMember
	for rows.Next() {
		var m GroupMember
		if err := rows.Scan(&m.ID, &m.Username, &m.FirstName, &m.LastName, &m.Email, &m.IsActive); err != nil {
			return nil, mapErr("group members", err)
		}
		out = append(out, m)
	}
	return out, mapErr("group members", rows.Err())
}

// SetGroupMembers makes userIDs the group's exact member list. An unknown
// group or user gives ErrNotFound and changes nothing.
func (s *Store) SetGroupMembers(ctx context.Context, groupID int64, userIDs []int64) error {
	userIDs = nonNil(userIDs)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, groupID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND NOT user_id = ANY($2)`, groupID, userIDs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id)
			SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, groupID, userIDs)
		return err
	})
	return accountsErr("set group members", err)
}

// SetUserGroups makes groupIDs the user's exact group list. An unknown user
// or group gives ErrNotFound and changes nothing.
func (s *Store) SetUserGroups(ctx context.Context, userID int64, groupIDs []int64) error {
	groupIDs = nonNil(groupIDs)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM group_members WHERE user_id = $1 AND NOT group_id = ANY($2)`, userID, groupIDs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, user_id)
			SELECT unnest($2::bigint[]), $1 ON CONFLICT DO NOTHING`, userID, groupIDs)
		return err
	})
	return accountsErr("set user groups", err)
}

// lockRow runs a SELECT ... FOR UPDATE of one row; no row gives
// ErrNotFound.
func lockRow(ctx context.Context, tx pgx.Tx, sql string, id int64) error {
	var one int
	return tx.QueryRow(ctx, sql, id).Scan(&one)
}

// UserPermissions returns the permissions granted to the user directly,
// sorted.
func (s *Store) UserPermissions(ctx context.Context, userID int64) ([]string, error) {
	return s.permissionList(ctx, "user permissions", `SELECT permission FROM user_permissions WHERE user_id = $1 ORDER BY 1`, userID)
}

// GroupPermissions returns the permissions granted to the group, sorted.
func (s *Store) GroupPermissions(ctx context.Context, groupID int64) ([]string, error) {
	return s.permissionList(ctx, "group permissions", `SELECT permission FROM group_permissions WHERE group_id = $1 ORDER BY 1`, groupID)
}

func (s *Store) permissionList(ctx context.Context, op, sql string, id int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, sql, id)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapErr(op, err)
}

// SetUserPermissions makes perms the exact set of permissions granted to the
// user directly. An unknown user or permission gives ErrNotFound and
// changes nothing.
func (s *Store) SetUserPermissions(ctx context.Context, userID int64, perms []string) error {
	perms = nonNil(perms)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_permissions WHERE user_id = $1 AND NOT permission = ANY($2)`, userID, perms); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_permissions (user_id, permission)
			SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, userID, perms)
		return err
	})
	return accountsErr("set user permissions", err)
}

// SetGroupPermissions makes perms the exact set of permissions granted to
// the group. An unknown group or permission gives ErrNotFound and changes
// nothing.
func (s *Store) SetGroupPermissions(ctx context.Context, groupID int64, perms []string) error {
	perms = nonNil(perms)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, groupID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM group_permissions WHERE group_id = $1 AND NOT permission = ANY($2)`, groupID, perms); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO group_permissions (group_id, permission)
			SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, groupID, perms)
		return err
	})
	return accountsErr("set group permissions", err)
}
