package web

import (
	"testing"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TestPrincipalCacheGeneration: an entry loaded before a forget (a change
// made on this server) is never stored, so a background refresh racing
// with an administrator's change cannot bring the old principal back.
func TestPrincipalCacheGeneration(t *testing.T) {
	c := newPrincipalCache(time.Minute)
	e := &principalEntry{p: &auth.Principal{User: &store.User{ID: 1}}, loadedAt: time.Now()}
	gen := c.generation()
	c.forget(1)
	c.put(1, e, gen)
	if c.cached(1, time.Now()) != nil {
		t.Fatal("an entry loaded before a forget was kept")
	}
	c.put(1, e, c.generation())
	if c.cached(1, time.Now()) != e {
		t.Fatal("a current entry was not kept")
	}
	if c.cached(1, time.Now().Add(time.Minute)) != nil {
		t.Fatal("an entry past its ttl was used")
	}
	if !c.startRefresh(1) || c.startRefresh(1) {
		t.Fatal("two refreshes of one entry at once")
	}
	c.endRefresh(1)
	if !c.startRefresh(1) {
		t.Fatal("no refresh after the previous one ended")
	}
}
