package store

import "context"

// Group is a named set of users; instances can be owned by a group.
type Group struct {
	ID   int64
	Name string
}

// CreateGroup inserts a group; a name already taken gives ErrConflict.
func (s *Store) CreateGroup(ctx context.Context, name string) (*Group, error) {
	g := &Group{Name: name}
	err := s.pool.QueryRow(ctx, `INSERT INTO groups (name) VALUES ($1) RETURNING id`, name).Scan(&g.ID)
	return g, mapErr("create group", err)
}

// AddGroupMember puts a user in a group (no error if already a member).
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, groupID, userID)
	return mapErr("add group member", err)
}

// RemoveGroupMember takes a user out of a group.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	return mapErr("remove group member", err)
}

// UserGroups returns the groups the user belongs to, by name.
func (s *Store) UserGroups(ctx context.Context, userID int64) ([]Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT g.id, g.name FROM groups g
		JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name`, userID)
	if err != nil {
		return nil, mapErr("user groups", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, mapErr("user groups", err)
		}
		out = append(out, g)
	}
	return out, mapErr("user groups", rows.Err())
}
