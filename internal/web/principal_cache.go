package web

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// principalCache keeps each logged-in user's account row, effective
// permissions and group names for a short time (ttl), so that a page view
// does not query them every time. Security bound: a change made elsewhere
// (deactivation, a permission or group change, "log out everywhere" on
// another replica) takes effect here within ttl; the actions of this server
// that change them (log out everywhere, language, login) forget the entry
// at once. A session whose epoch is newer than the cached one is checked
// against the database, never refused on cached data alone.
//
// An entry past half its ttl is still used while one background load
// replaces it (refresh-ahead), so under steady traffic no request waits for
// the database; past the ttl it is never used. A load that started before a
// forget is not kept (gen), so a refresh can never bring back what a change
// made here dropped.
type principalCache struct {
	ttl        time.Duration
	maxEntries int

	mu         sync.Mutex
	m          map[int64]*principalEntry
	gen        uint64 // bumped by forget
	refreshing map[int64]bool
}

// principalEntry is one user's cached principal.
type principalEntry struct {
	p        *auth.Principal
	groups   string   // the user's group names, NUL-separated (for page cache keys)
	names    []string // the user's group names
	loadedAt time.Time
}

func newPrincipalCache(ttl time.Duration) *principalCache {
	return &principalCache{ttl: ttl, maxEntries: 100000, m: map[int64]*principalEntry{}, refreshing: map[int64]bool{}}
}

// forget drops a user's entry.
func (c *principalCache) forget(uid int64) {
	c.mu.Lock()
	delete(c.m, uid)
	c.gen++
	c.mu.Unlock()
}

// generation returns the current forget generation.
func (c *principalCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// startRefresh reports whether the caller should refresh uid's entry in
// the background (no other refresh of it runs); endRefresh ends it.
func (c *principalCache) startRefresh(uid int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refreshing[uid] {
		return false
	}
	c.refreshing[uid] = true
	return true
}

func (c *principalCache) endRefresh(uid int64) {
	c.mu.Lock()
	delete(c.refreshing, uid)
	c.mu.Unlock()
}

// cached returns the user's entry if it is younger than the ttl.
func (c *principalCache) cached(uid int64, now time.Time) *principalEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[uid]; e != nil && now.Sub(e.loadedAt) < c.ttl {
		return e
	}
	return nil
}

// put stores an entry loaded while the generation was gen; one loaded
// before a later forget is dropped.
func (c *principalCache) put(uid int64, e *principalEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= c.maxEntries {
		for k, v := range c.m {
			if e.loadedAt.Sub(v.loadedAt) >= c.ttl {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.maxEntries {
			clear(c.m)
		}
	}
	c.m[uid] = e
}

// principal returns the user's principal from the cache or the database
// (fresh forces the database). A user that does not exist gives
// store.ErrNotFound.
func (s *Server) principal(ctx context.Context, uid int64, fresh bool) (*principalEntry, error) {
	c := s.principals
	now := time.Now()
	if !fresh {
		if e := c.cached(uid, now); e != nil {
			if now.Sub(e.loadedAt) >= c.ttl/2 && c.startRefresh(uid) {
				s.bg.startThen(func(bctx context.Context) {
					if _, err := s.loadPrincipal(bctx, uid); err != nil && !errors.Is(err, store.ErrNotFound) && bctx.Err() == nil {
						s.log.Warn("principal refresh failed", "user_id", uid, "err", err)
					}
				}, func() { c.endRefresh(uid) })
			}
			return e, nil
		}
	}
	return s.loadPrincipal(ctx, uid)
}

// loadPrincipal reads the user's principal from the database and caches it.
func (s *Server) loadPrincipal(ctx context.Context, uid int64) (*principalEntry, error) {
	gen := s.principals.generation()
	now := time.Now()
	u, err := s.store.UserByID(ctx, uid)
	if err != nil {
		s.principals.forget(uid)
		return nil, err
	}
	p, err := auth.LoadPrincipal(ctx, s.store, u)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.UserGroups(ctx, uid)
	if err != nil {
		return nil, err
	}
	var joined strings.Builder
	names := make([]string, 0, len(groups))
	for _, g := range groups {
		joined.WriteString(g.Name)
		joined.WriteByte(0)
		names = append(names, g.Name)
	}
	e := &principalEntry{p: p, groups: joined.String(), names: names, loadedAt: now}
	s.principals.put(uid, e, gen)
	return e, nil
}

// principalEntryFrom returns the request's principal entry (with the group
// names), nil for anonymous requests.
func principalEntryFrom(ctx context.Context) *principalEntry {
	if st := stateFrom(ctx); st != nil {
		return st.entry
	}
	return nil
}
