package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Network is a network an administrator declared for a cluster.
type Network struct {
	ID             int64
	ClusterID      int64
	ClusterSlug    string
	Description    string
	Link           string
	Mode           string // "bridged" or "routed"
	ClusterDefault bool
	IPv6Prefix     string // canonical, e.g. "2001:db8:1::/64"; "" when none
	Groups         []Group
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// NetworkInput is what an administrator sets on a network.
type NetworkInput struct {
	ClusterID      int64
	Description    string
	Link           string
	Mode           string
	ClusterDefault bool
	IPv6Prefix     string // canonical; "" for none
	GroupIDs       []int64
}

// Constraint names a conflict error carries (see ErrConflict).
const (
	NetworkDefaultConstraint = "networks_cluster_default_key"
	NetworkLinkConstraint    = "networks_cluster_link_key"
)

const networkSelect = `SELECT n.id, n.cluster_id, c.slug, n.description, n.link, n.mode, n.cluster_default,
	coalesce(n.ipv6_prefix::text, ''), n.created_at, n.updated_at,
	coalesce((SELECT array_agg(g.id ORDER BY lower(g.name)) FROM network_groups ng JOIN groups g ON g.id = ng.group_id
		WHERE ng.network_id = n.id), '{}'),
	coalesce((SELECT array_agg(g.name ORDER BY lower(g.name)) FROM network_groups ng JOIN groups g ON g.id = ng.group_id
		WHERE ng.network_id = n.id), '{}')
	FROM networks n JOIN clusters c ON c.id = n.cluster_id`

func scanNetwork(row pgx.Row) (*Network, error) {
	n := &Network{}
	var ids []int64
	var names []string
	if err := row.Scan(&n.ID, &n.ClusterID, &n.ClusterSlug, &n.Description, &n.Link, &n.Mode, &n.ClusterDefault,
		&n.IPv6Prefix, &n.CreatedAt, &n.UpdatedAt, &ids, &names); err != nil {
		return nil, err
	}
	for i := range ids {
		n.Groups = append(n.Groups, Group{ID: ids[i], Name: names[i]})
	}
	return n, nil
}

// Networks returns the declared networks ordered by cluster and
// description; clusterID > 0 limits them to one cluster.
func (s *Store) Networks(ctx context.Context, clusterID int64) ([]*Network, error) {
	rows, err := s.pool.Query(ctx, networkSelect+`
		WHERE $1::bigint = 0 OR n.cluster_id = $1 ORDER BY c.slug, lower(n.description), n.id`, clusterID)
	if err != nil {
		return nil, mapErr("networks", err)
	}
	defer rows.Close()
	var out []*Network
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			return nil, mapErr("networks", err)
		}
		out = append(out, n)
	}
	return out, mapErr("networks", rows.Err())
}

// NetworkByID returns one declared network.
func (s *Store) NetworkByID(ctx context.Context, id int64) (*Network, error) {
	n, err := scanNetwork(s.pool.QueryRow(ctx, networkSelect+` WHERE n.id = $1`, id))
	return n, mapErr("network by id", err)
}

// DefaultNetwork returns the cluster's default network, or ErrNotFound.
func (s *Store) DefaultNetwork(ctx context.Context, clusterID int64) (*Network, error) {
	n, err := scanNetwork(s.pool.QueryRow(ctx, networkSelect+` WHERE n.cluster_id = $1 AND n.cluster_default`, clusterID))
	return n, mapErr("default network", err)
}

// CreateNetwork declares a network with its groups. A second default for
// the cluster or a link already declared there gives ErrConflict (naming
// NetworkDefaultConstraint or NetworkLinkConstraint); an unknown cluster or
// group ErrNotFound.
func (s *Store) CreateNetwork(ctx context.Context, in NetworkInput) (*Network, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO networks (cluster_id, description, link, mode, cluster_default, ipv6_prefix)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::cidr) RETURNING id`,
			in.ClusterID, in.Description, in.Link, in.Mode, in.ClusterDefault, in.IPv6Prefix).Scan(&id); err != nil {
			return err
		}
		return setNetworkGroups(ctx, tx, id, in.GroupIDs)
	})
	if err != nil {
		return nil, mapErr("create network", err)
	}
	return s.NetworkByID(ctx, id)
}

// UpdateNetwork changes a network and replaces its groups (errors as
// CreateNetwork; a missing network gives ErrNotFound).
func (s *Store) UpdateNetwork(ctx context.Context, id int64, in NetworkInput) (*Network, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE networks SET cluster_id = $2, description = $3, link = $4, mode = $5,
			cluster_default = $6, ipv6_prefix = NULLIF($7, '')::cidr, updated_at = now() WHERE id = $1`,
			id, in.ClusterID, in.Description, in.Link, in.Mode, in.ClusterDefault, in.IPv6Prefix)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		if _, err := tx.Exec(ctx, `DELETE FROM network_groups WHERE network_id = $1`, id); err != nil {
			return err
		}
		return setNetworkGroups(ctx, tx, id, in.GroupIDs)
	})
	if err != nil {
		return nil, mapErr("update network", err)
	}
	return s.NetworkByID(ctx, id)
}

func setNetworkGroups(ctx context.Context, tx pgx.Tx, id int64, groups []int64) error {
	if len(groups) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO network_groups (network_id, group_id)
		SELECT $1, g FROM unnest($2::bigint[]) AS g ON CONFLICT DO NOTHING`, id, groups)
	return err
}

// DeleteNetwork removes a declared network.
func (s *Store) DeleteNetwork(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM networks WHERE id = $1`, id)
	if err != nil {
		return mapErr("delete network", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// CountNetworks returns how many networks are declared for a cluster.
func (s *Store) CountNetworks(ctx context.Context, clusterID int64) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM networks WHERE cluster_id = $1`, clusterID).Scan(&n)
	return n, mapErr("count networks", err)
}

// GroupChoices returns every user group ordered by name, for forms that
// assign groups.
func (s *Store) GroupChoices(ctx context.Context) ([]Group, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name FROM groups ORDER BY lower(name)`)
	if err != nil {
		return nil, mapErr("group choices", err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, mapErr("group choices", err)
		}
		out = append(out, g)
	}
	return out, mapErr("group choices", rows.Err())
}
