// Package pglocal runs a private PostgreSQL server for development and
// tests.
//
// Start creates a cluster with initdb on first use, starts postgres on a
// 127.0.0.1 port with its own socket directory and log file, waits until it
// accepts connections and optionally creates the application database. A
// persistent cluster keeps its data between runs; a non-persistent one runs
// with fsync off and is removed by Stop.
//
// Layout of Options.DataDir:
//
//	pgdata/        the PostgreSQL data directory (PGDATA)
//	password       the generated superuser password (mode 0600)
//	postgres.log   the server log
//	pglocal.lock   held (flock) by the process owning the running server
//	run/           the unix socket directory, when its path is short enough
//
// PostgreSQL refuses to run as root. When the calling process is root, the
// server programs run as the owner of an existing data directory or else as
// the unprivileged "postgres" account created by the Debian package, and the
// data directory is handed to that account; every parent directory of
// DataDir must be searchable by it.
//
// On Linux the server receives SIGINT (fast shutdown) when the process that
// started it dies, so a killed parent does not leave it running; elsewhere
// only Stop shuts it down. The package needs a Unix system.
package pglocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// Superuser is the name of the cluster's superuser role.
	Superuser = "postgres"

	pgdataName   = "pgdata"
	passwordName = "password"
	logName      = "postgres.log"
	lockName     = "pglocal.lock"
	socketName   = "run"

	// maxSocketPath bounds the socket file path: sun_path holds 108 bytes
	// including the terminating NUL; keep a margin.
	maxSocketPath = 100
	// socketFileSuffix is the longest file PostgreSQL creates in the socket
	// directory.
	socketFileSuffix = "/.s.PGSQL.65535.lock"

	// maxLogSize is the size above which the log is rotated at start.
	maxLogSize = 10 << 20
	// logTailSize is how much of the log is quoted when startup fails.
	logTailSize = 4096

	// readyPollInterval is the delay between connection attempts while the
	// server starts.
	readyPollInterval = 20 * time.Millisecond
	// startTimeout bounds startup when the context has no earlier deadline.
	startTimeout = 60 * time.Second
	// orphanWait is how long Start waits for a server left by a killed run
	// (which received its parent-death signal) to finish shutting down.
	orphanWait = 5 * time.Second
	// killWait is how long Stop waits after an immediate shutdown before
	// killing the server.
	killWait = 5 * time.Second
	// portAttempts is how often Start tries postgres when it fails for a
	// passing reason: the picked port taken in the meantime (a new free port
	// is picked), or the shared memory or lock of a server killed just
	// before still held by its exiting children (tried again after a pause).
	portAttempts = 5
)

// Options configures Start.
type Options struct {
	// DataDir is the directory holding the cluster and its support files.
	// It is created when missing. Required.
	DataDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free port at every start.
	Port int
	// Persistent keeps the data between runs. A non-persistent cluster runs
	// with fsync off, requires an empty or missing DataDir and Stop removes
	// DataDir.
	Persistent bool
	// Database, when not empty, is created at start if it does not exist.
	Database string
	// BinDir is the directory holding initdb and postgres; empty means
	// FindBinDir.
	BinDir string
	// Settings are extra server settings (name to value), passed on the
	// postgres command line.
	Settings map[string]string
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
}

// Server is a running PostgreSQL server started by Start.
type Server struct {
	dataDir    string
	pgdata     string
	logPath    string
	sockDir    string
	ownSockDir bool // sockDir is a temporary directory to remove on Stop
	binDir     string
	persistent bool
	settings   map[string]string
	acct       *account
	log        *slog.Logger
	lock       *os.File

	port     int
	password string
	proc     *process

	stopOnce sync.Once
	stopErr  error
}

