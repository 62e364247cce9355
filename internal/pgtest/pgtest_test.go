package pgtest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	os.Exit(Main(m, func(ctx context.Context, connString string) error {
		conn, err := pgx.Connect(ctx, connString)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE widgets (name text PRIMARY KEY); INSERT INTO widgets VALUES ('from template')`)
		return err
	}))
}

func TestParallelDatabasesAreIsolated(t *testing.T) {
	var mu sync.Mutex
	var names []string
	t.Run("group", func(t *testing.T) {
		for _, who := range []string{"a", "b", "c", "d"} {
			t.Run(who, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				pool := NewPool(t)
				var db string
				if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				names = append(names, db)
				mu.Unlock()
				var n int
				if err := pool.QueryRow(ctx, "SELECT count(*) FROM widgets WHERE name = 'from template'").Scan(&n); err != nil || n != 1 {
					t.Fatalf("template row: n=%d err=%v", n, err)
				}
				if _, err := pool.Exec(ctx, "INSERT INTO widgets VALUES ($1)", who); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // overlap with the other tests
				rows, err := pool.Query(ctx, "SELECT name FROM widgets ORDER BY name")
				if err != nil {
					t.Fatal(err)
				}
				got, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, ",") != "from template,"+who && strings.Join(got, ",") != who+",from template" {
					t.Errorf("rows in %s: %v", db, got)
				}
			})
		}
	})
	if len(names) != 4 {
		t.Fatalf("databases: %v", names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("database %s used twice", n)
		}
		seen[n] = true
	}
	// The databases are dropped when their tests end.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv(envAdminURL))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d test databases not dropped", left)
	}
}

func TestNewDBWorksWithPgx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	// Left open on purpose: the drop must still succeed.
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM widgets").Scan(&n); err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

func TestTemplateRefusesConnections(t *testing.T) {
	t.Parallel()
	url, err := withDatabase(os.Getenv(envAdminURL), os.Getenv(envTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.Connect(context.Background(), url); err == nil {
		conn.Close(context.Background())
		t.Fatal("connected to the template")
	}
}

func TestNewDBCost(t *testing.T) {
	const n = 10
	begin := time.Now()
	for range n {
		t.Run("db", func(t *testing.T) { NewDB(t) })
	}
	t.Logf("NewDB + drop, sequential: %v per database", (time.Since(begin) / n).Round(time.Millisecond))

	begin = time.Now()
	t.Run("parallel", func(t *testing.T) {
		for range n {
			t.Run("db", func(t *testing.T) {
				t.Parallel()
				NewDB(t)
			})
		}
	})
	t.Logf("NewDB + drop, %d in parallel: %v in total", n, time.Since(begin).Round(time.Millisecond))

	begin = time.Now()
	t.Run("pool", func(t *testing.T) {
		pool := NewPool(t)
		if err := pool.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("NewPool + ping + close + drop: %v", time.Since(begin).Round(time.Millisecond))
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u:p@127.0.0.1:5432/old?sslmode=disable", "postgres://u:p@127.0.0.1:5432/new_db?sslmode=disable"},
		{"postgresql://u@h/", "postgresql://u@h/new_db"},
		{"host=h dbname=old", "host=h dbname=old dbname='new_db'"},
	} {
		got, err := withDatabase(c.in, "new_db")
		if err != nil || got != c.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if _, err := pgx.ParseConfig(got); err != nil {
			t.Errorf("pgx rejects %q: %v", got, err)
		}
	}
	cfg, err := pgx.ParseConfig("host=h dbname=old dbname='new_db'")
	if err != nil || cfg.Database != "new_db" {
		t.Errorf("later dbname does not win: %v %v", cfg, err)
	}
}

func TestUniqueName(t *testing.T) {
	a, err := uniqueName("TestSomething/With Sub-test " + strings.Repeat("x", 100))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := uniqueName("TestSomething/With Sub-test " + strings.Repeat("x", 100))
	if a == b || len(a) > maxNameLen || !strings.HasPrefix(a, namePrefix+"testsomething_with_sub_test_") {
		t.Errorf("names %q %q", a, b)
	}
}
