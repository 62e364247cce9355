package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Organization is an organization users belong to and instances are tagged
// with (<prefix>:org:<tag>).
type Organization struct {
	ID      int64
	Title   string
	Website string
	Email   string
	Phone   string
	// Tag is the value of the organization's Ganeti tag; empty for none.
	Tag       string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Members is the number of users in the organization (filled by
	// ListOrganizations and OrganizationByID).
	Members int
}

// OrganizationInput holds the administrator-edited fields of an
// organization. An empty Tag means none.
type OrganizationInput struct {
	Title   string
	Website string
	Email   string
	Phone   string
	Tag     string
}

const organizationSelect = `SELECT o.id, o.title, o.website, o.email, o.phone, COALESCE(o.tag, ''),
	o.created_at, o.updated_at, (SELECT count(*) FROM users u WHERE u.organization_id = o.id)
	FROM organizations o`

func scanOrganization(row pgx.Row) (*Organization, error) {
	o := &Organization{}
	err := row.Scan(&o.ID, &o.Title, &o.Website, &o.Email, &o.Phone, &o.Tag, &o.CreatedAt, &o.UpdatedAt, &o.Members)
	return o, err
}

// ListOrganizations returns every organization, by title.
func (s *Store) ListOrganizations(ctx context.Context) ([]Organization, error) {
	rows, err := s.pool.Query(ctx, organizationSelect+` ORDER BY lower(o.title), o.id`)
	if err != nil {
		return nil, mapErr("list organizations", err)
	}
	defer rows.Close()
	var out []Organization
	for rows.Next() {
		o, err := scanOrganization(rows)
		if err != nil {
			return nil, mapErr("list organizations", err)
		}
		out = append(out, *o)
	}
	return out, mapErr("list organizations", rows.Err())
}

// OrganizationByID returns the organization with the given id.
func (s *Store) OrganizationByID(ctx context.Context, id int64) (*Organization, error) {
	o, err := scanOrganization(s.pool.QueryRow(ctx, organizationSelect+` WHERE o.id = $1`, id))
	return o, mapErr("organization by id", err)
}

// OrganizationByTag returns the organization with the given tag, compared
// case-insensitively.
func (s *Store) OrganizationByTag(ctx context.Context, tag string) (*Organization, error) {
	o, err := scanOrganization(s.pool.QueryRow(ctx, organizationSelect+` WHERE lower(o.tag) = lower($1)`, tag))
	return o, mapErr("organization by tag", err)
}

// CreateOrganization adds an organization; a tag another organization has
// (case-insensitively) gives ErrConflict.
func (s *Store) CreateOrganization(ctx context.Context, in OrganizationInput) (*Organization, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO organizations (title, website, email, phone, tag)
		VALUES ($1, $2, $3, $4, NULLIF($5, '')) RETURNING id`,
		in.Title, in.Website, in.Email, in.Phone, in.Tag).Scan(&id)
	if err != nil {
		return nil, mapErr("create organization", err)
	}
	return s.OrganizationByID(ctx, id)
}

// UpdateOrganization changes an organization (errors as
// CreateOrganization; a missing one gives ErrNotFound). Instances tagged
// with an old tag are not retagged.
func (s *Store) UpdateOrganization(ctx context.Context, id int64, in OrganizationInput) (*Organization, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE organizations SET title = $2, website = $3, email = $4, phone = $5,
		tag = NULLIF($6, ''), updated_at = now() WHERE id = $1`,
		id, in.Title, in.Website, in.Email, in.Phone, in.Tag)
	if err == nil && tag.RowsAffected() == 0 {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, mapErr("update organization", err)
	}
	return s.OrganizationByID(ctx, id)
}

// DeleteOrganization deletes an organization; its users are left without
// one. A missing organization gives ErrNotFound.
func (s *Store) DeleteOrganization(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM organizations WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return mapErr("delete organization", err)
}
