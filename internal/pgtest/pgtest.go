// Package pgtest gives every test its own PostgreSQL database.
//
// A test package calls Main from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, migrate)) }
//
// Main uses the server named by TEST_DATABASE_URL, or else starts a
// throwaway server with pglocal for the test binary (in /dev/shm when
// available, else in the temporary directory). It creates a template
// database, runs the setup function (typically the schema migrations)
// against it once, and marks it as a template. NewDB and NewPool then clone
// the template into a fresh database per call, so tests can run in
// parallel without seeing each other's data.
//
// Main hands the server and template to NewDB through the PGTEST_ADMIN_URL
// and PGTEST_TEMPLATE environment variables of the test process.
//
// Several test binaries (go test runs packages in parallel) may share one
// TEST_DATABASE_URL server: template and database names are unique per
// run. The role of TEST_DATABASE_URL needs the CREATEDB privilege, and
// databases left by a crashed run carry the "pgtest_" prefix.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/pglocal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// EnvDatabaseURL names the variable holding the connection string of an
	// existing server to use instead of starting one. Its role must be able
	// to create databases.
	EnvDatabaseURL = "TEST_DATABASE_URL"

	// envAdminURL and envTemplate carry Main's server and template to NewDB.
	envAdminURL = "PGTEST_ADMIN_URL"
	envTemplate = "PGTEST_TEMPLATE"

	// namePrefix starts the name of every database pgtest creates.
	namePrefix = "pgtest_"
	// maxNameLen is PostgreSQL's identifier length limit.
	maxNameLen = 63
	// PoolMaxConns is the connection limit of pools from NewPool, keeping
	// many parallel tests within the server's max_connections.
	PoolMaxConns = 4
	// localMaxConnections is max_connections of the throwaway server.
	localMaxConnections = "300"

	// shmDir is a memory file system preferred for the throwaway server:
	// on slow disks it makes initdb and cloning databases many times faster.
	shmDir = "/dev/shm"
	// dirPrefix starts the names of throwaway server directories.
	dirPrefix = "pgtest-"
	// staleAge is the age after which an unlocked throwaway server
	// directory is considered left behind by a killed test binary.
	staleAge = time.Minute
	// minShmFree is the free space shmDir needs to be used.
	minShmFree = 1 << 30

	setupTimeout   = 5 * time.Minute
	createTimeout  = time.Minute
	cleanupTimeout = time.Minute
)

// Main prepares the database server and template for a test binary, runs
// the tests and cleans up. setup receives a connection string for the
// template database and must close its connections before returning. Main
// returns the exit code for os.Exit; a setup failure is printed to stderr
// and makes it non-zero.
func Main(m *testing.M, setup func(ctx context.Context, connString string) error) int {
	if !flag.Parsed() {
		flag.Parse() // for testing.Verbose
	}
	code, err := run(m, setup)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// run is Main returning its error.
func run(m *testing.M, setup func(ctx context.Context, connString string) error) (code int, err error) {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	adminURL := os.Getenv(EnvDatabaseURL)
	local := adminURL == ""
	if local {
		base := tempBase()
		removeStaleDirs(base)
		dir, err := os.MkdirTemp(base, dirPrefix)
		if err != nil {
			return 1, fmt.Errorf("pgtest: %w", err)
		}
		defer os.RemoveAll(dir) // in case Start fails; Stop removes it otherwise
		srv, err := pglocal.Start(ctx, pglocal.Options{
			DataDir:  dir,
			Settings: map[string]string{"max_connections": localMaxConnections},
		})
		if err != nil {
			return 1, fmt.Errorf("pgtest: starting PostgreSQL (or set %s): %w", EnvDatabaseURL, err)
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			defer cancel()
			if stopErr := srv.Stop(stopCtx); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("pgtest: %w", stopErr))
			}
		}()
		adminURL = srv.URL("postgres")
	}

	tmpl, err := uniqueName("tmpl")
	if err != nil {
		return 1, err
	}
	if err := createTemplate(ctx, adminURL, tmpl, setup); err != nil {
		// A template left half-made on a shared server is dropped too.
		if !local {
			err = errors.Join(err, dropDatabase(adminURL, tmpl, true))
		}
		return 1, err
	}
	if !local { // a local server is removed as a whole
		defer func() {
			if dropErr := dropDatabase(adminURL, tmpl, true); dropErr != nil {
				err = errors.Join(err, dropErr)
			}
		}()
	}
	if err := os.Setenv(envAdminURL, adminURL); err != nil {
		return 1, fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Setenv(envTemplate, tmpl); err != nil {
		return 1, fmt.Errorf("pgtest: %w", err)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: template %s ready in %v (local server: %v)\n",
			tmpl, time.Since(begin).Round(time.Millisecond), local)
	}
	return m.Run(), nil
}

