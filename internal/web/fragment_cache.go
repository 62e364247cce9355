package web

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"html/template"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/instanceops"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// fragmentCache keeps the rendered HTML of instance-list rows, beside the
// rows of the list index (list_index.go): every index row has a rowSlot
// holding the row rendered by html/template (template "instance_row" of
// the instances page, so its escaping is html/template's) in the few
// variants asked for. A variant is everything a row shows besides the
// instance, hashed to 64 bits once per request and cluster (rowVariants):
// its cluster's slug and demo flag, the language, the column set, the
// declared networks (IPv6 addresses are derived from them), whether its
// node group is under maintenance and the kind of job running on it (the
// "job pending" badge). An index row never changes, so neither do its
// fragments: when the instance changes, the next index has a new row with
// an empty slot (an unchanged row keeps its slot across rebuilds). Pages
// are assembled from these fragments, so a page nobody has seen before
// does not run the template engine for each of its rows, and finding a
// row's fragment is an array index and an atomic load: no lock, no map.
//
// The fragments held by the current index's slots are bounded by a byte
// budget. A fragment that would pass it first frees the slots not read
// since the clock hand last passed them (CLOCK, an approximation of least
// recently used: a slot read gets a second chance), until the fragments
// take three quarters of the budget: rows in use stay, and a sweep is
// needed only once a quarter of the budget has been rendered again.
type fragmentCache struct {
	seed   maphash.Seed // of the variant hashes (per process)
	budget int64

	rows sync.Pool // of *rowsHTML (rowsBuf)

	mu    sync.Mutex
	slots []*rowSlot   // the current index's
	hand  int          // the clock hand: the slot evict looks at next
	used  atomic.Int64 // bytes held by slots (approximate under races)
	count atomic.Int64 // fragments held by slots
}

// maxRowVariants is how many variants of a row a slot holds: a language
// and column set or two, plus a passing badge. When full, the oldest is
// replaced.
const maxRowVariants = 4

// rowSlot holds the fragments of one index row. It is shared by every
// index that has the row (an instance unchanged by a sync keeps its slot).
// read is set when a fragment is read or stored and cleared by the clock
// hand (evict). cluster is the row's cluster, kept here so that finding a
// row's variant does not read the instance (one cache miss per row less).
type rowSlot struct {
	p       atomic.Pointer[rowFrags]
	read    atomic.Bool
	cluster int64
}

// rowFrags are a row's fragments: immutable once stored (a put stores a
// copy), so readers need no lock.
type rowFrags struct {
	n, next int // variants held; the one replaced next when full
	variant [maxRowVariants]uint64
	html    [maxRowVariants]template.HTML
}

// fragmentOverhead is what a fragment is charged besides its bytes.
const fragmentOverhead = 64

// fragmentCharge is what fragment h is charged against the budget.
func fragmentCharge(h template.HTML) int64 { return int64(len(h)) + fragmentOverhead }

func newFragmentCache(budget int64) *fragmentCache {
	return &fragmentCache{budget: budget, seed: maphash.MakeSeed()}
}

// get returns the row's fragment of variant v.
func (sl *rowSlot) get(v uint64) (template.HTML, bool) {
	rf := sl.p.Load()
	if rf == nil {
		return "", false
	}
	for i := range rf.n {
		if rf.variant[i] == v {
			if !sl.read.Load() { // a store only once per sweep
				sl.read.Store(true)
			}
			return rf.html[i], true
		}
	}
	return "", false
}

// charge is what rf's fragments are charged against the budget.
func (rf *rowFrags) charge() int64 {
	var c int64
	for _, h := range rf.html[:rf.n] {
		c += fragmentCharge(h)
	}
	return c
}

// put keeps h as sl's fragment of variant v (sl a slot of the current
// index or of one being replaced), replacing the oldest when the slot is
// full.
func (f *fragmentCache) put(sl *rowSlot, v uint64, h template.HTML) {
	size := fragmentCharge(h)
	if size > f.budget {
		return
	}
	if f.used.Load()+size > f.budget {
		f.evict(min(f.budget/4*3, f.budget-size))
	}
	sl.read.Store(true)
	for {
		old := sl.p.Load()
		nf := &rowFrags{}
		if old != nil {
			*nf = *old
		}
		var freed int64 // the charge of the fragment replaced
		i := slices.Index(nf.variant[:nf.n], v)
		switch {
		case i >= 0: // rendered meanwhile by another request
			freed = fragmentCharge(nf.html[i])
		case nf.n == maxRowVariants:
			i = nf.next
			nf.next = (nf.next + 1) % maxRowVariants
			freed = fragmentCharge(nf.html[i])
		default:
			i = nf.n
			nf.n++
		}
		nf.variant[i], nf.html[i] = v, h
		if !sl.p.CompareAndSwap(old, nf) {
			continue // another put on this slot came first: redo on top of it
		}
		f.used.Add(size - freed)
		if freed == 0 {
			f.count.Add(1)
		}
		return
	}
}

