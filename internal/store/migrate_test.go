package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The template stays empty: these tests migrate for themselves.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(context.Context, string) error { return nil }))
}

func TestMigrationsApplyOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	m, err := store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if ok, _ := m.Current(ctx); ok {
		t.Fatal("an empty database reported current")
	}
	applied, err := m.Up(ctx)
	if err != nil || len(applied) == 0 {
		t.Fatalf("Up: %v %v", applied, err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("migration %d still pending", s.Version)
		}
	}
	if ok, err := m.Current(ctx); !ok || err != nil {
		t.Errorf("Current after Up: %v %v", ok, err)
	}
	// A second Up is a no-op.
	if again, err := m.Up(ctx); err != nil || len(again) != 0 {
		t.Errorf("second Up: %v %v", again, err)
	}
	// The job queue's migrations were applied with ganetimgr's and are
	// listed with them.
	river := 0
	for _, a := range applied {
		if a.Set == store.MigrationSetRiver {
			river++
		}
	}
	queueApplied, queueKnown, err := m.QueueVersions(ctx)
	if err != nil || river == 0 || river != len(queueKnown) || len(queueApplied) != len(queueKnown) {
		t.Errorf("queue migrations: %d applied by Up, versions %v of %v, %v", river, queueApplied, queueKnown, err)
	}
	riverListed := 0
	for _, s := range st {
		if s.Set == store.MigrationSetRiver {
			riverListed++
		}
	}
	if riverListed != len(queueKnown) {
		t.Errorf("Status lists %d queue migrations, want %d", riverListed, len(queueKnown))
	}
	for _, table := range []string{"river_job", "mail_outbox"} {
		var ok bool
		if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing: %v", table, err)
		}
	}
	// The schema works: a user round-trips, and uniqueness is case-insensitive.
	s := store.New(pool)
	u, err := s.CreateUser(ctx, store.NewUser{Username: "Ann", Email: "Ann@Example.org", IsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserByUsername(ctx, "ann"); err != nil || got.ID != u.ID {
		t.Errorf("lookup by lower-case name: %v %v", got, err)
	}
	if _, err := s.CreateUser(ctx, store.NewUser{Username: "ANN", Email: "other@example.org"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate username: got %v, want ErrConflict", err)
	}
	if _, err := s.CreateUser(ctx, store.NewUser{Username: "bob", Email: "ann@example.org"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate email: got %v, want ErrConflict", err)
	}
	if _, err := s.CreateUser(ctx, store.NewUser{Username: "has space", Email: "x@example.org"}); err == nil {
		t.Error("a username with a space was stored")
	}
	if _, err := s.UserByID(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing user: got %v, want ErrNotFound", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	m, err := store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// A newer binary applied a migration this one does not know.
	if _, err := pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
		t.Fatal(err)
	}
	err = m.CheckNotNewer(ctx)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("CheckNotNewer: got %v", err)
	}
	if _, err := m.Up(ctx); err == nil {
		t.Error("Up ran against a newer schema")
	}
}

func TestRefusesNewerQueueSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	m, err := store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// A newer binary applied a river migration this one does not know.
	if _, err := pool.Exec(ctx, `INSERT INTO river_migration (line, version) VALUES ('main', 9999)`); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckNotNewer(ctx); err == nil || !strings.Contains(err.Error(), "job queue schema version 9999 is newer") {
		t.Errorf("CheckNotNewer: got %v", err)
	}
	if ok, err := m.Current(ctx); ok || err != nil {
		t.Errorf("Current with an unknown queue migration: %v %v", ok, err)
	}
	if _, err := m.Up(ctx); err == nil {
		t.Error("Up ran against a newer queue schema")
	}
}

func TestSessionEpochAndCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	if err := store.MigrateURL(ctx, pool.Config().ConnString(), ganetimgr.Migrations()); err != nil {
		t.Fatal(err)
	}
	s := store.New(pool)
	u, err := s.CreateUser(ctx, store.NewUser{Username: "epoch", Email: "e@example.org", IsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	e1, err := s.BumpSessionEpoch(ctx, u.ID)
	if err != nil || e1 != u.SessionEpoch+1 {
		t.Errorf("bump: %d %v", e1, err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO sessions VALUES ('old', 'x', now() - interval '1 hour'), ('new', 'x', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteExpiredSessions(ctx); n != 1 || err != nil {
		t.Errorf("expired sessions deleted: %d %v", n, err)
	}
}
