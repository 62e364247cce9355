package store

import (
	"context"
)

// ClusterInput is what an administrator sets on a cluster.
type ClusterInput struct {
	Slug         string
	Hostname     string
	Port         int
	Description  string
	RAPIUsername string
	// RAPIPassword is sealed (internal/secretbox). On update, nil keeps the
	// stored password.
	RAPIPassword []byte
	// Exactly one of TLSFingerprint (a pin) and TLSCAPEM is set.
	TLSFingerprint   string
	TLSCAPEM         string
	FastCreate       bool
	UseGntNetwork    bool
	CreationDisabled bool
	Disabled         bool
}

// ClusterByID returns the cluster with the given id.
func (s *Store) ClusterByID(ctx context.Context, id int64) (*Cluster, error) {
	c, err := scanCluster(s.pool.QueryRow(ctx, `SELECT `+clusterColumns+` FROM clusters WHERE id = $1`, id))
	return c, mapErr("cluster by id", err)
}

// CreateCluster registers a cluster; a slug already taken gives ErrConflict.
func (s *Store) CreateCluster(ctx context.Context, in ClusterInput) (*Cluster, error) {
	row := s.pool.QueryRow(ctx, `
		INSERT INTO clusters (slug, hostname, port, description, rapi_username, rapi_password,
			tls_fingerprint, tls_ca_pem, fast_create, use_gnt_network, creation_disabled, disabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING `+clusterColumns,
		in.Slug, in.Hostname, in.Port, in.Description, in.RAPIUsername, in.RAPIPassword,
		in.TLSFingerprint, in.TLSCAPEM, in.FastCreate, in.UseGntNetwork, in.CreationDisabled, in.Disabled)
	c, err := scanCluster(row)
	return c, mapErr("create cluster", err)
}

// UpdateCluster changes a cluster that is not the demo cluster; a nil
// password keeps the stored one. A missing (or demo) cluster gives
// ErrNotFound, a slug already taken ErrConflict.
func (s *Store) UpdateCluster(ctx context.Context, id int64, in ClusterInput) (*Cluster, error) {
	row := s.pool.QueryRow(ctx, `
		UPDATE clusters SET slug = $2, hostname = $3, port = $4, description = $5, rapi_username = $6,
			rapi_password = coalesce($7, rapi_password), tls_fingerprint = $8, tls_ca_pem = $9,
			fast_create = $10, use_gnt_network = $11, creation_disabled = $12, disabled = $13,
			updated_at = now()
		WHERE id = $1 AND NOT demo
		RETURNING `+clusterColumns,
		id, in.Slug, in.Hostname, in.Port, in.Description, in.RAPIUsername, in.RAPIPassword,
		in.TLSFingerprint, in.TLSCAPEM, in.FastCreate, in.UseGntNetwork, in.CreationDisabled, in.Disabled)
	c, err := scanCluster(row)
	return c, mapErr("update cluster", err)
}

// DeleteCluster removes a cluster that is not the demo cluster, with its
// declared networks and cached data (ON DELETE CASCADE). A missing (or
// demo) cluster gives ErrNotFound.
func (s *Store) DeleteCluster(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM clusters WHERE id = $1 AND NOT demo`, id)
	if err != nil {
		return mapErr("delete cluster", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetClustersDisabled disables (or enables) the given clusters and returns
// how many changed state.
func (s *Store) SetClustersDisabled(ctx context.Context, ids []int64, disabled bool) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE clusters SET disabled = $2, updated_at = now()
		WHERE id = ANY($1) AND disabled <> $2`, ids, disabled)
	if err != nil {
		return 0, mapErr("set clusters disabled", err)
	}
	return tag.RowsAffected(), nil
}
