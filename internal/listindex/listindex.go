// Package listindex keeps, in memory, what the instance list selects,
// orders, searches and pages by: one small entry per cached instance (its
// key fields, owners and search text, read with
// store.InstanceListEntries), the entries' positions in every list order,
// and, per owner user and owner group, the entries they own.
//
// A page of the list is then computed without a database round trip: a
// user's page merges the entries of their user tag and group tags (the same
// visibility rule as store.VisibleInstances: an instance is visible when its
// owner users hold the username or its owner groups meet the user's groups),
// an administrator's page walks the whole order; filters and search are
// applied on the way and keyset pagination uses store's cursors, so a
// cursor from one serves the other. TestIndexMatchesSQL checks that pages
// from the index equal those of store.VisibleInstances for many queries.
//
// An Index is immutable once built and safe for concurrent use. Strings are
// ordered bytewise, which is the order of PostgreSQL's C and C.UTF-8
// collations.
package listindex

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ganetimgr/ganetimgr/internal/store"
)

// maxSearchTerms bounds the search terms of a query, as in the store.
const maxSearchTerms = 8

// Index is an immutable in-memory instance list.
type Index struct {
	rows   []*store.CachedInstance
	users  map[string][]int32 // owner username → rows
	groups map[string][]int32 // owner group name → rows

	mu     sync.Mutex
	orders map[store.InstanceSort]*order // built on first use

	// owned remembers ownedRanks' results, which the pages of one user
	// share: at most maxOwnedInts ranks in all (then it starts over).
	ownedMu   sync.Mutex
	owned     map[ownedKey][]int32
	ownedInts int
}

// ownedKey is an ownedRanks question: an order, a user and their groups
// (groupSet: each name after its length, so that no two lists of names
// give one key).
type ownedKey struct {
	order          *order
	user, groupSet string
}

// maxOwnedInts bounds the ranks an Index remembers (4 bytes each).
const maxOwnedInts = 2 << 20

// order is the rows in one list order, ascending, and each row's rank in it.
type order struct {
	pos  []int32 // rows, ascending
	rank []int32 // rank[row] = its index in pos
}

// New builds an index of rows (which it keeps; the caller must not change
// them). Each row needs the fields of store.InstanceListEntries.
func New(rows []*store.CachedInstance) *Index {
	ix := &Index{rows: rows, users: map[string][]int32{}, groups: map[string][]int32{},
		orders: map[store.InstanceSort]*order{}, owned: map[ownedKey][]int32{}}
	for i, r := range rows {
		for _, u := range uniq(r.OwnerUsers) {
			ix.users[u] = append(ix.users[u], int32(i))
		}
		for _, g := range uniq(r.OwnerGroups) {
			ix.groups[g] = append(ix.groups[g], int32(i))
		}
	}
	return ix
}

