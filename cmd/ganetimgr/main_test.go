package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The template stays empty: `migrate` is what is being tested.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(context.Context, string) error { return nil }))
}

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func setEnv(t *testing.T, dbURL string) {
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("GANETIMGR_SECRET_KEY", strings.Repeat("s", 40))
}

func TestMigrateThenStatusIsClean(t *testing.T) {
	setEnv(t, pgtest.NewDB(t))
	code, _, errOut := runCmd(t, "", "migrate", "status")
	if code != 1 || !strings.Contains(errOut, "pending") {
		t.Errorf("status on an empty database: code %d, %q", code, errOut)
	}
	code, out, errOut := runCmd(t, "", "migrate")
	if code != 0 || !strings.Contains(out, "applied 00001") || !strings.Contains(out, "applied river 001") {
		t.Fatalf("migrate: code %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "", "migrate", "status")
	// (A river migration is named "pending and more": match the state column.)
	pendingLine := regexp.MustCompile(`(?m)^(river )?\d+ +pending `)
	if code != 0 || pendingLine.MatchString(out) || !strings.Contains(out, "0 pending") ||
		!strings.Contains(out, "river 002  applied ") {
		t.Errorf("status after migrate: code %d\n%s\n%s", code, out, errOut)
	}
}

func TestCreateAdmin(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	setEnv(t, dbURL)
	code, out, errOut := runCmd(t, "a long enough password\n", "createadmin", "-username", "boss", "-email", "boss@example.org")
	if code != 0 || strings.Contains(out, "generated password") {
		t.Fatalf("createadmin with stdin password: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, "", "createadmin", "-username", "boss2", "-email", "boss2@example.org")
	if code != 0 || !strings.Contains(out, "generated password (shown only this once): ") {
		t.Fatalf("createadmin generating a password: %d\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "", "createadmin", "-username", "BOSS", "-email", "x@example.org"); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate admin: %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "short\n", "createadmin", "-username", "b3", "-email", "b3@example.org"); code == 0 || !strings.Contains(errOut, "at least") {
		t.Errorf("short password: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "createadmin", "-username", "b4"); code == 0 {
		t.Error("missing -email accepted")
	}
	pool, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	u, err := store.New(pool).UserByUsername(context.Background(), "boss")
	if err != nil || !u.IsSuperuser || !u.IsActive || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("stored admin: %+v %v", u, err)
	}
}

func TestInvalidConfigurationStops(t *testing.T) {
	t.Setenv("GANETIMGR_LISTEN", "nonsense")
	t.Setenv("GANETIMGR_LOG_LEVEL", "loud")
	code, _, errOut := runCmd(t, "", "serve")
	if code != 2 || !strings.Contains(errOut, "GANETIMGR_LISTEN: must be host:port") || !strings.Contains(errOut, "GANETIMGR_LOG_LEVEL") {
		t.Errorf("got code %d:\n%s", code, errOut)
	}
}

func TestUsageAndVersion(t *testing.T) {
	if code, out, _ := runCmd(t, "", "version"); code != 0 || !strings.HasPrefix(out, "ganetimgr ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errOut := runCmd(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, ""); code != 2 {
		t.Errorf("no command: %d", code)
	}
}