// Start initializes the cluster in opts.DataDir if needed, starts the
// server and waits until it accepts connections. It fails with a clear
// message when a server is already running on the data directory.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pglocal: data dir not set")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("pglocal: invalid port %d", opts.Port)
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: data dir: %w", err)
	}
	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}

	s := &Server{
		dataDir:    dataDir,
		pgdata:     filepath.Join(dataDir, pgdataName),
		logPath:    filepath.Join(dataDir, logName),
		binDir:     binDir,
		persistent: opts.Persistent,
		settings:   opts.Settings,
		log:        log,
	}
	if s.acct, err = serverAccount(s.pgdata); err != nil {
		return nil, err
	}
	if err := s.prepareDataDir(); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			s.abort()
		}
	}()
	if err := s.lockDataDir(); err != nil {
		return nil, err
	}
	if err := s.removeStalePID(ctx); err != nil {
		return nil, err
	}
	if err := s.loadOrInit(ctx); err != nil {
		return nil, err
	}
	if err := s.prepareSocketDir(); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		s.port = opts.Port
		if s.port == 0 {
			if s.port, err = freePort(); err != nil {
				return nil, err
			}
		}
		retry, err := s.launch(ctx)
		if err == nil {
			break
		}
		if !retry || attempt >= portAttempts {
			return nil, err
		}
		s.log.Info("postgres did not start, retrying", "port", s.port, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	if opts.Database != "" {
		if err := s.createDatabase(ctx, opts.Database); err != nil {
			return nil, err
		}
	}
	started = true
	s.log.Info("postgres ready", "port", s.port, "data", s.dataDir)
	return s, nil
}

// URL returns a postgres:// connection string for database dbname, usable
// by pgx and libpq.
func (s *Server) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Superuser, s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// DataDir returns the absolute data directory given in Options.
func (s *Server) DataDir() string { return s.dataDir }

// SocketDir returns the directory holding the server's unix socket; local
// socket connections are trusted (the directory is private to the server
// account).
func (s *Server) SocketDir() string { return s.sockDir }

// LogFile returns the path of the server log.
func (s *Server) LogFile() string { return s.logPath }

// Done returns a channel that is closed when the server process exits.
func (s *Server) Done() <-chan struct{} { return s.proc.done }

// Stop shuts the server down (fast shutdown: sessions are disconnected) and
// waits for it to exit. When ctx ends first the server is shut down
// immediately. For a non-persistent cluster the data directory is removed.
// Calling Stop again returns the first result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		var errs []error
		if err := s.shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := s.release(); err != nil {
			errs = append(errs, err)
		}
		s.stopErr = errors.Join(errs...)
		s.log.Info("postgres stopped", "data", s.dataDir)
	})
	return s.stopErr
}

// shutdown stops the server process.
func (s *Server) shutdown(ctx context.Context) error {
	p := s.proc
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("pglocal: postgres had already exited: %w", p.exitErr())
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pglocal: signalling postgres: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.forceStop()
		return fmt.Errorf("pglocal: fast shutdown did not finish, stopped immediately: %w", ctx.Err())
	}
}

// abort undoes a failed Start.
func (s *Server) abort() {
	if s.proc != nil {
		s.proc.forceStop()
	}
	if err := s.release(); err != nil {
		s.log.Warn("cleanup after failed start", "err", err)
	}
}

// release removes temporary files and directories and drops the data
// directory lock.
func (s *Server) release() error {
	var errs []error
	if s.ownSockDir {
		if err := os.RemoveAll(s.sockDir); err != nil {
			errs = append(errs, fmt.Errorf("pglocal: removing socket dir: %w", err))
		}
	}
	if !s.persistent {
		if err := os.RemoveAll(s.dataDir); err != nil {
			errs = append(errs, fmt.Errorf("pglocal: removing data dir: %w", err))
		}
	}
	if s.lock != nil {
		// Closing the file releases the flock.
		if err := s.lock.Close(); err != nil {
			errs = append(errs, fmt.Errorf("pglocal: releasing lock: %w", err))
		}
		s.lock = nil
	}
	return errors.Join(errs...)
}

// prepareDataDir creates DataDir, hands it to the server account and checks
// that the account can reach it.
func (s *Server) prepareDataDir() error {
	if !s.persistent {
		entries, err := os.ReadDir(s.dataDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pglocal: reading data dir: %w", err)
		}
		if len(entries) > 0 {
			// Stop removes a non-persistent data dir: never take over a
			// directory that already holds something.
			return fmt.Errorf("pglocal: data dir %s of a non-persistent cluster must be empty", s.dataDir)
		}
	}
	// Parents get the usual 0755 so that the server account can traverse
	// them when running as root; DataDir itself is private.
	if err := os.MkdirAll(filepath.Dir(s.dataDir), 0o755); err != nil {
		return fmt.Errorf("pglocal: creating data dir: %w", err)
	}
	if err := os.Mkdir(s.dataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pglocal: creating data dir: %w", err)
	}
	if err := s.acct.chown(s.dataDir); err != nil {
		return err
	}
	if err := os.Chmod(s.dataDir, 0o700); err != nil {
		return fmt.Errorf("pglocal: data dir permissions: %w", err)
	}
	return s.acct.checkReachable(s.dataDir)
}

