package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestInstanceConfirmations stores confirmation links by their token's
// hash and checks the life of one: found by hash with its user and
// cluster, used once (a second use and a concurrent one fail), released
// after a refusal, expired, replaced by a newer request, purged, and gone
// with its cluster. The mail and audit of the request run in its
// transaction and roll it back when they fail.
func TestInstanceConfirmations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	c, err := s.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: "c1.example.org", Port: 5080,
		TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	newConf := func(kind, value string, ttl time.Duration, then ...store.TxFunc) ([]byte, *store.InstanceConfirmation, error) {
		h := tokenHash(t)
		ic, err := s.CreateInstanceConfirmation(ctx, store.NewInstanceConfirmation{TokenHash: h, UserID: ann.ID,
			ClusterID: c.ID, Instance: "vm1.example.org", Kind: kind, Value: value, ExpiresAt: now.Add(ttl)}, then...)
		return h, ic, err
	}

	h, ic, err := newConf("rename", "vm2.example.org", time.Hour, func(ctx context.Context, tx pgx.Tx) error {
		var n int
		// The row is visible inside the transaction of then.
		return tx.QueryRow(ctx, `SELECT count(*) FROM instance_confirmations WHERE user_id = $1`, ann.ID).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if ic.Username != "ann" || ic.ClusterSlug != "c1" || ic.Kind != "rename" || ic.Value != "vm2.example.org" ||
		ic.UsedAt != nil || !ic.Usable(now) || ic.Usable(now.Add(2*time.Hour)) {
		t.Fatalf("created %+v", ic)
	}
	// Only the hash is stored.
	var stored []byte
	if err := s.Pool().QueryRow(ctx, `SELECT token_hash FROM instance_confirmations WHERE id = $1`, ic.ID).Scan(&stored); err != nil || !bytes.Equal(stored, h) {
		t.Fatalf("stored hash %x %v", stored, err)
	}
	got, err := s.InstanceConfirmationByHash(ctx, h)
	if err != nil || got.ID != ic.ID || got.Instance != "vm1.example.org" {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if _, err := s.InstanceConfirmationByHash(ctx, tokenHash(t)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}

	// Used once; a second use fails; a release makes it usable again.
	used, err := s.UseInstanceConfirmation(ctx, ic.ID, now)
	if err != nil || used.UsedAt == nil || used.Username != "ann" {
		t.Fatalf("use: %+v %v", used, err)
	}
	if _, err := s.UseInstanceConfirmation(ctx, ic.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second use: %v", err)
	}
	if err := s.ReleaseInstanceConfirmation(ctx, ic.ID, used.UsedAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseInstanceConfirmation(ctx, ic.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("released with the wrong time, then used: %v", err)
	}
	if err := s.ReleaseInstanceConfirmation(ctx, ic.ID, *used.UsedAt); err != nil {
		t.Fatal(err)
	}
	// Of concurrent uses exactly one wins.
	wins := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := s.UseInstanceConfirmation(ctx, ic.ID, now)
			wins <- err
		}()
	}
	ok := 0
	for range 4 {
		if err := <-wins; err == nil {
			ok++
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Error(err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent uses won, want 1", ok)
	}
	// Expired links cannot be used.
	_, old, err := newConf("destroy", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseInstanceConfirmation(ctx, old.ID, now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired use: %v", err)
	}
	// A newer request of the same kind replaces the older link; other
	// kinds stay.
	_, first, err := newConf("reinstall", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := newConf("reinstall", "debian-12", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseInstanceConfirmation(ctx, first.ID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replaced link used: %v", err)
	}
	if got, err := s.InstanceConfirmationByHash(ctx, stored); err != nil || got.Kind != "rename" {
		t.Errorf("the rename link changed: %+v %v", got, err)
	}
	// A failing then rolls the confirmation back.
	fail := errors.New("mail failed")
	h3, _, err := newConf("destroy", "", time.Hour, func(context.Context, pgx.Tx) error { return fail })
	if !errors.Is(err, fail) {
		t.Errorf("failing then: %v", err)
	}
	if _, err := s.InstanceConfirmationByHash(ctx, h3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rolled back confirmation found: %v", err)
	}
	// Purge drops what expired before the cutoff.
	n, err := s.PurgeInstanceConfirmations(ctx, now.Add(30*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("purge: %d %v, want the expired destroy link", n, err)
	}
	if _, err := s.UseInstanceConfirmation(ctx, second.ID, now); err != nil {
		t.Errorf("the newest reinstall link: %v", err)
	}
	// Deleting the cluster deletes its links.
	if err := s.DeleteCluster(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM instance_confirmations`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d links left after the cluster's deletion (%v)", left, err)
	}
}

// TestCachedInstanceHVParams checks that an instance's hypervisor
// parameters are cached, read back by the single-instance reads, left out
// of the list reads, and part of the content hash.
func TestCachedInstanceHVParams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := migratedStore(t)
	ann := adminUser(t, s, "ann", false)
	c, err := s.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: "c1.example.org", Port: 5080,
		TLSFingerprint: strings.Repeat("AB:", 31) + "AB"})
	if err != nil {
		t.Fatal(err)
	}
	in := &store.CachedInstance{ClusterID: c.ID, Name: "vm1.example.org", Status: "running", AdminState: "up",
		OperState: true, Hypervisor: "kvm", OwnerUsers: []string{"ann"}, Tags: []string{"ganetimgr:user:ann"},
		HVParams: json.RawMessage(`{"boot_order": "disk", "nic_type": "paravirtual", "use_localtime": false}`)}
	if changed, err := s.PutCachedInstance(ctx, in); err != nil || !changed {
		t.Fatalf("put: %v %v", changed, err)
	}
	hv := func(raw json.RawMessage) map[string]any {
		var m map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	got, err := s.CachedInstance(ctx, c.ID, in.Name)
	if err != nil || hv(got.HVParams)["boot_order"] != "disk" || hv(got.HVParams)["nic_type"] != "paravirtual" {
		t.Fatalf("cached instance hvparams %s %v", got.HVParams, err)
	}
	vis, err := s.VisibleInstance(ctx, ann.ID, false, "c1", in.Name)
	if err != nil || hv(vis.HVParams)["boot_order"] != "disk" {
		t.Fatalf("visible instance hvparams %s %v", vis.HVParams, err)
	}
	page, err := s.VisibleInstances(ctx, store.InstanceQuery{UserID: ann.ID})
	if err != nil || len(page.Instances) != 1 || page.Instances[0].HVParams != nil {
		t.Fatalf("list: %+v %v", page, err)
	}
	byKey, err := s.InstancesByKey(ctx, []store.InstanceKey{{ClusterID: c.ID, Name: in.Name}})
	if err != nil || len(byKey) != 1 || byKey[0].HVParams != nil {
		t.Fatalf("by key: %+v %v", byKey, err)
	}
	// The same parameters change nothing; other ones change the row.
	if changed, err := s.PutCachedInstance(ctx, in); err != nil || changed {
		t.Errorf("same put: %v %v", changed, err)
	}
	in.HVParams = json.RawMessage(`{"boot_order": "cdrom", "cdrom_image_path": "https://example.org/x.iso"}`)
	if changed, err := s.PutCachedInstance(ctx, in); err != nil || !changed {
		t.Errorf("changed put: %v %v", changed, err)
	}
	got, err = s.CachedInstance(ctx, c.ID, in.Name)
	if err != nil || hv(got.HVParams)["boot_order"] != "cdrom" || hv(got.HVParams)["cdrom_image_path"] != "https://example.org/x.iso" {
		t.Errorf("after change %s %v", got.HVParams, err)
	}
	// None (a hypervisor without parameters, or not synced yet) is nil.
	in.HVParams = nil
	if _, err := s.PutCachedInstance(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, err = s.CachedInstance(ctx, c.ID, in.Name); err != nil || got.HVParams != nil {
		t.Errorf("no hvparams: %s %v", got.HVParams, err)
	}
}
