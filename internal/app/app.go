// Package app assembles ganetimgr from its parts for the subcommands: it
// opens the database (or starts the private one), applies migrations,
// creates administrator accounts and runs the web server until a signal.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/config"
	"github.com/ganetimgr/ganetimgr/internal/pglocal"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// NewLogger returns the structured logger the configuration asks for.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Database is an open connection pool and what it takes to close it.
type Database struct {
	Pool  *pgxpool.Pool
	local *pglocal.Server
}

// Close closes the pool and stops the private PostgreSQL, if one was started.
func (d *Database) Close() {
	d.Pool.Close()
	if d.local != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.local.Stop(ctx)
	}
}

// Embedded reports whether the database is the private PostgreSQL.
func (d *Database) Embedded() bool { return d.local != nil }

// OpenDatabase connects to DATABASE_URL or, when it is unset, starts (or
// reuses) the private PostgreSQL under the data directory.
func OpenDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Database, error) {
	if !cfg.Embedded() {
		pool, err := store.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		return &Database{Pool: pool}, nil
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
	if err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	log.Info("DATABASE_URL is not set: using a private PostgreSQL (not for production)", "data_dir", dir)
	srv, err := pglocal.Start(ctx, pglocal.Options{DataDir: dir, Persistent: true, Database: "ganetimgr", Logger: log})
	if err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, srv.URL("ganetimgr"))
	if err != nil {
		_ = srv.Stop(context.Background())
		return nil, err
	}
	return &Database{Pool: pool, local: srv}, nil
}

// Migrate applies pending migrations and logs what it did.
func Migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	m, err := store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		return err
	}
	defer m.Close()
	applied, err := m.Up(ctx)
	if err != nil {
		return err
	}
	for _, v := range applied {
		if v.Set != "" {
			log.Info("migration applied", "set", v.Set, "version", v.Version, "name", v.Name)
			continue
		}
		log.Info("migration applied", "version", v.Version, "name", v.Name)
	}
	return nil
}

// SecretKey returns the configured secret key or, in embedded mode, the one
// generated on first start and kept in the data directory.
func SecretKey(cfg *config.Config) ([]byte, error) {
	if len(cfg.SecretKey) > 0 {
		return cfg.SecretKey, nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		if k, ok := config.DecodeKey(string(b)); ok {
			return k, nil
		}
		return nil, fmt.Errorf("app: %s does not hold a usable key; delete it to generate a new one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("app: read secret key: %w", err)
	}
	k := make([]byte, 48)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("app: generate secret key: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("app: write secret key: %w", err)
	}
	return k, nil
}

// normalizeUsername trims a username read from a flag or prompt.
func normalizeUsername(s string) string { return strings.TrimSpace(s) }