// evict empties slots of the current index until the fragments take at
// most goal bytes: going round from the clock hand, a slot read since the
// hand last passed loses its mark and is kept this time, any other is
// emptied. Two rounds at most: the first may only clear marks.
func (f *fragmentCache) evict(goal int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.slots)
	for seen := 0; seen < 2*n && f.used.Load() > goal; seen++ {
		if f.hand >= n {
			f.hand = 0
		}
		sl := f.slots[f.hand]
		f.hand++
		if sl.read.Swap(false) {
			continue
		}
		// A put racing with this redoes its update on the empty slot.
		if rf := sl.p.Swap(nil); rf != nil {
			f.used.Add(-rf.charge())
			f.count.Add(-int64(rf.n))
		}
	}
}

// adopt makes slots those of the current index and counts what they hold
// (the slots of rows gone from the index, and their fragments, are
// dropped with the previous index).
func (f *fragmentCache) adopt(slots []*rowSlot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var used, count int64
	for _, sl := range slots {
		if rf := sl.p.Load(); rf != nil {
			used += rf.charge()
			count += int64(rf.n)
		}
	}
	f.slots, f.hand = slots, 0
	f.used.Store(used)
	f.count.Store(count)
}

// stats returns the number of fragments held and their charge.
func (f *fragmentCache) stats() (int, int64) {
	return int(f.count.Load()), f.used.Load()
}

// rowVariants computes the variants of the rows of one request: everything
// a row depends on besides the instance itself. Pages have rows of a few
// clusters, so each cluster's part is found by a short scan.
type rowVariants struct {
	seed     maphash.Seed
	base     uint64 // language, column set, declared networks
	clusters []clusterVariant
	last     int // index in clusters of the last cluster looked up
}

// clusterVariant is base with one cluster's slug and demo flag, and the
// cluster's node groups under maintenance.
type clusterVariant struct {
	id     int64
	v      uint64
	locked map[string]bool
}

func (f *fragmentCache) variants(lang string, wide bool, networks string) *rowVariants {
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(lang)
	h.WriteByte(0)
	h.WriteString(networks)
	if wide {
		h.WriteByte(1)
	}
	return &rowVariants{seed: f.seed, base: h.Sum64()}
}

// cluster returns the part of cluster id (its slug, read from in, an
// instance of it, only the first time; demo flag from demo; node groups
// under maintenance from pc).
func (rv *rowVariants) cluster(id int64, in *store.CachedInstance, demo map[int64]bool, pc *pageContext) *clusterVariant {
	if rv.last < len(rv.clusters) && rv.clusters[rv.last].id == id {
		return &rv.clusters[rv.last]
	}
	for i := range rv.clusters {
		if rv.clusters[i].id == id {
			rv.last = i
			return &rv.clusters[i]
		}
	}
	v := mix64(rv.base ^ maphash.String(rv.seed, in.ClusterSlug))
	if demo[id] {
		v = mix64(v ^ 0x64656d6f)
	}
	rv.clusters = append(rv.clusters, clusterVariant{id: id, v: v, locked: pc.locked[id]})
	rv.last = len(rv.clusters) - 1
	return &rv.clusters[rv.last]
}

// of is the variant of a row of cluster part cv, with its maintenance flag
// and the kind of its running job ("" for none).
func (rv *rowVariants) of(cv *clusterVariant, maintenance bool, busy string) uint64 {
	v := cv.v
	if maintenance {
		v = mix64(v ^ 0x6d61696e74)
	}
	if busy != "" {
		v = mix64(v ^ maphash.String(rv.seed, busy))
	}
	return v
}

// mix64 is splitmix64's finalizer: every input bit affects every output
// bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// rowData is what template "instance_row" receives.
type rowData struct {
	L    *i18n.Localizer
	V    *instanceView
	Wide bool
	Demo bool
}

// rowsHTML are rendered rows, in order: pieces of already-escaped HTML made
// only of html/template output.
type rowsHTML []template.HTML

