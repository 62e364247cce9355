package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/listindex"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// instanceListQuery is the instance list's query string, validated.
type instanceListQuery struct {
	Search  string
	Cluster string // slug, "" for all
	State   instanceState
	Sort    store.InstanceSort
	Desc    bool
	Size    int
	After   string
	Before  string
}

// values encodes the query (without the cursors) for links.
func (q instanceListQuery) values() url.Values {
	v := url.Values{}
	if q.Search != "" {
		v.Set("q", q.Search)
	}
	if q.Cluster != "" {
		v.Set("cluster", q.Cluster)
	}
	if q.State != "" {
		v.Set("status", string(q.State))
	}
	if q.Sort != "" && q.Sort != store.SortByName {
		v.Set("sort", string(q.Sort))
	}
	if q.Desc {
		v.Set("desc", "1")
	}
	if q.Size != instancePageSize {
		v.Set("size", strconv.Itoa(q.Size))
	}
	return v
}

// parseInstanceListQuery validates the query string; a bad value gives
// the message to answer 400 with.
func parseInstanceListQuery(v url.Values) (instanceListQuery, i18n.Msg, bool) {
	q := instanceListQuery{Search: v.Get("q"), Cluster: v.Get("cluster"), Sort: store.InstanceSort(v.Get("sort")),
		After: v.Get("after"), Before: v.Get("before"), Size: instancePageSize}
	if q.Sort == "" {
		q.Sort = store.SortByName
	}
	if len(q.Search) > maxSearchLength || !utf8.ValidString(q.Search) {
		return q, i18n.M("instances.bad.search"), false
	}
	if !store.ValidInstanceSort(q.Sort) {
		return q, i18n.M("instances.bad.sort"), false
	}
	switch v.Get("desc") {
	case "", "0":
	case "1":
		q.Desc = true
	default:
		return q, i18n.M("instances.bad.sort"), false
	}
	if st := v.Get("status"); st != "" {
		if !slices.Contains(instanceStates, instanceState(st)) {
			return q, i18n.M("instances.bad.status"), false
		}
		q.State = instanceState(st)
	}
	if sz := v.Get("size"); sz != "" {
		n, err := strconv.Atoi(sz)
		if err != nil || n < 1 || n > maxInstancePageSize {
			return q, i18n.M("instances.bad.size"), false
		}
		q.Size = n
	}
	if q.After != "" && q.Before != "" {
		return q, i18n.M("instances.bad.cursor"), false
	}
	for _, c := range []struct {
		cur  string
		desc bool
	}{{q.After, q.Desc}, {q.Before, !q.Desc}} {
		if c.cur == "" {
			continue
		}
		if len(c.cur) > maxCursorLength || store.CheckInstanceCursor(c.cur, q.Sort, c.desc) != nil {
			return q, i18n.M("instances.bad.cursor"), false
		}
	}
	return q, i18n.Msg{}, true
}

// clusterChoice is a cluster in a filter.
type clusterChoice struct {
	Slug string
	Demo bool
}

// sortColumn is a sortable column header.
type sortColumn struct {
	Key     store.InstanceSort
	URL     string
	Current bool
	Desc    bool
}

// instanceListData is the instance list's content.
type instanceListData struct {
	RowHTML   rowsHTML      // the rendered rows (fragment_cache.go)
	PagerHTML template.HTML // the previous and next links (template "instances_pager")
	Wide      bool          // helpdesk and admins: node, owners and network columns
	Query     instanceListQuery
	States    []instanceState
	Clusters  []clusterChoice
	Sorts     map[string]sortColumn // set for rendering (sortColumns)
	NextURL   string
	PrevURL   string
	Total     int // all instances of the shown clusters, -1 when filtered
}

// pagerData is what template "instances_pager" receives.
type pagerData struct {
	L                *i18n.Localizer
	PrevURL, NextURL string
}

// maxCachedURI is the longest request URI whose page is cached.
const maxCachedURI = 2048

