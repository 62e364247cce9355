package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	ganetimgr "github.com/ganetimgr/ganetimgr"
	"github.com/ganetimgr/ganetimgr/internal/pgtest"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// migratedStore returns a store on a fresh, fully migrated database.
func migratedStore(t *testing.T) *store.Store {
	t.Helper()
	pool := pgtest.NewPool(t)
	m, err := store.NewMigrator(pool, ganetimgr.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store.New(pool)
}

func TestClusterAdminAndNetworks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	pin := strings.Repeat("AB:", 31) + "AB"
	c, err := s.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: "c1.example.org", Port: 5080,
		RAPIUsername: "u", RAPIPassword: []byte{1, 2, 3}, TLSFingerprint: pin, UseGntNetwork: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: "x.example.org", Port: 5080}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate slug: %v", err)
	}
	// A nil password keeps the stored one.
	up, err := s.UpdateCluster(ctx, c.ID, store.ClusterInput{Slug: "c1", Hostname: "c1.example.org", Port: 5081,
		RAPIUsername: "u2", TLSFingerprint: pin})
	if err != nil || string(up.RAPIPassword) != "\x01\x02\x03" || up.Port != 5081 || up.RAPIUsername != "u2" {
		t.Errorf("update: %+v %v", up, err)
	}
	if n, err := s.SetClustersDisabled(ctx, []int64{c.ID, 999}, true); err != nil || n != 1 {
		t.Errorf("disable: %d %v", n, err)
	}
	if n, _ := s.SetClustersDisabled(ctx, []int64{c.ID}, true); n != 0 {
		t.Errorf("disabling again changed %d", n)
	}

	g, err := s.CreateGroup(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CreateNetwork(ctx, store.NetworkInput{ClusterID: c.ID, Description: "LAN", Link: "br0", Mode: "bridged",
		ClusterDefault: true, IPv6Prefix: "2001:db8::/64", GroupIDs: []int64{g.ID, g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if n.ClusterSlug != "c1" || n.IPv6Prefix != "2001:db8::/64" || len(n.Groups) != 1 || n.Groups[0].Name != "staff" {
		t.Errorf("network %+v", n)
	}
	for name, in := range map[string]store.NetworkInput{
		"second default": {ClusterID: c.ID, Description: "x", Link: "br1", Mode: "bridged", ClusterDefault: true},
		"same link":      {ClusterID: c.ID, Description: "x", Link: "br0", Mode: "routed"},
	} {
		if _, err := s.CreateNetwork(ctx, in); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", name, err)
		}
	}
	for name, in := range map[string]store.NetworkInput{
		"host bits": {ClusterID: c.ID, Description: "x", Link: "br2", Mode: "bridged", IPv6Prefix: "2001:db8::1/64"},
		"/80":       {ClusterID: c.ID, Description: "x", Link: "br2", Mode: "bridged", IPv6Prefix: "2001:db8::/80"},
		"IPv4":      {ClusterID: c.ID, Description: "x", Link: "br2", Mode: "bridged", IPv6Prefix: "192.0.2.0/24"},
		"mode":      {ClusterID: c.ID, Description: "x", Link: "br2", Mode: "nat"},
	} {
		if _, err := s.CreateNetwork(ctx, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := s.CreateNetwork(ctx, store.NetworkInput{ClusterID: c.ID, Description: "x", Link: "br3", Mode: "bridged",
		GroupIDs: []int64{999999}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown group: %v", err)
	}
	if d, err := s.DefaultNetwork(ctx, c.ID); err != nil || d.ID != n.ID {
		t.Errorf("default: %v %v", d, err)
	}
	if nets, _ := s.Networks(ctx, 0); len(nets) != 1 {
		t.Errorf("%d networks after failed inserts, want 1", len(nets))
	}
	// Deleting the cluster takes its networks along.
	if err := s.DeleteCluster(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NetworkByID(ctx, n.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("network after cluster delete: %v", err)
	}
	if err := s.DeleteCluster(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