// Joined returns the rows as one piece, so the page template inserts them
// with one call rather than one per row.
func (rs rowsHTML) Joined() template.HTML {
	n := 0
	for _, h := range rs {
		n += len(h)
	}
	var out strings.Builder
	out.Grow(n)
	for _, h := range rs {
		out.WriteString(string(h))
	}
	return template.HTML(out.String())
}

// instanceRows returns the rendered rows of instances (a row deleted
// meanwhile is an empty piece), in a slice from rowsPool (see
// releaseRows). rows are key rows of the list index
// (store.InstanceListEntries); their slots are slots[pos[i]] or, with pos
// nil, slots[i] (a nil slot: none). Rows not rendered yet in their variant
// are loaded in full with one query and rendered.
func (s *Server) instanceRows(ctx context.Context, rows []*store.CachedInstance, slots []*rowSlot, pos []int32,
	cs *cacheState, loc *i18n.Localizer, wide bool, demo map[int64]bool) (rowsHTML, error) {
	rv := s.fragments.variants(loc.Lang(), wide, cs.networks)
	// variantOf is the variant of row in, of cluster id: its cluster's
	// part, its node group under maintenance, the kind of job running on
	// it (both rare: only then is the instance itself read).
	variantOf := func(in *store.CachedInstance, id int64) (uint64, string) {
		cv := rv.cluster(id, in, demo, cs.pc)
		maintenance := len(cv.locked) > 0 && in.NodeGroup != "" && cv.locked[in.NodeGroup]
		busy := ""
		if len(cs.busy) > 0 {
			busy = cs.busy[store.InstanceKey{ClusterID: id, Name: in.Name}]
		}
		return rv.of(cv, maintenance, busy), busy
	}
	slotOf := func(i int) *rowSlot {
		if pos != nil {
			return slots[pos[i]]
		}
		return slots[i]
	}
	parts := s.rowsBuf(len(rows))
	var missing []store.InstanceKey
	var where map[store.InstanceKey]int
	for i, in := range rows {
		if sl := slotOf(i); sl != nil {
			v, _ := variantOf(in, sl.cluster)
			if h, ok := sl.get(v); ok {
				parts[i] = h
				continue
			}
		}
		if where == nil {
			where = map[store.InstanceKey]int{}
		}
		k := store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}
		missing = append(missing, k)
		where[k] = i
	}
	if len(missing) == 0 {
		return parts, nil
	}
	full, err := s.store.InstancesByKey(ctx, missing)
	if err != nil {
		s.releaseRows(parts)
		return nil, err
	}
	t := s.pages["instances"]
	var buf bytes.Buffer
	for _, in := range full {
		i := where[store.InstanceKey{ClusterID: in.ClusterID, Name: in.Name}]
		v, busy := variantOf(in, in.ClusterID)
		buf.Reset()
		iv := s.instanceView(in, cs.pc)
		if busy != "" {
			iv.Busy = instanceops.Kind(busy).Busy()
		}
		d := rowData{L: loc, V: iv, Wide: wide, Demo: demo[in.ClusterID]}
		if err := t.ExecuteTemplate(&buf, "instance_row", d); err != nil {
			s.releaseRows(parts)
			return nil, fmt.Errorf("web: render instance row: %w", err)
		}
		// Produced by html/template from rowData: already escaped.
		h := template.HTML(buf.String())
		parts[i] = h
		// The full row may be newer than the index's (a sync in between):
		// it is shown but kept only when it is what the slot's row is.
		if sl := slotOf(i); sl != nil && in.ContentHash == rows[i].ContentHash {
			if kv, _ := variantOf(rows[i], sl.cluster); kv == v {
				s.fragments.put(sl, v, h)
			}
		}
	}
	return parts, nil
}

// rowsBuf returns a slice of n empty rows, reused from earlier pages when
// there is one (a 200-row page's slice is 3 KiB of pointers).
func (s *Server) rowsBuf(n int) rowsHTML {
	if p, ok := s.fragments.rows.Get().(*rowsHTML); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make(rowsHTML, n, max(n, instancePageSize))
}

// releaseRows gives rows (from instanceRows) back for reuse, once nothing
// refers to them: the page they made was written or copied.
func (s *Server) releaseRows(rows rowsHTML) {
	if cap(rows) == 0 || cap(rows) > maxInstancePageSize {
		return
	}
	clear(rows[:cap(rows)])
	rows = rows[:0]
	s.fragments.rows.Put(&rows)
}