// lockDataDir takes the exclusive lock that marks the data directory as
// owned by this process for the lifetime of the server.
func (s *Server) lockDataDir() error {
	path := filepath.Join(s.dataDir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("pglocal: opening lock file: %w", err)
	}
	if err := s.acct.chown(path); err != nil {
		f.Close()
		return err
	}
	// A process forking in this program (to start any command) holds a
	// copy of every descriptor, the lock's too, until it execs; a lock
	// released just now may still be held that way for a moment, so a busy
	// lock is tried again for a second before it counts as taken.
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	for i := 0; i < 20 && errors.Is(err, syscall.EWOULDBLOCK); i++ {
		time.Sleep(50 * time.Millisecond)
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		owner, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("pglocal: the PostgreSQL data dir %s is in use by another running process (pid %s); "+
				"stop it (is the application already running?) or use another data dir",
				s.dataDir, strings.TrimSpace(string(owner)))
		}
		return fmt.Errorf("pglocal: locking data dir: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0) // informational only
	}
	s.lock = f
	return nil
}

// removeStalePID deals with a postmaster.pid left by a previous run. The
// lock is held, so no live pglocal process owns the data directory: a
// recorded process that is gone (or is not postgres) is stale. A live
// postgres is an orphan of a killed run that is still shutting down after
// its parent-death signal, or a server started by other means.
func (s *Server) removeStalePID(ctx context.Context) error {
	path := filepath.Join(s.pgdata, "postmaster.pid")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pglocal: reading postmaster.pid: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if pid < 0 { // a standalone backend records its pid negated
		pid = -pid
	}
	if pid > 0 && isPostgresProcess(pid) {
		s.log.Info("waiting for previous postgres to exit", "pid", pid)
		deadline := time.Now().Add(orphanWait)
		for isPostgresProcess(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("pglocal: a PostgreSQL server (pid %d) is already running on data dir %s; "+
					"stop it first (e.g. %s stop -D %s)", pid, s.pgdata, filepath.Join(s.binDir, "pg_ctl"), s.pgdata)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("pglocal: waiting for previous postgres to exit: %w", ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	s.log.Info("removing stale postmaster.pid", "pid", pid)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pglocal: removing stale postmaster.pid: %w", err)
	}
	return nil
}

// loadOrInit reads the password of an existing cluster or creates one.
func (s *Server) loadOrInit(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.pgdata, "PG_VERSION")); err == nil {
		pw, err := os.ReadFile(filepath.Join(s.dataDir, passwordName))
		if err != nil {
			return fmt.Errorf("pglocal: reading superuser password (remove %s to recreate the cluster): %w", s.dataDir, err)
		}
		s.password = strings.TrimSpace(string(pw))
		return nil
	}
	return s.initdb(ctx)
}

// initdb creates the cluster. It runs in a temporary directory that is
// renamed into place at the end, so an interrupted initdb is redone.
//
// Authentication: the server listens on 127.0.0.1 only, but trusting TCP
// connections would let every local account (and any local process that can
// be tricked into connecting) act as superuser. TCP connections therefore
// use scram-sha-256 with a random password generated here and kept in
// DataDir (mode 0600, readable by the data's owner only). Unix socket
// connections are trusted: the socket directory is private to the server
// account, so only that account and root can reach it.
func (s *Server) initdb(ctx context.Context) error {
	s.log.Info("initializing PostgreSQL cluster", "data", s.pgdata)
	tmp := s.pgdata + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pglocal: removing incomplete cluster: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return fmt.Errorf("pglocal: generating password: %w", err)
	}
	s.password = hex.EncodeToString(buf)
	pwPath := filepath.Join(s.dataDir, passwordName)
	if err := s.writeFile(pwPath, s.password+"\n"); err != nil {
		return err
	}
	args := []string{
		"-D", tmp, "-U", Superuser, "-E", "UTF8",
		"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwPath,
	}
	if !s.persistent {
		args = append(args, "--no-sync")
	}
	// C.UTF-8 gives Unicode-aware character classes with fast, stable
	// code point ordering; fall back to C where it is not installed.
	out, err := s.run(ctx, "initdb", append(args, "--locale=C.UTF-8")...)
	if err != nil {
		_ = os.RemoveAll(tmp)
		s.log.Info("initdb with C.UTF-8 failed, retrying with locale C", "err", err)
		if out, err = s.run(ctx, "initdb", append(args, "--locale=C")...); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("pglocal: initdb: %w\n%s", err, out)
		}
	}
	hba := "# Written by pglocal: trusted private unix socket, password on 127.0.0.1, nothing else.\n" +
		"local all all trust\n" +
		"host all all 127.0.0.1/32 scram-sha-256\n"
	if err := s.writeFile(filepath.Join(tmp, "pg_hba.conf"), hba); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.pgdata); err != nil {
		return fmt.Errorf("pglocal: installing cluster: %w", err)
	}
	return nil
}

