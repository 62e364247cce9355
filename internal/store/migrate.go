package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// MigrationSetRiver names river's migrations in MigrationState.Set.
const MigrationSetRiver = "river"

// migrateLockClass is the first key of the advisory lock held while
// migrating ("ganm"); the second key is 1.
const migrateLockClass = 0x67616e6d

// MigrationState is one migration's status.
type MigrationState struct {
	// Set is "" for ganetimgr's migrations (migrations/) and
	// MigrationSetRiver for the job queue's.
	Set     string
	Version int64
	Name    string
	Applied bool
}

// Migrator applies and checks the database schema, which has two parts
// that it always treats together, so `ganetimgr migrate`, `serve` (with
// GANETIMGR_AUTO_MIGRATE) and /readyz tell one story:
//
//   - ganetimgr's own tables: the goose migrations under migrations/,
//     recorded in goose_db_version;
//   - the job queue's tables (river_job, river_leader, ...): river's
//     migrations, shipped inside the river module and applied with
//     rivermigrate, recorded in river_migration.
//
// Up applies river's migrations first (so a ganetimgr migration may rely on
// the queue's tables), then ganetimgr's, under an advisory lock so replicas
// starting at the same time migrate one after the other. The schema is
// current when both parts are; it is newer than the binary when either part
// has a version the binary does not know.
type Migrator struct {
	pool     *pgxpool.Pool
	db       *sql.DB
	provider *goose.Provider
	river    *rivermigrate.Migrator[pgx.Tx]
}

// NewMigrator prepares the migrations in fsys (the root package's
// Migrations()) and river's for the database behind pool. Close it after
// use.
func NewMigrator(pool *pgxpool.Pool, fsys fs.FS) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: queue migrations: %w", err)
	}
	return &Migrator{pool: pool, db: db, provider: p, river: rm}, nil
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Versions returns the database's schema version and the newest version
// this binary knows (ganetimgr's migrations).
func (m *Migrator) Versions(ctx context.Context) (current, known int64, err error) {
	current, known, err = m.provider.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: migration versions: %w", err)
	}
	return current, known, nil
}

// QueueVersions returns the job queue's applied migration versions and the
// ones this binary knows, both ascending.
func (m *Migrator) QueueVersions(ctx context.Context) (applied, known []int, err error) {
	// Read river_migration directly: rivermigrate's ExistingVersions fails
	// on a version it does not know, which is what CheckNotNewer looks for.
	var exists bool
	if err := m.pool.QueryRow(ctx, `SELECT to_regclass('river_migration') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, nil, fmt.Errorf("store: queue migration versions: %w", err)
	}
	if exists {
		rows, err := m.pool.Query(ctx, `SELECT version FROM river_migration WHERE line = 'main'`)
		if err != nil {
			return nil, nil, fmt.Errorf("store: queue migration versions: %w", err)
		}
		if applied, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
			return nil, nil, fmt.Errorf("store: queue migration versions: %w", err)
		}
	}
	for _, v := range m.river.AllVersions() {
		known = append(known, v.Version)
	}
	slices.Sort(applied)
	slices.Sort(known)
	return applied, known, nil
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
	applied, knownQ, err := m.QueueVersions(ctx)
	if err != nil {
		return err
	}
	for _, v := range applied {
		if !slices.Contains(knownQ, v) {
			return fmt.Errorf("store: job queue schema version %d is newer than this binary knows (%d): run a newer ganetimgr", v, knownQ[len(knownQ)-1])
		}
	}
	return nil
}

// Up applies all pending migrations, the job queue's first, and returns
// the ones applied. It refuses to touch a schema newer than the binary.
func (m *Migrator) Up(ctx context.Context) ([]MigrationState, error) {
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1::int, 1)`, int32(migrateLockClass)); err != nil {
		return nil, fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer func() {
		// A failed unlock leaves the lock to the session's end: drop the
		// connection rather than return it to the pool still holding it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1::int, 1)`, int32(migrateLockClass)); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	if err := m.CheckNotNewer(ctx); err != nil {
		return nil, err
	}
	var out []MigrationState
	rres, err := m.river.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("store: migrate job queue: %w", err)
	}
	for _, v := range rres.Versions {
		out = append(out, MigrationState{Set: MigrationSetRiver, Version: int64(v.Version), Name: v.Name, Applied: true})
	}
	res, err := m.provider.Up(ctx)
	if err != nil {
		return out, fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		out = append(out, MigrationState{Version: r.Source.Version, Name: r.Source.Path, Applied: true})
	}
	return out, nil
}

// Status lists every known migration and whether it is applied:
// ganetimgr's, then the job queue's.
func (m *Migrator) Status(ctx context.Context) ([]MigrationState, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationState{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	applied, _, err := m.QueueVersions(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range m.river.AllVersions() {
		out = append(out, MigrationState{Set: MigrationSetRiver, Version: int64(v.Version), Name: v.Name,
			Applied: slices.Contains(applied, v.Version)})
	}
	return out, nil
}

// Current reports whether every known migration, ganetimgr's and the job
// queue's, is applied and the schema is not newer than the binary (used by
// /readyz).
func (m *Migrator) Current(ctx context.Context) (bool, error) {
	current, known, err := m.Versions(ctx)
	if err != nil {
		return false, err
	}
	if current != known {
		return false, nil
	}
	applied, knownQ, err := m.QueueVersions(ctx)
	if err != nil {
		return false, err
	}
	return slices.Equal(applied, knownQ), nil
}

// MigrateURL connects to url, applies the migrations in fsys and river's,
// and disconnects. Tests use it to prepare their template database.
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
