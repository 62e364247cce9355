package store

import "context"

// GroupSummaryByID returns one group with its member count, permissions and
// instance count (as a row of ListGroups); a missing group gives
// ErrNotFound.
func (s *Store) GroupSummaryByID(ctx context.Context, id int64) (*GroupSummary, error) {
	g := &GroupSummary{}
	err := s.pool.QueryRow(ctx, `SELECT g.id, g.name, g.created_at,
		(SELECT count(*) FROM group_members m WHERE m.group_id = g.id),
		ARRAY(SELECT p.permission FROM group_permissions p WHERE p.group_id = g.id ORDER BY 1),
		(SELECT count(*) FROM cluster_instances i WHERE i.owner_groups @> ARRAY[g.name])
		FROM groups g WHERE g.id = $1`, id).Scan(&g.ID, &g.Name, &g.CreatedAt, &g.Members, &g.Permissions, &g.Instances)
	if err != nil {
		return nil, mapErr("group summary", err)
	}
	return g, nil
}
