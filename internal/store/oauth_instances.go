package store

import (
	"context"
	"fmt"
)

// MaxOwnedInstances bounds the answer of OwnedInstances (the JSON API lists
// a user's instances in one response).
const MaxOwnedInstances = 100000

// OwnedInstance names an instance in the JSON API's list.
type OwnedInstance struct {
	ClusterID   int64
	ClusterSlug string
	Name        string
}

// OwnedInstances returns the instances of enabled clusters that the user
// owns, by user or group tag, from the cluster cache, ordered by name and
// cluster. It never widens to every instance, even for a superuser (the
// JSON API lists what the user owns, as ganetimgr did). A non-empty tag
// keeps only instances carrying exactly that tag. An inactive user owns
// nothing.
func (s *Store) OwnedInstances(ctx context.Context, userID int64, tag string) ([]OwnedInstance, error) {
	sql := `SELECT i.cluster_id, c.slug, i.name FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id
		WHERE NOT c.disabled AND ` + visibleClause("$1") + ` AND ($2 = '' OR i.tags @> ARRAY[$2::text])
		ORDER BY i.name, c.slug LIMIT ` + fmt.Sprint(MaxOwnedInstances)
	rows, err := s.pool.Query(ctx, sql, userID, tag)
	if err != nil {
		return nil, mapErr("owned instances", err)
	}
	defer rows.Close()
	out := []OwnedInstance{}
	for rows.Next() {
		var in OwnedInstance
		if err := rows.Scan(&in.ClusterID, &in.ClusterSlug, &in.Name); err != nil {
			return nil, mapErr("owned instances", err)
		}
		out = append(out, in)
	}
	return out, mapErr("owned instances", rows.Err())
}
