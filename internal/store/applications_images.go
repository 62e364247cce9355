package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OSImage is an entry of the operating system catalogue.
type OSImage struct {
	// ID identifies the image (e.g. "debian-12"), as ganetimgr's img_id.
	ID          string
	Description string
	// Provider is the Ganeti OS installing it ("snf-image+default").
	Provider string
	// OSParams are sent with every creation.
	OSParams map[string]string
	// SecretParams are the secret OS parameters, sealed (see
	// internal/secretbox); nil when there are none.
	SecretParams []byte
	// SSHKeyParam is the OS parameter receiving the URL of the applicant's
	// SSH keys ("" for none).
	SSHKeyParam string
	// SSHKeyUsers are img_personality targets, user[:group[:path]].
	SSHKeyUsers []string
	Enabled     bool
	Position    int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// OSImageInput is what an administrator sets on an image (all fields of
// OSImage but the times; the ID only when creating).
type OSImageInput struct {
	ID           string
	Description  string
	Provider     string
	OSParams     map[string]string
	SecretParams []byte
	SSHKeyParam  string
	SSHKeyUsers  []string
	Enabled      bool
	Position     int
}

const osImageColumns = `id, description, provider, osparams::text, osparams_secret, ssh_key_param, ssh_key_users,
	enabled, position, created_at, updated_at`

func scanOSImage(row pgx.Row) (*OSImage, error) {
	im := &OSImage{}
	var params string
	if err := row.Scan(&im.ID, &im.Description, &im.Provider, &params, &im.SecretParams, &im.SSHKeyParam,
		&im.SSHKeyUsers, &im.Enabled, &im.Position, &im.CreatedAt, &im.UpdatedAt); err != nil {
		return nil, err
	}
	im.OSParams = map[string]string{}
	if err := json.Unmarshal([]byte(params), &im.OSParams); err != nil {
		// Written by this package as an object of strings; anything else
		// was put there by hand.
		return nil, errors.New("os_images.osparams is not an object of strings")
	}
	return im, nil
}

func osParamsJSON(m map[string]string) string {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m) // strings always marshal
	return string(b)
}

// OSImages returns the catalogue in form order (position, description);
// enabledOnly leaves out disabled images.
func (s *Store) OSImages(ctx context.Context, enabledOnly bool) ([]*OSImage, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+osImageColumns+` FROM os_images WHERE enabled OR NOT $1
		ORDER BY position, lower(description), id`, enabledOnly)
	if err != nil {
		return nil, mapErr("os images", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*OSImage, error) { return scanOSImage(r) })
	return out, mapErr("os images", err)
}

// OSImage returns one image of the catalogue.
func (s *Store) OSImage(ctx context.Context, id string) (*OSImage, error) {
	im, err := scanOSImage(s.pool.QueryRow(ctx, `SELECT `+osImageColumns+` FROM os_images WHERE id = $1`, id))
	return im, mapErr("os image", err)
}

// CreateOSImage adds an image; an existing id gives ErrConflict.
func (s *Store) CreateOSImage(ctx context.Context, in OSImageInput) (*OSImage, error) {
	im, err := scanOSImage(s.pool.QueryRow(ctx, `INSERT INTO os_images (id, description, provider, osparams,
		osparams_secret, ssh_key_param, ssh_key_users, enabled, position)
		VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9) RETURNING `+osImageColumns,
		in.ID, in.Description, in.Provider, osParamsJSON(in.OSParams), in.SecretParams, in.SSHKeyParam,
		nonNil(in.SSHKeyUsers), in.Enabled, in.Position))
	return im, mapErr("create os image", err)
}

// UpdateOSImage changes an image (not its id; in.ID is ignored). A nil
// in.SecretParams keeps the stored secret parameters; an empty non-nil one
// removes them.
func (s *Store) UpdateOSImage(ctx context.Context, id string, in OSImageInput) (*OSImage, error) {
	im, err := scanOSImage(s.pool.QueryRow(ctx, `UPDATE os_images SET description = $2, provider = $3,
		osparams = $4::jsonb, osparams_secret = CASE WHEN $5::bytea IS NULL THEN osparams_secret
			WHEN length($5::bytea) = 0 THEN NULL ELSE $5::bytea END,
		ssh_key_param = $6, ssh_key_users = $7, enabled = $8, position = $9, updated_at = now()
		WHERE id = $1 RETURNING `+osImageColumns,
		id, in.Description, in.Provider, osParamsJSON(in.OSParams), in.SecretParams, in.SSHKeyParam,
		nonNil(in.SSHKeyUsers), in.Enabled, in.Position))
	return im, mapErr("update os image", err)
}

// DeleteOSImage removes an image no application uses (ErrImageInUse
// otherwise: disable it instead).
func (s *Store) DeleteOSImage(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM os_images WHERE id = $1`, id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return ErrImageInUse
	}
	if err != nil {
		return mapErr("delete os image", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
