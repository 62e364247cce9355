// Package demo runs the simulated Ganeti cluster that `serve` offers in its
// embedded mode, so that a newcomer trying ganetimgr has something to look
// at. The cluster is the fake RAPI (internal/rapi/rapifake) listening on
// loopback, registered as an ordinary cluster row marked demo, which every
// page labels "demo (simulated)". Nothing about it is special elsewhere:
// ganetimgr talks to it through the same RAPI client as to a real cluster.
package demo

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/rapi/rapifake"
	"github.com/ganetimgr/ganetimgr/internal/secretbox"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Slug is the demo cluster's slug.
const Slug = "demo"

// rapiUser is the RAPI account ganetimgr uses on the demo cluster.
const rapiUser = "ganetimgr"

// Options shape the demo cluster.
type Options struct {
	// Owner is the username that owns the demo instances (through
	// <prefix>:user:<owner> tags).
	Owner string
	// TagPrefix is the configured Ganeti tag prefix.
	TagPrefix string
	// Instances is the number of instances (default 36).
	Instances int
}

// Cluster is a running demo cluster.
type Cluster struct {
	fake *rapifake.Cluster
	row  *store.Cluster
}

// Start starts the simulated cluster on a free loopback port and records
// its address, certificate pin and freshly generated credentials in the
// demo cluster row (created on first start). box seals the RAPI password.
func Start(ctx context.Context, st *store.Store, box *secretbox.Box, opts Options, log *slog.Logger) (*Cluster, error) {
	if opts.Instances == 0 {
		opts.Instances = 36
	}
	password, err := auth.GeneratePassword()
	if err != nil {
		return nil, err
	}
	fake, err := rapifake.NewCluster(rapifake.Options{
		Name:      "demo-cluster.ganetimgr.invalid",
		Nodes:     3,
		Instances: opts.Instances,
		TagPrefix: opts.TagPrefix,
		Owners:    []string{opts.Owner},
		Seed:      1,
		Users:     []rapifake.User{{Name: rapiUser, Password: password, Write: true}},
		Addr:      "127.0.0.1:0",
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if _, err := fake.Start(); err != nil {
		return nil, fmt.Errorf("demo: start: %w", err)
	}
	sealed, err := box.Seal(password)
	if err != nil {
		fake.Close()
		return nil, err
	}
	row, err := st.UpsertDemoCluster(ctx, store.Cluster{
		Slug: Slug, Hostname: fake.Host(), Port: fake.Port(),
		Description:  "Simulated cluster for trying ganetimgr out; its machines are not real.",
		RAPIUsername: rapiUser, RAPIPassword: sealed, TLSFingerprint: fake.Fingerprint(),
	})
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("demo: register: %w", err)
	}
	if err := seedCatalogue(ctx, st, log); err != nil {
		fake.Close()
		return nil, err
	}
	log.Info("demo (simulated) cluster running", "slug", row.Slug, "rapi", fake.URL(), "instances", opts.Instances, "owner", opts.Owner)
	return &Cluster{fake: fake, row: row}, nil
}

// seedCatalogue adds a Debian image to an empty operating system catalogue,
// so that an application can be made and approved on the demo cluster at
// once. The entry is an ordinary one (the debootstrap OS provider, which
// real clusters have too): administrators edit or remove it like any other.
func seedCatalogue(ctx context.Context, st *store.Store, log *slog.Logger) error {
	ims, err := st.OSImages(ctx, false)
	if err != nil {
		return fmt.Errorf("demo: catalogue: %w", err)
	}
	if len(ims) > 0 {
		return nil
	}
	if _, err := st.CreateOSImage(ctx, store.OSImageInput{ID: "debian-debootstrap", Description: "Debian (debootstrap)",
		Provider: "debootstrap+default", OSParams: map[string]string{}, Enabled: true}); err != nil {
		return fmt.Errorf("demo: catalogue: %w", err)
	}
	log.Info("operating system catalogue was empty: added debian-debootstrap")
	return nil
}

// Row returns the demo cluster's database row.
func (c *Cluster) Row() *store.Cluster { return c.row }

// Close stops the simulated cluster (its row stays for the next start).
func (c *Cluster) Close() { c.fake.Close() }

// Remove deletes the demo cluster's row, for when the demo is turned off.
func Remove(ctx context.Context, st *store.Store, log *slog.Logger) error {
	removed, err := st.DeleteDemoCluster(ctx)
	if err != nil {
		return err
	}
	if removed {
		log.Info("demo cluster removed (GANETIMGR_DEMO=false)")
	}
	return nil
}
