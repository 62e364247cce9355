package web

import (
	"context"
	"sync"

	"github.com/ganetimgr/ganetimgr/internal/listindex"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// listIndexCache holds the in-memory instance list (internal/listindex) of
// the enabled clusters' cached data, rebuilt when a cacheState shows another
// data version. A rebuild reloads only the clusters whose data version or
// slug changed (one query each) and keeps the others' entries; requests
// arriving meanwhile wait for it (one rebuild at a time per version), so a
// page never mixes index data older than the cacheState it was keyed by.
type listIndexCache struct {
	mu     sync.Mutex
	cur    *builtIndex
	flight flight[string, *builtIndex]
}

// builtIndex is an index and what it was built from.
type builtIndex struct {
	version  string // cacheState.dataVersion
	ix       *listindex.Index
	clusters map[int64]clusterEntries
}

// clusterEntries are one cluster's index entries at a data version.
type clusterEntries struct {
	dataVersion int64
	slug        string
	entries     []*store.CachedInstance
}

// listIndex returns the index of cs's data.
func (s *Server) listIndex(ctx context.Context, cs *cacheState) (*listindex.Index, error) {
	c := s.lists
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur != nil && cur.version == cs.dataVersion {
		return cur.ix, nil
	}
	b, _, err := c.flight.do(cs.dataVersion, func() (*builtIndex, error) {
		b, err := s.buildListIndex(context.WithoutCancel(ctx), cs, cur)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.cur = b
		c.mu.Unlock()
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return b.ix, nil
}

// buildListIndex builds the index of cs's enabled clusters, reusing prev's
// entries of the clusters that did not change.
func (s *Server) buildListIndex(ctx context.Context, cs *cacheState, prev *builtIndex) (*builtIndex, error) {
	b := &builtIndex{version: cs.dataVersion, clusters: map[int64]clusterEntries{}}
	var all []*store.CachedInstance
	for _, st := range cs.statuses {
		if st.Disabled {
			continue
		}
		ce, ok := clusterEntries{}, false
		if prev != nil {
			ce, ok = prev.clusters[st.ClusterID]
			ok = ok && ce.dataVersion == st.DataVersion && ce.slug == st.Slug
		}
		if !ok {
			es, err := s.store.InstanceListEntries(ctx, st.ClusterID)
			if err != nil {
				return nil, err
			}
			ce = clusterEntries{dataVersion: st.DataVersion, slug: st.Slug, entries: es}
		}
		b.clusters[st.ClusterID] = ce
		all = append(all, ce.entries...)
	}
	b.ix = listindex.New(all)
	return b, nil
}