// tempBase returns the directory for the throwaway server: shmDir when it
// exists with enough free space, else the default temporary directory.
func tempBase() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(shmDir, &st); err == nil && uint64(st.Bavail)*uint64(st.Bsize) >= minShmFree {
		if fi, err := os.Stat(shmDir); err == nil && fi.IsDir() && fi.Mode().Perm()&0o002 != 0 {
			return shmDir
		}
	}
	return os.TempDir()
}

// removeStaleDirs removes throwaway server directories in base left by
// killed test binaries (their server stopped on its parent-death signal,
// but the files remain, which matters in a memory file system). A
// directory is stale when old enough and its pglocal lock is free.
func removeStaleDirs(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < staleAge {
			continue
		}
		f, err := os.Open(filepath.Join(dir, "pglocal.lock"))
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(dir)
		}
		f.Close()
	}
}

// createTemplate creates database tmpl, runs setup on it and turns it into
// a template that accepts no connections.
func createTemplate(ctx context.Context, adminURL, tmpl string, setup func(context.Context, string) error) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("pgtest: connecting to the test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ident := pgx.Identifier{tmpl}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("pgtest: creating template database: %w", err)
	}
	if setup != nil {
		tmplURL, err := withDatabase(adminURL, tmpl)
		if err != nil {
			return err
		}
		if err := setup(ctx, tmplURL); err != nil {
			return fmt.Errorf("pgtest: setup of the template database: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS false IS_TEMPLATE true"); err != nil {
		return fmt.Errorf("pgtest: marking template: %w", err)
	}
	// Sessions that setup left open would make every clone wait for them.
	_, _ = conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", tmpl)
	return nil
}

// NewDB creates a database cloned from the template prepared by Main and
// returns its connection string. The database is dropped when the test
// ends, after cleanups registered later (such as closing pools) have run.
// It is safe for parallel tests.
func NewDB(t testing.TB) string {
	t.Helper()
	adminURL, tmpl := os.Getenv(envAdminURL), os.Getenv(envTemplate)
	if adminURL == "" || tmpl == "" {
		t.Fatal("pgtest: NewDB needs pgtest.Main to run in TestMain")
	}
	name, err := uniqueName(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: connecting to the test server: %v", err)
	}
	defer conn.Close(ctx)
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{tmpl}.Sanitize()
	if serverMajor(conn) >= 15 {
		// Copying the files of a small template is faster than WAL-logging
		// every block (the default since PostgreSQL 15).
		sql += " STRATEGY FILE_COPY"
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: creating test database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(adminURL, name, false); err != nil {
			t.Error(err)
		}
	})
	dbURL, err := withDatabase(adminURL, name)
	if err != nil {
		t.Fatal(err)
	}
	return dbURL
}

// NewPool returns a pool, of at most PoolMaxConns connections, on a fresh
// database made by NewDB. The pool is closed before the database is
// dropped.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(NewDB(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cfg.MaxConns = PoolMaxConns
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: creating pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// dropDatabase drops database name, disconnecting remaining sessions where
// the server supports it (PostgreSQL 13 and later).
func dropDatabase(adminURL, name string, template bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("pgtest: dropping database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if template {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH IS_TEMPLATE false"); err != nil {
			return fmt.Errorf("pgtest: dropping template %s: %w", name, err)
		}
	}
	sql := "DROP DATABASE IF EXISTS " + ident
	if serverMajor(conn) >= 13 {
		sql += " WITH (FORCE)"
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: dropping database %s: %w", name, err)
	}
	return nil
}

// serverMajor returns the server's major version, 0 if unknown.
func serverMajor(conn *pgx.Conn) int {
	v := conn.PgConn().ParameterStatus("server_version")
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		v = v[:end]
	}
	n, _ := strconv.Atoi(v)
	return n
}

// uniqueName returns a database name made of namePrefix, a sanitized hint
// (such as the test name) and random hex digits.
func uniqueName(hint string) (string, error) {
	buf := make([]byte, 6)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("pgtest: generating database name: %w", err)
	}
	suffix := "_" + hex.EncodeToString(buf)
	var b strings.Builder
	for _, r := range strings.ToLower(hint) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	base := namePrefix + b.String()
	if room := maxNameLen - len(suffix); len(base) > room {
		base = base[:room]
	}
	return base + suffix, nil
}

// withDatabase returns connString with its database replaced by name. It
// accepts URLs and keyword/value strings.
func withDatabase(connString, name string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("pgtest: parsing connection string: %w", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// In keyword/value form a later keyword overrides an earlier one.
	quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name)
	return connString + " dbname='" + quoted + "'", nil
}