// prepareSocketDir picks the unix socket directory: DataDir/run when the
// socket path fits, else a private temporary directory.
func (s *Server) prepareSocketDir() error {
	dir := filepath.Join(s.dataDir, socketName)
	if len(dir)+len(socketFileSuffix) <= maxSocketPath {
		if err := os.RemoveAll(dir); err != nil { // stale sockets and lock files
			return fmt.Errorf("pglocal: cleaning socket dir: %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return fmt.Errorf("pglocal: creating socket dir: %w", err)
		}
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "pgl-"); err == nil && len(dir)+len(socketFileSuffix) > maxSocketPath {
			_ = os.Remove(dir)
			dir, err = os.MkdirTemp("/tmp", "pgl-")
		}
		if err != nil {
			return fmt.Errorf("pglocal: creating socket dir: %w", err)
		}
		s.ownSockDir = true
	}
	s.sockDir = dir
	return s.acct.chown(dir)
}

// launch starts postgres on s.port and waits until it accepts connections.
// retry reports whether the failure was the port being taken.
func (s *Server) launch(ctx context.Context) (retry bool, err error) {
	logFile, offset, err := s.openLog()
	if err != nil {
		return false, err
	}
	args := []string{
		"-D", s.pgdata,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(s.port),
		"-c", "unix_socket_directories=" + quoteListItem(s.sockDir),
		"-c", "unix_socket_permissions=0700",
	}
	if !s.persistent {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	names := make([]string, 0, len(s.settings))
	for name := range s.settings {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "-c", name+"="+s.settings[name])
	}
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p, err := startProcess(cmd)
	logFile.Close() // the child holds its own descriptor
	if err != nil {
		return false, fmt.Errorf("pglocal: starting postgres: %w", err)
	}
	s.proc = p
	s.log.Info("postgres starting", "pid", cmd.Process.Pid, "port", s.port)
	if err := s.waitReady(ctx); err != nil {
		p.forceStop()
		s.proc = nil
		tail := logTail(s.logPath, offset)
		// The port taken, or the shared memory or lock of a server killed
		// just before still held by its exiting children (which may exit
		// before postgres logs why): worth another try.
		retry = strings.Contains(tail, "could not bind") || strings.Contains(tail, "already in use") ||
			strings.Contains(tail, "still in use") || strings.Contains(tail, "already exists") || tail == ""
		return retry, fmt.Errorf("%w; server log %s:\n%s", err, s.logPath, tail)
	}
	return false, nil
}

// waitReady polls until the server accepts a connection.
func (s *Server) waitReady(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pglocal: parsing connection string: %w", err)
	}
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, connErr := pgx.ConnectConfig(attemptCtx, cfg)
		cancel()
		if connErr == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-s.proc.done:
			return fmt.Errorf("pglocal: postgres exited during startup: %w", s.proc.exitErr())
		case <-ctx.Done():
			return fmt.Errorf("pglocal: postgres did not accept connections (last error: %v): %w", connErr, ctx.Err())
		case <-time.After(readyPollInterval):
		}
	}
}

// createDatabase creates database name unless it exists.
func (s *Server) createDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pglocal: connecting: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pglocal: looking up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	s.log.Info("creating database", "name", name)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created concurrently
		return nil
	}
	if err != nil {
		return fmt.Errorf("pglocal: creating database %q: %w", name, err)
	}
	return nil
}

// openLog opens the server log for appending, rotating it when large, and
// returns its current size.
func (s *Server) openLog() (*os.File, int64, error) {
	if fi, err := os.Stat(s.logPath); err == nil && fi.Size() > maxLogSize {
		_ = os.Rename(s.logPath, s.logPath+".1")
	}
	f, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("pglocal: opening log: %w", err)
	}
	if err := s.acct.chown(s.logPath); err != nil {
		f.Close()
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("pglocal: opening log: %w", err)
	}
	return f, fi.Size(), nil
}

