package pglocal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// helperEnv names the data dir for the helper process of TestParentDeath.
const helperEnv = "PGLOCAL_TEST_HELPER_DIR"

// tempDir returns a fresh directory that the server account can traverse
// (t.TempDir is mode 0700, which the postgres account cannot enter when the
// tests run as root).
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v (port %d)", time.Since(begin).Round(time.Millisecond), s.Port())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func stop(t *testing.T, s *Server) {
	t.Helper()
	begin := time.Now()
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(begin).Round(time.Millisecond))
}

func queryString(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	if !hasServerBinaries(dir) {
		t.Fatalf("%s lacks initdb/postgres", dir)
	}
	t.Logf("binaries in %s", dir)
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"9.6", "15", true}, {"15", "9.6", false}, {"15", "16", true}, {"16", "16", false}} {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestStartStopNonPersistent(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(tempDir(t), "pg")
	s := start(t, Options{DataDir: dir, Database: "app"})
	url := s.URL("app")
	if !strings.HasPrefix(url, "postgres://") {
		t.Fatalf("URL %q", url)
	}
	if got := queryString(t, url, "SELECT current_database()"); got != "app" {
		t.Errorf("current_database = %q", got)
	}
	if got := queryString(t, url, "SHOW fsync"); got != "off" {
		t.Errorf("fsync = %q, want off", got)
	}
	if got := queryString(t, url, "SHOW listen_addresses"); got != "127.0.0.1" {
		t.Errorf("listen_addresses = %q", got)
	}
	if got := queryString(t, url, "SHOW server_encoding"); got != "UTF8" {
		t.Errorf("server_encoding = %q", got)
	}
	wrong := strings.Replace(url, s.password, "wrong", 1)
	if conn, err := pgx.Connect(context.Background(), wrong); err == nil {
		conn.Close(context.Background())
		t.Error("connected with a wrong password")
	}
	pid := s.proc.cmd.Process.Pid
	stop(t, s)
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if processExists(pid) {
		t.Errorf("postgres pid %d still exists", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("data dir not removed: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestNonPersistentRefusesNonEmptyDir(t *testing.T) {
	dir := tempDir(t)
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "must be empty") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("existing file touched: %v", err)
	}
}

func TestPersistenceAndAlreadyRunning(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(tempDir(t), "data", "pg")
	opts := Options{DataDir: dir, Persistent: true, Database: "app"}
	s := start(t, opts)
	if got := queryString(t, s.URL("app"), "SHOW fsync"); got != "on" {
		t.Errorf("fsync = %q, want on", got)
	}
	exec1(t, s.URL("app"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')")

	_, err := Start(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "in use by another running process") {
		t.Fatalf("second Start while running: err = %v", err)
	}
	t.Logf("second Start: %v", err)
	if got := queryString(t, s.URL("app"), "SELECT 'still up'"); got != "still up" {
		t.Fatal(got)
	}
	fi, err := os.Stat(filepath.Join(dir, passwordName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v %v", fi, err)
	}
	stop(t, s)

	s2 := start(t, opts)
	if got := queryString(t, s2.URL("app"), "SELECT v FROM kept"); got != "hello" {
		t.Errorf("after restart: %q", got)
	}
	stop(t, s2)
	if _, err := os.Stat(filepath.Join(dir, pgdataName, "PG_VERSION")); err != nil {
		t.Errorf("persistent data removed: %v", err)
	}
}

func TestStalePID(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(tempDir(t), "pg")
	opts := Options{DataDir: dir, Persistent: true}
	s := start(t, opts)
	exec1(t, s.URL("postgres"), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")

	// A killed server leaves its postmaster.pid behind.
	pid := s.proc.cmd.Process.Pid
	if err := s.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	if err := s.Stop(context.Background()); err == nil {
		t.Error("Stop after the server died: want an error")
	}
	pidFile := filepath.Join(dir, pgdataName, "postmaster.pid")
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("expected a leftover postmaster.pid: %v", err)
	}
	s2 := start(t, opts)
	if got := queryString(t, s2.URL("postgres"), "SELECT v::text FROM kept"); got != "42" {
		t.Errorf("after stale pid (killed %d): %q", pid, got)
	}
	stop(t, s2)

	// A postmaster.pid naming a live process that is not postgres (pid reuse).
	content := fmt.Sprintf("%d\n%s\n", os.Getpid(), filepath.Join(dir, pgdataName))
	if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := start(t, opts)
	stop(t, s3)
}

func TestLongDataDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(tempDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	s := start(t, Options{DataDir: dir})
	if strings.HasPrefix(s.SocketDir(), dir) {
		t.Fatalf("socket dir %s inside long data dir", s.SocketDir())
	}
	if got := queryString(t, s.URL("postgres"), "SELECT 'ok'"); got != "ok" {
		t.Fatal(got)
	}
	sock := s.SocketDir()
	stop(t, s)
	if _, err := os.Stat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket dir not removed: %v", err)
	}
}

func TestRootUnreachableDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only meaningful as root")
	}
	private := t.TempDir() // mode 0700, owned by root
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{DataDir: filepath.Join(private, "pg")})
	if err == nil || !strings.Contains(err.Error(), "not searchable") {
		t.Fatalf("err = %v", err)
	}
	t.Logf("error: %v", err)
}

// TestParentDeath kills a process that started a server and checks that
// the server goes away by itself and the data dir can be started again.
func TestParentDeath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("parent-death signal is Linux only")
	}
	t.Parallel()
	dir := filepath.Join(tempDir(t), "pg")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pgPid int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
			pgPid, _ = strconv.Atoi(rest)
			break
		}
	}
	if pgPid == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("helper did not report a server")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	begin := time.Now()
	for processExists(pgPid) {
		if time.Since(begin) > 10*time.Second {
			_ = syscall.Kill(pgPid, syscall.SIGQUIT)
			t.Fatalf("postgres %d still running 10s after its parent was killed", pgPid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("postgres exited %v after its parent was killed", time.Since(begin).Round(time.Millisecond))
	s := start(t, Options{DataDir: dir, Persistent: true})
	stop(t, s)
}

// TestMain turns the test binary into the parent that TestParentDeath
// kills when it is started with helperEnv set.
func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helperProcess(dir))
	}
	os.Exit(m.Run())
}

// helperProcess starts a server, reports its postgres pid and waits to be
// killed.
func helperProcess(dir string) int {
	s, err := Start(context.Background(), Options{DataDir: dir, Persistent: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("READY %d\n", s.proc.cmd.Process.Pid)
	time.Sleep(time.Minute)
	return 0
}
