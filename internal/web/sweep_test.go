package web_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/store"
	"github.com/ganetimgr/ganetimgr/internal/web"
)

// TestSweepAbandonedRegistrations: a registration whose confirmation link
// expired unused is removed once the activation period is over (its
// username becomes free); one with a valid link, a confirmed one and an
// ordinary account stay.
func TestSweepAbandonedRegistrations(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	register := func(name string, ttl time.Duration) {
		t.Helper()
		_, hash, err := accounts.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.store.Register(ctx, store.Registration{Username: name, Email: name + "@example.org",
			FirstName: "F", LastName: "L", PasswordHash: "x", TokenHash: hash, TokenTTL: ttl}); err != nil {
			t.Fatal(err)
		}
	}
	register("abandoned", time.Millisecond)
	register("waiting", time.Hour)
	admRegister(t, h, "confirmed", true)
	h.user("ordinary", adminPW, false)
	time.Sleep(10 * time.Millisecond)

	h.site.SweepOnce(ctx, time.Now()) // within the activation period: nothing goes
	if _, err := h.store.UserByUsername(ctx, "abandoned"); err != nil {
		t.Fatalf("removed before the activation period ended: %v", err)
	}
	h.site.SweepOnce(ctx, time.Now().Add(11*24*time.Hour))
	if _, err := h.store.UserByUsername(ctx, "abandoned"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("abandoned registration: %v", err)
	}
	for _, name := range []string{"waiting", "confirmed", "ordinary"} {
		if _, err := h.store.UserByUsername(ctx, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSweepInstanceJobs: a tracked job that finished over FinishedJobsKept
// ago goes, with its log; a recent one and an unfinished one stay.
func TestSweepInstanceJobs(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	c, err := h.store.CreateCluster(ctx, store.ClusterInput{Slug: "c1", Hostname: "c1.example.org", Port: 5080,
		RAPIUsername: "x", RAPIPassword: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	claim := func(name string, finish bool) int64 {
		t.Helper()
		j, err := h.store.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: c.ID, Instance: name, Kind: "start"})
		if err != nil {
			t.Fatal(err)
		}
		if finish {
			if _, err := h.store.FinishInstanceJob(ctx, j.ID, "success", "", nil); err != nil {
				t.Fatal(err)
			}
		}
		return j.ID
	}
	done, running := claim("vm1.example.org", true), claim("vm2.example.org", false)

	h.site.SweepOnce(ctx, time.Now().Add(web.FinishedJobsKept-time.Hour))
	if _, err := h.store.InstanceJobByID(ctx, done); err != nil {
		t.Fatalf("a recent finished job went: %v", err)
	}
	h.site.SweepOnce(ctx, time.Now().Add(web.FinishedJobsKept+time.Hour))
	if _, err := h.store.InstanceJobByID(ctx, done); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old finished job: %v", err)
	}
	if _, err := h.store.InstanceJobByID(ctx, running); err != nil {
		t.Errorf("unfinished job: %v", err)
	}
}
