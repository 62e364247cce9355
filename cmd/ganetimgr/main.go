// Command ganetimgr is the whole ganetimgr service in one binary.
//
//	ganetimgr serve                      run the web site
//	ganetimgr migrate [up|status]        apply or list database migrations
//	ganetimgr createadmin -username U -email E
//	                                     create an administrator; the password
//	                                     is read from standard input, or
//	                                     generated and printed once
//	ganetimgr version                    print the version
//
// Configuration comes from environment variables (see README.md).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/app"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: ganetimgr <command> [arguments]

commands:
  serve                              run the web site
  migrate [up|status]                apply pending migrations (default) or list them
  createadmin -username U -email E   create an administrator (password from stdin,
                                     or generated and printed once)
  version                            print the version
`)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "ganetimgr", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "serve", "migrate", "createadmin":
	default:
		fmt.Fprintf(stderr, "ganetimgr: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}

	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(stderr, "ganetimgr: invalid configuration:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(stderr, "  "+line)
		}
		return 2
	}
	log := app.NewLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "serve":
		err = app.Serve(ctx, cfg, log, versionString(), stdout)
	case "migrate":
		err = migrate(ctx, cfg, args, stdout)
	case "createadmin":
		err = createAdmin(ctx, cfg, args, stdin, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ganetimgr:", err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, cfg *config.Config, args []string, stdout io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "up" && sub != "status" {
		return fmt.Errorf("migrate: unknown subcommand %q (want up or status)", sub)
	}
	log := app.NewLogger(cfg, io.Discard)
	db, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := store.NewMigrator(db.Pool, ganetimgr.Migrations())
	if err != nil {
		return err
	}
	defer m.Close()
	if sub == "up" {
		applied, err := m.Up(ctx)
		if err != nil {
			return err
		}
		for _, v := range applied {
			fmt.Fprintf(stdout, "applied %s\n", migrationLabel(v))
		}
	}
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	pending := 0
	for _, s := range st {
		state := "applied"
		if !s.Applied {
			state = "pending"
			pending++
		}
		fmt.Fprintf(stdout, "%-9s  %-8s %s\n", migrationLabel(s), state, s.Name)
	}
	current, known, err := m.Versions(ctx)
	if err != nil {
		return err
	}
	queueApplied, queueKnown, err := m.QueueVersions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema version %d, binary knows %d; job queue (river) %d of %d migrations; %d pending\n",
		current, known, len(queueApplied), len(queueKnown), pending)
	if err := m.CheckNotNewer(ctx); err != nil {
		return fmt.Errorf("migrate: the database schema is newer than this binary: %w", err)
	}
	if sub == "status" && pending > 0 {
		return fmt.Errorf("migrate: %d pending migration(s)", pending)
	}
	return nil
}

// migrationLabel names a migration in the output of `migrate`: its version
// for ganetimgr's own, "river NNN" for the job queue's.
func migrationLabel(s store.MigrationState) string {
	if s.Set != "" {
		return fmt.Sprintf("%s %03d", s.Set, s.Version)
	}
	return fmt.Sprintf("%05d", s.Version)
}

func createAdmin(ctx context.Context, cfg *config.Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("createadmin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "login name of the new administrator (required)")
	email := fs.String("email", "", "mail address of the new administrator (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" || *email == "" {
		fs.Usage()
		return errors.New("createadmin: -username and -email are required")
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	db, err := app.OpenDatabase(ctx, cfg, app.NewLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := app.Migrate(ctx, db.Pool, app.NewLogger(cfg, io.Discard)); err != nil {
		return err
	}
	used, err := app.CreateAdmin(ctx, store.New(db.Pool), app.NewHasher(), *username, *email, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created administrator %q\n", *username)
	if password == "" {
		fmt.Fprintf(stdout, "generated password (shown only this once): %s\n", used)
	}
	return nil
}

// readPassword reads one line from stdin when stdin is not a terminal; an
// empty line, a terminal or no input means "generate one".
func readPassword(stdin io.Reader) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("createadmin: read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
