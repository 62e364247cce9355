package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
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
	Rows     []*instanceView
	Wide     bool // helpdesk and admins: node, owners and network columns
	Query    instanceListQuery
	States   []instanceState
	Clusters []clusterChoice
	Demo     map[int64]bool
	Sorts    map[string]sortColumn
	NextURL  string
	PrevURL  string
	Total    int // all instances of the shown clusters, -1 when filtered
}

// IsDemo reports whether the cluster is the simulated demo cluster.
func (d *instanceListData) IsDemo(clusterID int64) bool { return d.Demo[clusterID] }

// instanceList is the list of the instances the user may see: their own
// (by user or group tag) or, with view_instances, all of them. Everything
// comes from the cluster cache; search, filters, order and keyset
// pagination are done in SQL.
func (s *Server) instanceList(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r)
	q, msg, ok := parseInstanceListQuery(r.URL.Query())
	if !ok {
		s.badRequest(w, r, msg)
		return
	}
	r, statuses, err := s.withSyncStatuses(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := &instanceListData{Wide: p.Can(auth.ViewInstances), Query: q, States: instanceStates, Demo: map[int64]bool{}, Total: -1}
	sq := store.InstanceQuery{UserID: p.User.ID, All: d.Wide, Search: q.Search, Sort: q.Sort, Desc: q.Desc,
		Limit: q.Size, After: q.After}
	total, clusterFound := 0, q.Cluster == ""
	for _, st := range statuses {
		if st.Disabled {
			continue
		}
		d.Demo[st.ClusterID] = st.Demo
		d.Clusters = append(d.Clusters, clusterChoice{Slug: st.Slug, Demo: st.Demo})
		if q.Cluster == "" || q.Cluster == st.Slug {
			total += st.InstanceCount
		}
		if q.Cluster == st.Slug {
			sq.ClusterIDs = []int64{st.ClusterID}
			clusterFound = true
		}
	}
	if !clusterFound {
		s.badRequest(w, r, i18n.M("instances.bad.cluster"))
		return
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
	page, err := s.store.VisibleInstances(r.Context(), sq)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rows := page.Instances
	moreBefore, moreAfter := q.After != "", page.Next != ""
	if q.Before != "" {
		slices.Reverse(rows)
		moreBefore, moreAfter = page.Next != "", true
	}
	pc, err := s.loadPageContext(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d.Rows = make([]*instanceView, 0, len(rows))
	for _, in := range rows {
		d.Rows = append(d.Rows, s.instanceView(in, pc))
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
	d.Sorts = map[string]sortColumn{}
	for _, k := range []store.InstanceSort{store.SortByName, store.SortByCluster, store.SortByStatus,
		store.SortByMemory, store.SortByVCPUs, store.SortByNode} {
		sq := q
		sq.Sort, sq.Desc = k, k == q.Sort && !q.Desc
		u := s.path("/instances/")
		if enc := sq.values().Encode(); enc != "" {
			u += "?" + enc
		}
		d.Sorts[string(k)] = sortColumn{Key: k, URL: u, Current: k == q.Sort, Desc: q.Desc}
	}
	s.render(w, r, http.StatusOK, "instances", d)
}
