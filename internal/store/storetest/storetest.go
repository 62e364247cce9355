// Package storetest prepares databases for tests of packages that use the
// store: every test database is a clone of a template with all of
// ganetimgr's migrations applied.
package storetest

import (
	"context"
	"testing"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Main runs a package's tests against a migrated template database. Call it
// from TestMain: os.Exit(storetest.Main(m)). Tests then get their own
// database with pgtest.NewPool or NewStore.
func Main(m *testing.M) int {
	return pgtest.Main(m, func(ctx context.Context, url string) error {
		return store.MigrateURL(ctx, url, ganetimgr.Migrations())
	})
}

// NewStore returns a Store on a fresh migrated database of its own.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	return store.New(pgtest.NewPool(t))
}