// instanceList is the list of the instances the user may see: their own
// (by user or group tag) or, with view_instances, all of them. Everything
// comes from the cluster cache; search, filters, order and keyset
// pagination are done in SQL. Whole pages are cached (page_cache.go) under
// a key made of everything they show (instanceListKey), rows are rendered
// once per instance change (fragment_cache.go).
func (s *Server) instanceList(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	q, msg, ok := parseInstanceListQuery(r.URL.Query())
	if !ok {
		s.badRequest(w, r, msg)
		return
	}
	cs, err := s.state(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if q.Cluster != "" && !slices.ContainsFunc(cs.statuses, func(st *store.SyncStatus) bool {
		return !st.Disabled && st.Slug == q.Cluster
	}) {
		s.badRequest(w, r, i18n.M("instances.bad.cluster"))
		return
	}
	// render renders the page in full (with flashes, which are not cached)
	// or, when framed, assembles it from the frame of its list (which it
	// renders first if no page of that list has been yet).
	render := func(framed bool) ([]byte, error) {
		d, err := s.instanceListData(r, p, q, cs)
		if err != nil {
			return nil, err
		}
		defer s.releaseRows(d.RowHTML) // the page is a copy
		if framed {
			f, err := s.instanceListFrame(w, r, d, cs)
			if err != nil {
				return nil, err
			}
			return f.assemble(r.URL.RequestURI(), d.RowHTML, d.PagerHTML), nil
		}
		d.Sorts = s.sortColumns(q)
		buf, err := s.renderPage(s.page(w, r, http.StatusOK, d), "instances")
		if err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	key, cacheable := s.instanceListKey(r, cs)
	if cacheable && !s.fullRenders {
		if page, ok := s.pageCache.lru.get(key); ok {
			s.serveCached(w, r, key, page)
			return
		}
	}
	// The banner shows the same snapshot as the rows.
	r = r.WithContext(context.WithValue(r.Context(), statusesKey{}, cs.statuses))
	if !cacheable || s.fullRenders {
		body, err := render(false)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return
	}
	if !s.pageCache.admit(key) {
		// The page's first request: streamed from its frame, not kept.
		d, err := s.instanceListData(r, p, q, cs)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		f, err := s.instanceListFrame(w, r, d, cs)
		if err != nil {
			s.releaseRows(d.RowHTML)
			s.serverError(w, r, err)
			return
		}
		s.serveFramed(w, r, key, f, d.RowHTML, d.PagerHTML)
		s.releaseRows(d.RowHTML)
		return
	}
	page, _, err := s.pageCache.get(key, func() ([]byte, error) { return render(true) })
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.serveCached(w, r, key, page)
}

// instanceListKey is the page cache key of an instance list request: the
// viewer (user id, name, role, whether they see everything, their groups),
// the request URI (all query parameters, raw: the page links back to it),
// the language, the clusters' data versions, the declared networks, the
// instances with a job running (their "job pending" badge), the
// reviewers' pending-application badge, and the stale-cluster banner as
// shown. A request with flashes to show is not
// cached (cacheable is false), nor is an overlong URI.
func (s *Server) instanceListKey(r *http.Request, cs *cacheState) (key string, cacheable bool) {
	e := principalEntryFrom(r.Context())
	uri := r.URL.RequestURI()
	if e == nil || len(uri) > maxCachedURI || s.sessions.Exists(r.Context(), keyFlash) {
		return "", false
	}
	state := s.listKeyState(cs)
	var k pageKey
	k.b.Grow(len(uri) + len(e.p.User.Username) + len(e.groups) + len(state) + 64) // one allocation
	k.add("instances", uri, s.localizerFrom(r).Lang())
	k.addInt(e.p.User.ID)
	k.add(e.p.User.Username, strconv.Itoa(int(e.p.Role())), strconv.FormatBool(e.p.Can(auth.ViewInstances)), e.groups)
	k.add(state, strconv.Itoa(s.pendingApplications(r)))
	return k.String(), true
}

// listKeyMemo is a listKeyState result and the second it holds for.
type listKeyMemo struct {
	sec int64
	key string
}

// listKeyState is the part of list page keys that comes from the state
// snapshot and the clock: the clusters' data versions, the declared
// networks, the instances with a job running and the stale-cluster banner
// as shown now. It is computed once per snapshot and second.
func (s *Server) listKeyState(cs *cacheState) string {
	now := s.now()
	if m := cs.listKey.Load(); m != nil && m.sec == now.Unix() {
		return m.key
	}
	var k pageKey
	k.add(cs.dataVersion, cs.networks, cs.busyVersion)
	addBannerKey(&k, s.staleOf(cs.statuses, now))
	key := k.String()
	cs.listKey.Store(&listKeyMemo{sec: now.Unix(), key: key})
	return key
}

// addBannerKey adds the stale-cluster banner as shown to a cache key.
func addBannerKey(k *pageKey, stale []StaleCluster) {
	for _, st := range stale {
		k.add(st.Slug, strconv.FormatBool(st.Stale), strconv.FormatBool(st.Unreachable), st.Age.Msg.ID())
		k.add(fmt.Sprint(st.Age.Args...))
	}
}

// instanceListFrame returns the frame of d's list (page_frame.go): the page
// with holes for the request URI, the rows and the pager, cached under
// everything else the page shows: the viewer as the layout shows them (id,
// name, role, column set), the language, the query without its cursors,
// the total, whether there are rows, the clusters' data versions (the
// cluster filter), the reviewers' pending-application badge and the banner.
func (s *Server) instanceListFrame(w http.ResponseWriter, r *http.Request, d *instanceListData, cs *cacheState) (*pageFrame, error) {
	p := principalFrom(r)
	var k pageKey
	k.add("instances-frame", r.URL.Path, s.localizerFrom(r).Lang())
	k.addInt(p.User.ID)
	k.add(p.User.Username, strconv.Itoa(int(p.Role())), strconv.FormatBool(d.Wide), d.Query.values().Encode())
	k.addInt(int64(d.Total))
	k.add(strconv.FormatBool(len(d.RowHTML) > 0), cs.dataVersion, strconv.Itoa(s.pendingApplications(r)))
	addBannerKey(&k, s.staleOf(cs.statuses, s.now()))
	key := k.String()
	if f, ok := s.frames.get(key); ok {
		return f, nil
	}
	fd := *d
	fd.Sorts = s.sortColumns(d.Query)
	want := [numSlots]int{slotPath: -1, slotRows: 0, slotPager: 1}
	if len(d.RowHTML) > 0 {
		fd.RowHTML = rowsHTML{template.HTML(s.marks[slotRows])}
		want[slotRows] = 1
	}
	fd.PagerHTML = template.HTML(s.marks[slotPager])
	pg := s.page(w, r, http.StatusOK, &fd)
	pg.Path = s.marks[slotPath]
	buf, err := s.renderPage(pg, "instances")
	if err != nil {
		return nil, err
	}
	f, err := compileFrame(buf.Bytes(), s.marks, want)
	if err != nil {
		return nil, err
	}
	s.frames.put(key, f, f.bytes()+int64(len(key)))
	return f, nil
}

// instanceListData loads and prepares one page of the list.
func (s *Server) instanceListData(r *http.Request, p *auth.Principal, q instanceListQuery, cs *cacheState) (*instanceListData, error) {
	ctx := context.WithoutCancel(r.Context()) // the result may serve other requests
	d := &instanceListData{Wide: p.Can(auth.ViewInstances), Query: q, States: instanceStates, Total: -1}
	demo := map[int64]bool{}
	sq := store.InstanceQuery{UserID: p.User.ID, All: d.Wide, Search: q.Search, Sort: q.Sort, Desc: q.Desc,
		Limit: q.Size, After: q.After, KeysOnly: true}
	total := 0
	for _, st := range cs.statuses {
		if st.Disabled {
			continue
		}
		demo[st.ClusterID] = st.Demo
		d.Clusters = append(d.Clusters, clusterChoice{Slug: st.Slug, Demo: st.Demo})
		if q.Cluster == "" || q.Cluster == st.Slug {
			total += st.InstanceCount
		}
		if q.Cluster == st.Slug {
			sq.ClusterIDs = []int64{st.ClusterID}
		}
	}
	if d.Wide && q.Search == "" && q.State == "" {
		d.Total = total
	}
	if q.State != "" {
		sq.Statuses = q.State.ganetiStatuses()
	}
	if q.Before != "" {
		// The rows before a page: the reversed order after the cursor.
		sq.Desc, sq.After = !q.Desc, q.Before
	}
	b, err := s.listIndex(ctx, cs)
	if err != nil {
		return nil, err
	}
	if s.prerenderer.seen(rowKind{lang: s.localizerFrom(r).Lang(), wide: d.Wide}, s.now()) {
		s.prerender() // this kind of row, for every instance
	}
	iq := listindex.Query{All: sq.All, ClusterIDs: sq.ClusterIDs, Statuses: sq.Statuses, Search: sq.Search,
		Sort: sq.Sort, Desc: sq.Desc, After: sq.After, Limit: sq.Limit}
	if !iq.All {
		iq.Username = p.User.Username
		if e := principalEntryFrom(r.Context()); e != nil {
			iq.Groups = e.names
		}
	}
	page, err := b.ix.Page(iq)
	if err != nil {
		return nil, err
	}
	rows := page.Instances
	moreBefore, moreAfter := q.After != "", page.Next != ""
	if q.Before != "" {
		slices.Reverse(rows)
		slices.Reverse(page.Rows)
		moreBefore, moreAfter = page.Next != "", true
	}
	if d.RowHTML, err = s.instanceRows(ctx, rows, b.slots, page.Rows, cs, s.localizerFrom(r), d.Wide, demo); err != nil {
		return nil, err
	}
	base := q.values()
	link := func(key, cursor string) string {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		v.Set(key, cursor)
		return s.path("/instances/") + "?" + v.Encode()
	}
	if len(rows) > 0 {
		if moreAfter {
			d.NextURL = link("after", store.InstanceCursor(rows[len(rows)-1], q.Sort, q.Desc))
		}
		if moreBefore {
			d.PrevURL = link("before", store.InstanceCursor(rows[0], q.Sort, !q.Desc))
		}
	}
	if d.PagerHTML, err = s.instancesPager(s.localizerFrom(r), d); err != nil {
		return nil, err
	}
	return d, nil
}

// sortColumns returns the column headers' sort links of q, for rendering
// the page (or its frame, which most requests reuse).
func (s *Server) sortColumns(q instanceListQuery) map[string]sortColumn {
	sorts := map[string]sortColumn{}
	for _, k := range []store.InstanceSort{store.SortByName, store.SortByCluster, store.SortByStatus,
		store.SortByMemory, store.SortByVCPUs, store.SortByNode} {
		sq := q
		sq.Sort, sq.Desc = k, k == q.Sort && !q.Desc
		u := s.path("/instances/")
		if enc := sq.values().Encode(); enc != "" {
			u += "?" + enc
		}
		sorts[string(k)] = sortColumn{Key: k, URL: u, Current: k == q.Sort, Desc: q.Desc}
	}
	return sorts
}

// pagerKey is what a rendered pager depends on.
type pagerKey struct{ lang, prev, next string }

// pagerCacheBytes bounds the rendered pagers kept (a few hundred bytes
// each).
const pagerCacheBytes = 1 << 20

// instancesPager renders the previous and next links of a page, once per
// language and pair of links (a page's cursors stay the same while its
// data does, so most pages' pagers are rendered once).
func (s *Server) instancesPager(loc *i18n.Localizer, d *instanceListData) (template.HTML, error) {
	k := pagerKey{lang: loc.Lang(), prev: d.PrevURL, next: d.NextURL}
	if h, ok := s.pagers.get(k); ok {
		return h, nil
	}
	var b strings.Builder
	err := s.pages["instances"].ExecuteTemplate(&b, "instances_pager", pagerData{L: loc, PrevURL: d.PrevURL, NextURL: d.NextURL})
	if err != nil {
		return "", fmt.Errorf("web: render pager: %w", err)
	}
	// Produced by html/template: already escaped.
	h := template.HTML(b.String())
	s.pagers.put(k, h, int64(len(h)+len(k.prev)+len(k.next)+64))
	return h, nil
}
