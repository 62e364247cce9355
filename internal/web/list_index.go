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
// slug changed (one query each) and keeps the others' entries; an entry
// reloaded unchanged (same content hash) keeps its row slot, and so its
// rendered fragments (fragment_cache.go). Requests
// arriving meanwhile wait for it (one rebuild at a time per version), so a
// page never mixes index data older than the cacheState it was keyed by.
type listIndexCache struct {
	mu     sync.Mutex
	cur    *builtIndex
	flight flight[string, *builtIndex]
}

// builtIndex is an index, the slots of its rows (slots[i] is that of the
// i-th row given to listindex.New, a listindex.Page's Rows) and what it
// was built from.
type builtIndex struct {
	version  string // cacheState.dataVersion
	ix       *listindex.Index
	rows     []*store.CachedInstance // given to listindex.New
	slots    []*rowSlot
	clusters map[int64]clusterEntries
}

// clusterEntries are one cluster's index entries at a data version, and
// their slots.
type clusterEntries struct {
	dataVersion int64
	slug        string
	entries     []*store.CachedInstance
	slots       []*rowSlot
}

// listIndex returns the index of cs's data.
func (s *Server) listIndex(ctx context.Context, cs *cacheState) (*builtIndex, error) {
	c := s.lists
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur != nil && cur.version == cs.dataVersion {
		return cur, nil
	}
	b, _, err := c.flight.do(cs.dataVersion, func() (*builtIndex, error) {
		b, err := s.buildListIndex(context.WithoutCancel(ctx), cs, cur)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.cur = b
		c.mu.Unlock()
		s.fragments.adopt(b.slots)
		s.prerender() // the changed rows, in the kinds pages show
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// buildListIndex builds the index of cs's enabled clusters, reusing prev's
// entries of the clusters that did not change, and the slots of the
// entries that did not.
func (s *Server) buildListIndex(ctx context.Context, cs *cacheState, prev *builtIndex) (*builtIndex, error) {
	b := &builtIndex{version: cs.dataVersion, clusters: map[int64]clusterEntries{}}
	var all []*store.CachedInstance
	for _, st := range cs.statuses {
		if st.Disabled {
			continue
		}
		var old clusterEntries
		ok := false
		if prev != nil {
			old, ok = prev.clusters[st.ClusterID]
		}
		ce := old
		if !ok || old.dataVersion != st.DataVersion || old.slug != st.Slug {
			es, err := s.store.InstanceListEntries(ctx, st.ClusterID)
			if err != nil {
				return nil, err
			}
			ce = clusterEntries{dataVersion: st.DataVersion, slug: st.Slug, entries: es,
				slots: carrySlots(old, es, ok && old.slug == st.Slug)}
		}
		b.clusters[st.ClusterID] = ce
		all = append(all, ce.entries...)
		b.slots = append(b.slots, ce.slots...)
	}
	b.rows = all
	b.ix = listindex.New(all)
	return b, nil
}

// carrySlots returns the slots of a cluster's reloaded entries: an entry
// whose instance has the content hash it had in old keeps its slot (when
// keep: the cluster's slug, which rows show, is the same), any other gets
// a new, empty one.
func carrySlots(old clusterEntries, entries []*store.CachedInstance, keep bool) []*rowSlot {
	type was struct {
		hash int64
		slot *rowSlot
	}
	var prev map[string]was
	if keep && len(old.entries) > 0 {
		prev = make(map[string]was, len(old.entries))
		for i, e := range old.entries {
			prev[e.Name] = was{e.ContentHash, old.slots[i]}
		}
	}
	slots := make([]*rowSlot, len(entries))
	for i, e := range entries {
		if w, ok := prev[e.Name]; ok && w.hash == e.ContentHash {
			slots[i] = w.slot
		} else {
			slots[i] = &rowSlot{cluster: e.ClusterID}
		}
	}
	return slots
}
