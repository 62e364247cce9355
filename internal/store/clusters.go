package store

import (
	"context"
	"time"
)

// Cluster is a registered Ganeti cluster.
type Cluster struct {
	ID               int64
	Slug             string
	Hostname         string
	Port             int
	Description      string
	RAPIUsername     string
	RAPIPassword     []byte // sealed; see internal/secretbox
	TLSFingerprint   string
	TLSCAPEM         string
	FastCreate       bool
	UseGntNetwork    bool
	CreationDisabled bool
	Disabled         bool
	Demo             bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const clusterColumns = `id, slug, hostname, port, description, rapi_username, rapi_password,
	tls_fingerprint, tls_ca_pem, fast_create, use_gnt_network, creation_disabled, disabled, demo,
	created_at, updated_at`

func scanCluster(row interface{ Scan(...any) error }) (*Cluster, error) {
	c := &Cluster{}
	err := row.Scan(&c.ID, &c.Slug, &c.Hostname, &c.Port, &c.Description, &c.RAPIUsername, &c.RAPIPassword,
		&c.TLSFingerprint, &c.TLSCAPEM, &c.FastCreate, &c.UseGntNetwork, &c.CreationDisabled, &c.Disabled, &c.Demo,
		&c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// Clusters returns every registered cluster ordered by slug.
func (s *Store) Clusters(ctx context.Context) ([]*Cluster, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clusterColumns+` FROM clusters ORDER BY slug`)
	if err != nil {
		return nil, mapErr("clusters", err)
	}
	defer rows.Close()
	var out []*Cluster
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return nil, mapErr("clusters", err)
		}
		out = append(out, c)
	}
	return out, mapErr("clusters", rows.Err())
}

// ClusterBySlug returns the cluster with the given slug.
func (s *Store) ClusterBySlug(ctx context.Context, slug string) (*Cluster, error) {
	c, err := scanCluster(s.pool.QueryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE slug = $1`, slug))
	return c, mapErr("cluster by slug", err)
}

// UpsertDemoCluster records the simulated demo cluster's current address,
// pin and credentials (they change at every start), creating its row the
// first time. A real cluster already using the slug gives ErrConflict.
func (s *Store) UpsertDemoCluster(ctx context.Context, c Cluster) (*Cluster, error) {
	row := s.pool.QueryRow(ctx, `
		INSERT INTO clusters (slug, hostname, port, description, rapi_username, rapi_password,
			tls_fingerprint, fast_create, use_gnt_network, demo)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true, true, true)
		ON CONFLICT (demo) WHERE demo DO UPDATE SET slug = EXCLUDED.slug, hostname = EXCLUDED.hostname,
			port = EXCLUDED.port, description = EXCLUDED.description, rapi_username = EXCLUDED.rapi_username,
			rapi_password = EXCLUDED.rapi_password, tls_fingerprint = EXCLUDED.tls_fingerprint,
			tls_ca_pem = '', updated_at = now()
		RETURNING `+clusterColumns,
		c.Slug, c.Hostname, c.Port, c.Description, c.RAPIUsername, c.RAPIPassword, c.TLSFingerprint)
	out, err := scanCluster(row)
	return out, mapErr("upsert demo cluster", err)
}

// DeleteDemoCluster removes the demo cluster (when the demo is turned off).
func (s *Store) DeleteDemoCluster(ctx context.Context) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM clusters WHERE demo`)
	if err != nil {
		return false, mapErr("delete demo cluster", err)
	}
	return tag.RowsAffected() > 0, nil
}

// HasDemoCluster reports whether the simulated demo cluster is registered.
func (s *Store) HasDemoCluster(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clusters WHERE demo)`).Scan(&ok)
	return ok, mapErr("has demo cluster", err)
}
