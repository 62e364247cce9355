package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// cacheState is what every cached page depends on besides the viewer and
// the query: every cluster's sync status (with its data version), the
// declared networks' version and what instance rows are rendered with
// (declared IPv6 prefixes, locked node groups). It is read from the
// database at most once per StateTTL for the whole server (one refresh at a
// time; see state for who waits for it), so pages see cluster data at most
// StateTTL older than the database. Changes made through this server's own admin pages drop the
// snapshot at once (invalidate).
type cacheState struct {
	statuses    []*store.SyncStatus
	pendingApps int    // applications awaiting review (the reviewers' badge)
	networks    string // DeclaredNetworksVersion
	pc          *pageContext
	// busy maps the instances with an unfinished tracked job to the kind
	// of that job (the lists' "job pending" badge); busyVersion changes
	// with it.
	busy        map[store.InstanceKey]string
	busyVersion string
	dataVersion string // every cluster's id, slug, flags and data version
	loadedAt    time.Time
	listKey     atomic.Pointer[listKeyMemo] // listKeyState's memo
}

// stateCache holds the current cacheState.
type stateCache struct {
	ttl time.Duration
	mu  sync.Mutex
	cur *cacheState
	gen uint64 // bumped by invalidate, so a refresh started before it is not kept
	// refreshing is set while a background refresh runs.
	refreshing bool
	flight     flight[uint64, *cacheState]
}

// invalidate drops the snapshot: the next request reads the database.
func (c *stateCache) invalidate() {
	c.mu.Lock()
	c.cur = nil
	c.gen++
	c.mu.Unlock()
}

// state returns the current snapshot. One younger than half the TTL is
// used as it is; an older one is still returned while one background
// refresh replaces it (refresh-ahead: under steady traffic no request
// queues behind the refresh's queries); one past the TTL, or none (at
// start, after invalidate), makes requests wait for the refresh. Pages thus
// show cluster data at most the TTL older than the database.
func (s *Server) state(ctx context.Context) (*cacheState, error) {
	c := s.stateCache
	now := time.Now()
	c.mu.Lock()
	cur, gen := c.cur, c.gen
	c.mu.Unlock()
	if cur != nil && now.Sub(cur.loadedAt) < c.ttl/2 {
		return cur, nil
	}
	// A refresh is shared by every request that waits for it (flight), so
	// one leaving does not cancel it; one ahead of expiry runs in the
	// background, stopped by Close.
	refresh := func(ctx context.Context) (*cacheState, error) {
		st, err := s.loadState(ctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == gen {
			c.cur = st
		}
		c.mu.Unlock()
		return st, nil
	}
	if cur != nil && now.Sub(cur.loadedAt) < c.ttl {
		c.mu.Lock()
		start := !c.refreshing
		c.refreshing = true
		c.mu.Unlock()
		if start {
			s.bg.startThen(func(bctx context.Context) {
				_, _, err := c.flight.do(gen, func() (*cacheState, error) { return refresh(bctx) })
				if err != nil && bctx.Err() == nil {
					s.log.Warn("cluster state refresh failed", "err", err)
				}
			}, func() {
				c.mu.Lock()
				c.refreshing = false
				c.mu.Unlock()
			})
		}
		return cur, nil
	}
	st, _, err := c.flight.do(gen, func() (*cacheState, error) { return refresh(context.WithoutCancel(ctx)) })
	return st, err
}

func (s *Server) loadState(ctx context.Context) (*cacheState, error) {
	st := &cacheState{loadedAt: time.Now()}
	var err error
	if st.statuses, err = s.store.ClusterSyncStatuses(ctx); err != nil {
		return nil, err
	}
	if st.statuses == nil {
		st.statuses = []*store.SyncStatus{}
	}
	if st.pendingApps, err = s.store.PendingApplicationCount(ctx); err != nil {
		return nil, err
	}
	if st.networks, err = s.store.DeclaredNetworksVersion(ctx); err != nil {
		return nil, err
	}
	if st.pc, err = s.loadPageContext(ctx); err != nil {
		return nil, err
	}
	if st.busy, st.busyVersion, err = s.loadBusy(ctx); err != nil {
		return nil, err
	}
	var k pageKey
	for _, c := range st.statuses {
		k.addInt(c.ClusterID)
		k.add(c.Slug, strconv.FormatBool(c.Disabled), strconv.FormatBool(c.Demo))
		k.addInt(c.DataVersion)
		k.addInt(int64(c.InstanceCount))
	}
	st.dataVersion = k.String()
	return st, nil
}

// loadBusy reads the unfinished tracked jobs (one indexed query; there
// are few): which instance runs a job of which kind, and a version of
// that set for cache keys.
func (s *Server) loadBusy(ctx context.Context) (map[store.InstanceKey]string, string, error) {
	jobs, err := s.store.ActiveInstanceJobs(ctx, 0)
	if err != nil {
		return nil, "", err
	}
	busy := make(map[store.InstanceKey]string, len(jobs))
	var k pageKey
	for _, j := range jobs {
		busy[store.InstanceKey{ClusterID: j.ClusterID, Name: j.Instance}] = j.Kind
		k.addInt(j.ID)
		k.add(j.Kind)
	}
	sum := sha256.Sum256([]byte(k.String()))
	return busy, hex.EncodeToString(sum[:12]), nil
}

// refreshStateAfterChange drops the cacheState after every state-changing
// request it guards (the administrator's cluster and network pages), so
// this server's pages show an edit at once rather than within stateTTL.
func (s *Server) refreshStateAfterChange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.stateCache.invalidate()
		}
	})
}