// uniq returns s without repeated values (owner lists are short).
func uniq(s []string) []string {
	for i := 1; i < len(s); i++ {
		if slices.Contains(s[:i], s[i]) {
			out := slices.Clone(s[:i])
			for _, v := range s[i:] {
				if !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
			return out
		}
	}
	return s
}

// Len is the number of instances in the index.
func (ix *Index) Len() int { return len(ix.rows) }

// Query selects a page; its fields mean what store.InstanceQuery's do.
type Query struct {
	// All returns every instance (the caller checked auth.ViewInstances);
	// otherwise only those owned by Username or one of Groups.
	All      bool
	Username string
	Groups   []string
	// ClusterIDs and Statuses restrict the rows (none: no restriction).
	ClusterIDs []int64
	Statuses   []string
	// Search keeps rows where every whitespace-separated term is a
	// case-insensitive substring of the search text or the cluster slug.
	Search string
	Sort   store.InstanceSort
	Desc   bool
	// After is a cursor (store.InstanceCursor or a page's Next).
	After string
	// Limit is the page size (default 50, at most 1000).
	Limit int
}

// Page is one page of a query: the instances and the cursor of the next
// page (store.InstancePage) and, for each instance, its position in the
// rows the index was built from (for callers that keep data beside them).
type Page struct {
	store.InstancePage
	Rows []int32
}

// Page returns one page of q, with the cursor of the next page in Next.
// Its rows are the index's own (read only).
func (ix *Index) Page(q Query) (*Page, error) {
	if q.Sort == "" {
		q.Sort = store.SortByName
	}
	if !store.ValidInstanceSort(q.Sort) {
		return nil, fmt.Errorf("listindex: unknown instance sort %q", q.Sort)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	var cur *store.InstanceCursorPos
	if q.After != "" {
		c, err := store.DecodeInstanceCursor(q.After, q.Sort, q.Desc)
		if err != nil {
			return nil, err
		}
		cur = &c
	}
	o := ix.order(q.Sort)
	keep := ix.filter(q)

	// ranks are the candidate rows' positions in the order: every position
	// for All, else the owned rows' ranks, sorted and without repeats.
	var ranks []int32
	n := len(o.pos)
	if !q.All {
		ranks = ix.ownedRanksOf(o, q.Username, q.Groups)
		n = len(ranks)
	}
	rowAt := func(i int) int32 {
		if ranks != nil {
			return o.pos[ranks[i]]
		}
		return o.pos[i]
	}
	at := func(i int) *store.CachedInstance { return ix.rows[rowAt(i)] }
	// start is the first candidate after the cursor in the walk's direction.
	start, step := 0, 1
	if q.Desc {
		start, step = n-1, -1
	}
	switch {
	case cur != nil && q.Desc: // the last row sorting before the cursor
		start = sort.Search(n, func(i int) bool { return compareToCursor(at(i), q.Sort, cur) >= 0 }) - 1
	case cur != nil: // the first row sorting after it
		start = sort.Search(n, func(i int) bool { return compareToCursor(at(i), q.Sort, cur) > 0 })
	}
	size := min(limit, n)
	page := &Page{InstancePage: store.InstancePage{Instances: make([]*store.CachedInstance, 0, size)},
		Rows: make([]int32, 0, size)}
	for i := start; i >= 0 && i < n; i += step {
		row := rowAt(i)
		r := ix.rows[row]
		if keep != nil && !keep(r) {
			continue
		}
		if len(page.Instances) == limit {
			page.Next = store.InstanceCursor(page.Instances[limit-1], q.Sort, q.Desc)
			break
		}
		page.Instances = append(page.Instances, r)
		page.Rows = append(page.Rows, row)
	}
	return page, nil
}

// ownedRanksOf is ownedRanks(o, username, groups), remembered. The result
// is shared: read only.
func (ix *Index) ownedRanksOf(o *order, username string, groups []string) []int32 {
	var set strings.Builder
	for _, g := range groups {
		set.WriteString(strconv.Itoa(len(g)))
		set.WriteByte(':')
		set.WriteString(g)
	}
	k := ownedKey{order: o, user: username, groupSet: set.String()}
	ix.ownedMu.Lock()
	ranks, ok := ix.owned[k]
	ix.ownedMu.Unlock()
	if ok {
		return ranks
	}
	ranks = ix.ownedRanks(o, username, groups)
	ix.ownedMu.Lock()
	if ix.ownedInts+len(ranks) > maxOwnedInts {
		clear(ix.owned)
		ix.ownedInts = 0
	}
	ix.owned[k] = ranks
	ix.ownedInts += len(ranks)
	ix.ownedMu.Unlock()
	return ranks
}

// ownedRanks returns the ranks in o of the rows owned by the user or one of
// the groups, ascending and without repeats.
func (ix *Index) ownedRanks(o *order, username string, groups []string) []int32 {
	lists := make([][]int32, 0, 1+len(groups))
	total := 0
	if username != "" {
		if l := ix.users[username]; len(l) > 0 {
			lists = append(lists, l)
			total += len(l)
		}
	}
	for _, g := range groups {
		if l := ix.groups[g]; len(l) > 0 {
			lists = append(lists, l)
			total += len(l)
		}
	}
	ranks := make([]int32, 0, total)
	for _, l := range lists {
		for _, row := range l {
			ranks = append(ranks, o.rank[row])
		}
	}
	slices.Sort(ranks)
	return slices.Compact(ranks)
}

// filter returns the predicate of q's cluster, status and search
// restrictions, or nil when there are none.
func (ix *Index) filter(q Query) func(*store.CachedInstance) bool {
	terms := strings.Fields(strings.ToLower(q.Search))
	if len(terms) > maxSearchTerms {
		terms = terms[:maxSearchTerms]
	}
	if len(q.ClusterIDs) == 0 && len(q.Statuses) == 0 && len(terms) == 0 {
		return nil
	}
	return func(r *store.CachedInstance) bool {
		if len(q.ClusterIDs) > 0 && !slices.Contains(q.ClusterIDs, r.ClusterID) {
			return false
		}
		if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, r.Status) {
			return false
		}
		for _, t := range terms {
			if !strings.Contains(r.SearchText, t) && !strings.Contains(r.ClusterSlug, t) {
				return false
			}
		}
		return true
	}
}

// order returns the rows in the order s, building it on first use.
func (ix *Index) order(s store.InstanceSort) *order {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if o := ix.orders[s]; o != nil {
		return o
	}
	o := &order{pos: make([]int32, len(ix.rows)), rank: make([]int32, len(ix.rows))}
	for i := range o.pos {
		o.pos[i] = int32(i)
	}
	slices.SortFunc(o.pos, func(a, b int32) int { return compareRows(ix.rows[a], ix.rows[b], s) })
	for i, row := range o.pos {
		o.rank[row] = int32(i)
	}
	ix.orders[s] = o
	return o
}

// compareRows orders two rows as ORDER BY <key>, name, cluster_id does.
func compareRows(a, b *store.CachedInstance, s store.InstanceSort) int {
	var c int
	switch s {
	case store.SortByCluster:
		c = strings.Compare(a.ClusterSlug, b.ClusterSlug)
	case store.SortByStatus:
		c = strings.Compare(a.Status, b.Status)
	case store.SortByNode:
		c = strings.Compare(a.PNode, b.PNode)
	case store.SortByMemory:
		c = cmp.Compare(a.MemoryMB, b.MemoryMB)
	case store.SortByVCPUs:
		c = cmp.Compare(a.VCPUs, b.VCPUs)
	}
	if c != 0 {
		return c
	}
	if c = strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.ClusterID, b.ClusterID)
}

// compareToCursor orders a row against a cursor position of order s.
func compareToCursor(r *store.CachedInstance, s store.InstanceSort, cur *store.InstanceCursorPos) int {
	var c int
	switch s {
	case store.SortByCluster:
		c = strings.Compare(r.ClusterSlug, cur.Key)
	case store.SortByStatus:
		c = strings.Compare(r.Status, cur.Key)
	case store.SortByNode:
		c = strings.Compare(r.PNode, cur.Key)
	case store.SortByMemory:
		c = cmp.Compare(int64(r.MemoryMB), cur.Num)
	case store.SortByVCPUs:
		c = cmp.Compare(int64(r.VCPUs), cur.Num)
	}
	if c != 0 {
		return c
	}
	if c = strings.Compare(r.Name, cur.Name); c != 0 {
		return c
	}
	return cmp.Compare(r.ClusterID, cur.Cluster)
}