// writeFile writes a private file owned by the server account.
func (s *Server) writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("pglocal: writing %s: %w", filepath.Base(path), err)
	}
	return s.acct.chown(path)
}

// command prepares a server program to run as the server account in its
// own process group (so a terminal's Ctrl-C reaches only the application,
// which then calls Stop), with the parent-death signal set.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.dataDir
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") { // PGDATA, PGPORT... must not interfere
			env = append(env, kv)
		}
	}
	cmd.Env = env
	attr := &syscall.SysProcAttr{Setpgid: true}
	if s.acct != nil {
		attr.Credential = &syscall.Credential{Uid: s.acct.uid, Gid: s.acct.gid, Groups: s.acct.groups}
	}
	setParentDeathSignal(attr)
	cmd.SysProcAttr = attr
	return cmd
}

// run runs a short-lived server program and returns its combined output.
func (s *Server) run(ctx context.Context, name string, args ...string) (string, error) {
	var out strings.Builder
	cmd := s.command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := startProcess(cmd)
	if err != nil {
		return "", fmt.Errorf("pglocal: starting %s: %w", name, err)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-p.done
		return out.String(), fmt.Errorf("pglocal: %s: %w", name, ctx.Err())
	}
	if p.err != nil {
		return out.String(), fmt.Errorf("pglocal: %s: %w", name, p.err)
	}
	return out.String(), nil
}

// process is a started child process.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // result of Wait, valid once done is closed
}

// startProcess starts cmd from a goroutine locked to its OS thread and
// waits for it on that thread. The parent-death signal is tied to the
// thread that forked the child, not to the process, so the thread must live
// as long as the child.
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// exitErr returns how the exited process ended.
func (p *process) exitErr() error {
	if p.err == nil {
		return errors.New("exit status 0")
	}
	return p.err
}

// forceStop shuts the server down immediately (SIGQUIT), kills it if that
// does not work and waits for it to exit.
func (p *process) forceStop() {
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(killWait):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// account is the unprivileged account the server runs as when the caller
// is root. A nil *account means "the current user".
type account struct {
	uid, gid uint32
	groups   []uint32
}

// serverAccount returns the account to run the server as: nil when not
// root; else the owner of an existing data directory, or the "postgres"
// user.
func serverAccount(pgdata string) (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	if fi, err := os.Stat(pgdata); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			if u, err = user.LookupId(strconv.FormatUint(uint64(st.Uid), 10)); err != nil {
				return &account{uid: st.Uid, gid: st.Gid}, nil
			}
		}
	}
	if u == nil {
		var err error
		if u, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pglocal: PostgreSQL refuses to run as root and there is no unprivileged "+
				"\"postgres\" user (install the postgresql package, or run as a normal user): %w", err)
		}
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pglocal: uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pglocal: gid of %s: %w", u.Username, err)
	}
	a := &account{uid: uint32(uid), gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// chown gives path to the account; a no-op for the current user.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	if err := os.Lchown(path, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("pglocal: handing %s to uid %d: %w", path, a.uid, err)
	}
	return nil
}

// checkReachable verifies that the account can search every parent
// directory of dir (ACLs are not considered).
func (a *account) checkReachable(dir string) error {
	if a == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pglocal: checking data dir access: %w", err)
		}
		if !a.canSearch(fi) {
			return fmt.Errorf("pglocal: running as root, the server runs as uid %d, which cannot reach the data dir %s: "+
				"directory %s (mode %v) is not searchable by it; use a data dir under a directory it can traverse "+
				"(e.g. /var/tmp or /srv) or allow it (chmod o+x %s)", a.uid, dir, p, fi.Mode().Perm(), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// canSearch reports whether the account may search the directory fi.
func (a *account) canSearch(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	if st.Uid == a.uid {
		return perm&0o100 != 0
	}
	if st.Gid == a.gid {
		return perm&0o010 != 0
	}
	for _, g := range a.groups {
		if st.Gid == g {
			return perm&0o010 != 0
		}
	}
	return perm&0o001 != 0
}

// processExists reports whether a process with this pid exists.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// freePort returns a TCP port on 127.0.0.1 that is free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// quoteListItem quotes a path for a list-valued server setting.
func quoteListItem(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// logTail returns the log written since offset, at most logTailSize bytes.
func logTail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > logTailSize {
		offset = fi.Size() - logTailSize
	}
	data, _ := io.ReadAll(io.NewSectionReader(f, offset, logTailSize))
	return strings.TrimSpace(string(data))
}
