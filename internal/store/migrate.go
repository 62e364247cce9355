package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// MigrationState is one migration's status.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
}

// Migrator applies the embedded migrations to a database.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// NewMigrator prepares the migrations in fsys (the root package's
// Migrations()) for the database behind pool. Close it after use.
func NewMigrator(pool *pgxpool.Pool, fsys fs.FS) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Versions returns the database's schema version and the newest version
// this binary knows.
func (m *Migrator) Versions(ctx context.Context) (current, known int64, err error) {
	current, known, err = m.provider.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: migration versions: %w", err)
	}
	return current, known, nil
}

// CheckNotNewer fails when the database schema is newer than this binary,
// which means an older binary is being run against an upgraded database.
func (m *Migrator) CheckNotNewer(ctx context.Context) error {
	current, known, err := m.Versions(ctx)
	if err != nil {
		return err
	}
	if current > known {
		return fmt.Errorf("store: database schema version %d is newer than this binary knows (%d): run a newer ganetimgr", current, known)
	}
	return nil
}

// Up applies all pending migrations and returns the versions applied. It
// refuses to touch a schema newer than the binary.
func (m *Migrator) Up(ctx context.Context) ([]int64, error) {
	if err := m.CheckNotNewer(ctx); err != nil {
		return nil, err
	}
	res, err := m.provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	var out []int64
	for _, r := range res {
		out = append(out, r.Source.Version)
	}
	return out, nil
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationState, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// Current reports whether every known migration is applied and the schema
// is not newer than the binary (used by /readyz).
func (m *Migrator) Current(ctx context.Context) (bool, error) {
	current, known, err := m.Versions(ctx)
	if err != nil {
		return false, err
	}
	return current == known, nil
}

// MigrateURL connects to url, applies the migrations in fsys and
// disconnects. Tests use it to prepare their template database.
func MigrateURL(ctx context.Context, url string, fsys fs.FS) error {
	pool, err := Open(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := NewMigrator(pool, fsys)
	if err != nil {
		return err
	}
	defer m.Close()
	_, err = m.Up(ctx)
	return err
}
