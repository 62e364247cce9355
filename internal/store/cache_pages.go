package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// This file holds the cache queries the read-only pages need beyond the
// syncer's own API (cache_*.go): one visible instance, page cursors for
// "previous" links, locked node groups, declared IPv6 prefixes, and a
// filtered job list.

// VisibleInstance returns one cached instance of an enabled cluster, with
// its hypervisor parameters, if the user may see it (all: the caller
// checked auth.ViewInstances). An instance the user may not see gives
// ErrNotFound, like one that does not exist.
func (s *Store) VisibleInstance(ctx context.Context, userID int64, all bool, clusterSlug, name string) (*CachedInstance, error) {
	sql := `SELECT ` + instanceDetailSelect + ` FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id
		WHERE c.slug = $1 AND i.name = $2 AND NOT c.disabled`
	args := []any{clusterSlug, name}
	if !all {
		args = append(args, userID)
		sql += ` AND ` + visibleClause("$3")
	}
	in, err := scanInstanceDetail(s.pool.QueryRow(ctx, sql, args...))
	return in, mapErr("visible instance", err)
}

// InstanceCursor returns the cursor positioned at in for the order (sort,
// desc): a VisibleInstances query in that order with After set to it starts
// right after in. Pages use it for "previous" links: the cursor of a page's
// first row in the reversed order, queried in the reversed order, gives the
// rows before it.
func InstanceCursor(in *CachedInstance, sort InstanceSort, desc bool) string {
	if sort == "" {
		sort = SortByName
	}
	cur := instanceCursor{Sort: sort, Desc: desc, Name: in.Name, Cluster: in.ClusterID}
	switch sort {
	case SortByCluster:
		cur.Key = in.ClusterSlug
	case SortByStatus:
		cur.Key = in.Status
	case SortByNode:
		cur.Key = in.PNode
	case SortByMemory:
		cur.Num = int64(in.MemoryMB)
	case SortByVCPUs:
		cur.Num = int64(in.VCPUs)
	}
	return cur.encode()
}

// CheckInstanceCursor reports whether cursor is a valid cursor of the order
// (sort, desc), so that pages can answer a bad one with 400 rather than
// treating every query error alike.
func CheckInstanceCursor(cursor string, sort InstanceSort, desc bool) error {
	if sort == "" {
		sort = SortByName
	}
	if _, _, ok := sort.sortKey(); !ok {
		return fmt.Errorf("store: unknown instance sort %q", sort)
	}
	cur, err := decodeInstanceCursor(cursor)
	if err != nil {
		return err
	}
	if cur.Sort != sort || cur.Desc != desc {
		return fmt.Errorf("store: page cursor of another order")
	}
	return nil
}

// ValidInstanceSort reports whether sort names an instance list order.
func ValidInstanceSort(sort InstanceSort) bool {
	_, _, ok := sort.sortKey()
	return ok
}

// ClusterGroup names a node group of a cluster.
type ClusterGroup struct {
	ClusterID int64
	Name      string
}

// LockedNodeGroups returns the node groups tagged "locked" (maintenance)
// on every cluster.
func (s *Store) LockedNodeGroups(ctx context.Context) ([]ClusterGroup, error) {
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, name FROM cluster_node_groups WHERE locked`)
	if err != nil {
		return nil, mapErr("locked node groups", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClusterGroup, error) {
		var g ClusterGroup
		return g, r.Scan(&g.ClusterID, &g.Name)
	})
	return out, mapErr("locked node groups", err)
}

// LinkPrefix is the IPv6 prefix declared for a link of a cluster.
type LinkPrefix struct {
	ClusterID int64
	Link      string
	Prefix    string // canonical CIDR
}

// DeclaredIPv6Prefixes returns the IPv6 prefixes of the declared networks
// that have one, per cluster and link.
func (s *Store) DeclaredIPv6Prefixes(ctx context.Context) ([]LinkPrefix, error) {
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, link, ipv6_prefix::text FROM networks WHERE ipv6_prefix IS NOT NULL`)
	if err != nil {
		return nil, mapErr("declared ipv6 prefixes", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LinkPrefix, error) {
		var p LinkPrefix
		return p, r.Scan(&p.ClusterID, &p.Link, &p.Prefix)
	})
	return out, mapErr("declared ipv6 prefixes", err)
}

