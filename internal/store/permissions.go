package store

import "context"

// GrantUserPermission gives a named permission to a user directly. An
// unknown permission or user gives ErrNotFound.
func (s *Store) GrantUserPermission(ctx context.Context, userID int64, perm string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO user_permissions (user_id, permission) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, userID, perm)
	return mapErr("grant user permission", err)
}

// RevokeUserPermission removes a permission granted directly to a user.
func (s *Store) RevokeUserPermission(ctx context.Context, userID int64, perm string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM user_permissions WHERE user_id = $1 AND permission = $2`, userID, perm)
	return mapErr("revoke user permission", err)
}

// GrantGroupPermission gives a named permission to every member of a group.
func (s *Store) GrantGroupPermission(ctx context.Context, groupID int64, perm string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO group_permissions (group_id, permission) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, groupID, perm)
	return mapErr("grant group permission", err)
}

// RevokeGroupPermission removes a permission from a group.
func (s *Store) RevokeGroupPermission(ctx context.Context, groupID int64, perm string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM group_permissions WHERE group_id = $1 AND permission = $2`, groupID, perm)
	return mapErr("revoke group permission", err)
}

// EffectivePermissions returns the permissions a user holds, directly or
// through any of their groups, sorted by name. Superuser status is not a
// permission row; callers treat superusers as holding everything.
func (s *Store) EffectivePermissions(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT permission FROM user_permissions WHERE user_id = $1
		UNION
		SELECT gp.permission FROM group_permissions gp
		JOIN group_members m ON m.group_id = gp.group_id WHERE m.user_id = $1
		ORDER BY 1`, userID)
	if err != nil {
		return nil, mapErr("effective permissions", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, mapErr("effective permissions", err)
		}
		out = append(out, p)
	}
	return out, mapErr("effective permissions", rows.Err())
}

// HasPermission answers whether the user holds perm directly or through a
// group. It does not consider superuser status.
func (s *Store) HasPermission(ctx context.Context, userID int64, perm string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM user_permissions WHERE user_id = $1 AND permission = $2
		UNION ALL
		SELECT 1 FROM group_permissions gp JOIN group_members m ON m.group_id = gp.group_id
		WHERE m.user_id = $1 AND gp.permission = $2)`, userID, perm).Scan(&ok)
	return ok, mapErr("has permission", err)
}
