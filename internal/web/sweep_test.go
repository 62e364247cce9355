package web_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/accounts"
	"github.com/ganetimgr/ganetimgr/internal/store"
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