// DeclaredNetworksVersion changes whenever a declared network is added,
// edited or deleted (pages caching output that shows derived IPv6
// addresses key it by this as well as by the cache version).
func (s *Store) DeclaredNetworksVersion(ctx context.Context) (string, error) {
	var n, maxID int64
	var last *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(id), 0), max(updated_at) FROM networks`).Scan(&n, &maxID, &last)
	if err != nil {
		return "", mapErr("declared networks version", err)
	}
	v := strconv.FormatInt(n, 10) + "." + strconv.FormatInt(maxID, 10)
	if last != nil {
		v += "." + strconv.FormatInt(last.UnixMicro(), 10)
	}
	return v, nil
}

// JobQuery selects cached jobs for the job list.
type JobQuery struct {
	ClusterID int64    // 0: every cluster
	Statuses  []string // none: every status
	Limit     int      // default 200, at most 1000
}

const (
	jobColumns = `j.cluster_id, c.slug, j.job_id, j.status, j.summary, j.op_ids, j.op_status, j.instances,
	coalesce(j.ops::text, ''), coalesce(j.op_result::text, ''), j.error, j.received_at, j.started_at, j.ended_at`
	jobFrom   = ` FROM cluster_jobs j JOIN clusters c ON c.id = j.cluster_id`
	jobSelect = jobColumns + jobFrom
)

// ListedJob is a cached job with its cluster's slug.
type ListedJob struct {
	CachedJob
	ClusterSlug string
}

// scanListedJob scans a row of jobSelect, and the columns selected after
// them into extra.
func scanListedJob(row pgx.Row, extra ...any) (*ListedJob, error) {
	j := &ListedJob{}
	var ops, res string
	var recv, start, end *time.Time
	dest := append([]any{&j.ClusterID, &j.ClusterSlug, &j.ID, &j.Status, &j.Summary, &j.OpIDs, &j.OpStatus,
		&j.Instances, &ops, &res, &j.Error, &recv, &start, &end}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if ops != "" {
		j.Ops = []byte(ops)
	}
	if res != "" {
		j.OpResult = []byte(res)
	}
	j.ReceivedAt, j.StartedAt, j.EndedAt = scanTime(recv), scanTime(start), scanTime(end)
	return j, nil
}

// ListJobs returns the newest cached jobs matching q (by received time,
// the order of the cluster_jobs_received_idx index).
func (s *Store) ListJobs(ctx context.Context, q JobQuery) ([]*ListedJob, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	if q.ClusterID != 0 {
		args = append(args, q.ClusterID)
		where = append(where, "j.cluster_id = $"+strconv.Itoa(len(args)))
	}
	if len(q.Statuses) > 0 {
		args = append(args, q.Statuses)
		where = append(where, "j.status = ANY($"+strconv.Itoa(len(args))+")")
	}
	sql := `SELECT ` + jobSelect
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	sql += ` ORDER BY j.received_at DESC NULLS LAST, j.cluster_id, j.job_id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr("list jobs", err)
	}
	defer rows.Close()
	var out []*ListedJob
	for rows.Next() {
		j, err := scanListedJob(rows)
		if err != nil {
			return nil, mapErr("list jobs", err)
		}
		out = append(out, j)
	}
	return out, mapErr("list jobs", rows.Err())
}

// CachedJobBySlug returns one cached job of a cluster, with its log.
func (s *Store) CachedJobBySlug(ctx context.Context, clusterSlug string, id int64) (*ListedJob, error) {
	var log string
	j, err := scanListedJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+`, coalesce(j.log::text, '')`+jobFrom+`
		WHERE c.slug = $1 AND j.job_id = $2`,
		clusterSlug, id), &log)
	if err != nil {
		return nil, mapErr("cached job", err)
	}
	if len(log) > 0 {
		if err := json.Unmarshal([]byte(log), &j.Log); err != nil {
			return nil, fmt.Errorf("store: cached job %d: log: %w", id, err)
		}
	}
	return j, nil
}

// VacuumClusterCache vacuums and analyzes the cache and account tables:
// what autovacuum does by itself within a minute or so of a large change
// (it also empties the GIN indexes' pending lists, which otherwise make
// the visibility query several times slower). Benchmarks call it after
// loading so that they measure the steady state.
func (s *Store) VacuumClusterCache(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) cluster_instances, clusters, cluster_sync, users, groups, group_members`)
	return mapErr("vacuum cluster cache", err)
}

// InstanceCursorPos is a decoded page cursor: the position, in its order,
// right after which the next page starts.
type InstanceCursorPos struct {
	Sort    InstanceSort
	Desc    bool
	Key     string // the leading key of text orders (cluster, status, node)
	Num     int64  // the leading key of numeric orders (memory, vcpus)
	Name    string
	Cluster int64
}

// DecodeInstanceCursor decodes a cursor of the order (sort, desc), made by
// InstanceCursor or a page's Next, for lists kept outside SQL (the web's
// in-memory list index), so that both page the same way.
func DecodeInstanceCursor(cursor string, sort InstanceSort, desc bool) (InstanceCursorPos, error) {
	if err := CheckInstanceCursor(cursor, sort, desc); err != nil {
		return InstanceCursorPos{}, err
	}
	c, err := decodeInstanceCursor(cursor)
	if err != nil {
		return InstanceCursorPos{}, err
	}
	return InstanceCursorPos{Sort: c.Sort, Desc: c.Desc, Key: c.Key, Num: c.Num, Name: c.Name, Cluster: c.Cluster}, nil
}

// InstanceListEntries returns what the instance list selects, orders and
// searches by for every instance of one cluster: the key fields of
// InstanceQuery.KeysOnly plus the owners and SearchText. The web keeps them
// in memory (internal/listindex) and reloads a cluster's entries when its
// data version changes.
func (s *Store) InstanceListEntries(ctx context.Context, clusterID int64) ([]*CachedInstance, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+instanceKeySelect+`, i.owner_users, i.owner_groups, i.search_text
		FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id WHERE i.cluster_id = $1`, clusterID)
	if err != nil {
		return nil, mapErr("instance list entries", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*CachedInstance, error) {
		in := &CachedInstance{}
		return in, r.Scan(&in.ClusterID, &in.Name, &in.Status, &in.PNode, &in.NodeGroup, &in.MemoryMB, &in.VCPUs,
			&in.ContentHash, &in.ClusterSlug, &in.OwnerUsers, &in.OwnerGroups, &in.SearchText)
	})
	return out, mapErr("instance list entries", err)
}
