package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CachedInstance is one instance of a cluster as the syncer last saw it
// (table cluster_instances). Memory is beparams maxmem in MiB; disk sizes
// are MiB; the NIC lists are parallel.
type CachedInstance struct {
	ClusterID    int64
	Name         string
	UUID         string
	Status       string // Ganeti's status: running, ADMIN_down, ERROR_down, ...
	AdminState   string // up, down, offline
	OperState    bool   // actually running
	PNode        string
	SNodes       []string
	NodeGroup    string // group of the primary node, "" when unknown
	OS           string
	Hypervisor   string
	MemoryMB     int
	VCPUs        int
	OperRAMMB    int
	OperVCPUs    int
	DiskTemplate string
	DiskSizesMB  []int64
	DiskUsageMB  int64
	NICIPs       []string
	NICMACs      []string
	NICModes     []string
	NICLinks     []string
	NICNetworks  []string // network names
	NetworkPort  int      // console (VNC/SPICE) port, 0 when none
	Tags         []string
	// Derived from the tags at sync time.
	OwnerUsers  []string
	OwnerGroups []string
	AdminLock   bool
	Isolate     bool
	NeedsReboot bool
	CTime       time.Time
	MTime       time.Time
	SerialNo    int64
	// HVParams are the instance's effective hypervisor parameters as
	// Ganeti reports them (a JSON object; nil when unknown). Only the
	// single-instance reads (CachedInstance, VisibleInstance) fill it: the
	// list queries leave it nil.
	HVParams json.RawMessage
	// SyncedAt is when the row was last written (read only).
	SyncedAt time.Time
	// ClusterSlug is filled by the queries (read only).
	ClusterSlug string
	// ContentHash is the digest of the synced fields, which changes
	// whenever any of them does (read only; pages key rendered rows by it).
	ContentHash int64
	// SearchText is what search terms are matched against (read only;
	// filled by InstanceListEntries).
	SearchText string
}

// instancesTable lists cluster_instances' written columns in the order of
// instanceRow.
var instancesTable = cacheTable{
	name: "cluster_instances", key: "name",
	columns: []string{"cluster_id", "name", "uuid", "status", "admin_state", "oper_state", "pnode", "snodes",
		"node_group", "os", "hypervisor", "memory_mb", "vcpus", "oper_ram_mb", "oper_vcpus", "disk_template",
		"disk_sizes_mb", "disk_usage_mb", "nic_ips", "nic_macs", "nic_modes", "nic_links", "nic_networks",
		"network_port", "tags", "owner_users", "owner_groups", "admin_lock", "isolate", "needs_reboot",
		"ctime", "mtime", "serial_no", "hvparams", "search_text", "content_hash"},
}

// searchText is what instance search matches substrings against: name,
// addresses, owners and nodes, lowercased.
func (in *CachedInstance) searchText() string {
	parts := make([]string, 0, 8+len(in.NICIPs)+len(in.NICMACs)+len(in.OwnerUsers)+len(in.OwnerGroups)+len(in.SNodes))
	parts = append(parts, in.Name, in.PNode)
	parts = append(parts, in.SNodes...)
	parts = append(parts, in.NICIPs...)
	parts = append(parts, in.NICMACs...)
	parts = append(parts, in.OwnerUsers...)
	parts = append(parts, in.OwnerGroups...)
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return strings.ToLower(b.String())
}

func (in *CachedInstance) row(clusterID int64) cacheRow {
	h := newHasher()
	h.str(in.Name)
	h.str(in.UUID)
	h.str(in.Status)
	h.str(in.AdminState)
	h.bool(in.OperState)
	h.str(in.PNode)
	h.strs(in.SNodes)
	h.str(in.NodeGroup)
	h.str(in.OS)
	h.str(in.Hypervisor)
	h.i64(int64(in.MemoryMB))
	h.i64(int64(in.VCPUs))
	h.i64(int64(in.OperRAMMB))
	h.i64(int64(in.OperVCPUs))
	h.str(in.DiskTemplate)
	h.i64s(in.DiskSizesMB)
	h.i64(in.DiskUsageMB)
	h.strs(in.NICIPs)
	h.strs(in.NICMACs)
	h.strs(in.NICModes)
	h.strs(in.NICLinks)
	h.strs(in.NICNetworks)
	h.i64(int64(in.NetworkPort))
	h.strs(in.Tags)
	h.strs(in.OwnerUsers)
	h.strs(in.OwnerGroups)
	h.bool(in.AdminLock)
	h.bool(in.Isolate)
	h.bool(in.NeedsReboot)
	h.time(in.CTime)
	h.time(in.MTime)
	h.i64(in.SerialNo)
	h.bytes(in.HVParams)
	sum := h.sum()
	return cacheRow{key: in.Name, hash: sum, values: []any{
		clusterID, in.Name, in.UUID, in.Status, in.AdminState, in.OperState, in.PNode, nonNil(in.SNodes),
		in.NodeGroup, in.OS, in.Hypervisor, in.MemoryMB, in.VCPUs, in.OperRAMMB, in.OperVCPUs, in.DiskTemplate,
		nonNil(in.DiskSizesMB), in.DiskUsageMB, nonNil(in.NICIPs), nonNil(in.NICMACs), nonNil(in.NICModes),
		nonNil(in.NICLinks), nonNil(in.NICNetworks), in.NetworkPort, nonNil(in.Tags), nonNil(in.OwnerUsers),
		nonNil(in.OwnerGroups), in.AdminLock, in.Isolate, in.NeedsReboot, nullTime(in.CTime), nullTime(in.MTime),
		in.SerialNo, nullJSON(in.HVParams), in.searchText(), sum,
	}}
}

const instanceSelect = `i.cluster_id, i.name, i.uuid, i.status, i.admin_state, i.oper_state, i.pnode, i.snodes,
	i.node_group, i.os, i.hypervisor, i.memory_mb, i.vcpus, i.oper_ram_mb, i.oper_vcpus, i.disk_template,
	i.disk_sizes_mb, i.disk_usage_mb, i.nic_ips, i.nic_macs, i.nic_modes, i.nic_links, i.nic_networks,
	i.network_port, i.tags, i.owner_users, i.owner_groups, i.admin_lock, i.isolate, i.needs_reboot,
	i.ctime, i.mtime, i.serial_no, i.synced_at, c.slug, i.content_hash`

func scanInstance(row pgx.Row) (*CachedInstance, error) {
	in := &CachedInstance{}
	var ctime, mtime *time.Time
	err := row.Scan(&in.ClusterID, &in.Name, &in.UUID, &in.Status, &in.AdminState, &in.OperState, &in.PNode, &in.SNodes,
		&in.NodeGroup, &in.OS, &in.Hypervisor, &in.MemoryMB, &in.VCPUs, &in.OperRAMMB, &in.OperVCPUs, &in.DiskTemplate,
		&in.DiskSizesMB, &in.DiskUsageMB, &in.NICIPs, &in.NICMACs, &in.NICModes, &in.NICLinks, &in.NICNetworks,
		&in.NetworkPort, &in.Tags, &in.OwnerUsers, &in.OwnerGroups, &in.AdminLock, &in.Isolate, &in.NeedsReboot,
		&ctime, &mtime, &in.SerialNo, &in.SyncedAt, &in.ClusterSlug, &in.ContentHash)
	in.CTime, in.MTime = scanTime(ctime), scanTime(mtime)
	return in, err
}

// instanceDetailSelect is instanceSelect plus what only the pages of one
// instance need (the hypervisor parameters); scanInstanceDetail reads it.
const instanceDetailSelect = instanceSelect + `, i.hvparams`

func scanInstanceDetail(row pgx.Row) (*CachedInstance, error) {
	in := &CachedInstance{}
	var ctime, mtime *time.Time
	var hv []byte
	err := row.Scan(&in.ClusterID, &in.Name, &in.UUID, &in.Status, &in.AdminState, &in.OperState, &in.PNode, &in.SNodes,
		&in.NodeGroup, &in.OS, &in.Hypervisor, &in.MemoryMB, &in.VCPUs, &in.OperRAMMB, &in.OperVCPUs, &in.DiskTemplate,
		&in.DiskSizesMB, &in.DiskUsageMB, &in.NICIPs, &in.NICMACs, &in.NICModes, &in.NICLinks, &in.NICNetworks,
		&in.NetworkPort, &in.Tags, &in.OwnerUsers, &in.OwnerGroups, &in.AdminLock, &in.Isolate, &in.NeedsReboot,
		&ctime, &mtime, &in.SerialNo, &in.SyncedAt, &in.ClusterSlug, &in.ContentHash, &hv)
	in.CTime, in.MTime = scanTime(ctime), scanTime(mtime)
	if len(hv) > 0 {
		in.HVParams = hv
	}
	return in, err
}

// instanceKeySelect is the select list of InstanceQuery.KeysOnly.
const instanceKeySelect = `i.cluster_id, i.name, i.status, i.pnode, i.node_group, i.memory_mb, i.vcpus, i.content_hash, c.slug`

func scanInstanceKey(row pgx.Row) (*CachedInstance, error) {
	in := &CachedInstance{}
	err := row.Scan(&in.ClusterID, &in.Name, &in.Status, &in.PNode, &in.NodeGroup, &in.MemoryMB, &in.VCPUs,
		&in.ContentHash, &in.ClusterSlug)
	return in, err
}

// InstanceKey names one cached instance.
type InstanceKey struct {
	ClusterID int64
	Name      string
}

// InstancesByKey returns the cached instances named by keys (of enabled
// clusters; missing ones are left out), in no particular order. It does no
// visibility check: keys must come from a query that did
// (VisibleInstances).
func (s *Store) InstancesByKey(ctx context.Context, keys []InstanceKey) ([]*CachedInstance, error) {
	ids, names := make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		ids[i], names[i] = k.ClusterID, k.Name
	}
	rows, err := s.pool.Query(ctx, `SELECT `+instanceSelect+` FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id
		JOIN unnest($1::bigint[], $2::text[]) AS k(cluster_id, name) ON k.cluster_id = i.cluster_id AND k.name = i.name
		WHERE NOT c.disabled`, ids, names)
	if err != nil {
		return nil, mapErr("instances by key", err)
	}
	defer rows.Close()
	out := make([]*CachedInstance, 0, len(keys))
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, mapErr("instances by key", err)
		}
		out = append(out, in)
	}
	return out, mapErr("instances by key", rows.Err())
}

// CachedInstance returns one cached instance, with its hypervisor
// parameters.
func (s *Store) CachedInstance(ctx context.Context, clusterID int64, name string) (*CachedInstance, error) {
	in, err := scanInstanceDetail(s.pool.QueryRow(ctx, `SELECT `+instanceDetailSelect+`
		FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id
		WHERE i.cluster_id = $1 AND i.name = $2`, clusterID, name))
	return in, mapErr("cached instance", err)
}

// PutCachedInstance writes one instance of a cluster (the targeted refresh
// after a job), leaving the others alone, and bumps the cluster's data
// version when the row changed. An empty NodeGroup is filled in from the
// cached nodes and an empty Hypervisor from the cluster's default. It
// reports whether anything changed.
func (s *Store) PutCachedInstance(ctx context.Context, in *CachedInstance) (bool, error) {
	changed, err := s.inClusterTx(ctx, in.ClusterID, func(tx pgx.Tx) (int, error) {
		if in.NodeGroup == "" && in.PNode != "" {
			err := tx.QueryRow(ctx, `SELECT node_group FROM cluster_nodes WHERE cluster_id = $1 AND name = $2`,
				in.ClusterID, in.PNode).Scan(&in.NodeGroup)
			if err != nil && err != pgx.ErrNoRows {
				return 0, err
			}
		}
		if in.Hypervisor == "" {
			err := tx.QueryRow(ctx, `SELECT default_hypervisor FROM cluster_sync WHERE cluster_id = $1`,
				in.ClusterID).Scan(&in.Hypervisor)
			if err != nil {
				return 0, err
			}
		}
		r := in.row(in.ClusterID)
		var old int64
		err := tx.QueryRow(ctx, `SELECT content_hash FROM cluster_instances WHERE cluster_id = $1 AND name = $2`,
			in.ClusterID, in.Name).Scan(&old)
		switch {
		case err == nil && old == r.hash:
			return 0, nil
		case err != nil && err != pgx.ErrNoRows:
			return 0, err
		}
		var ph strings.Builder
		for i := range instancesTable.columns {
			if i > 0 {
				ph.WriteString(", ")
			}
			ph.WriteString("$" + strconv.Itoa(i+1))
		}
		var set strings.Builder
		for _, c := range instancesTable.columns[2:] {
			set.WriteString(c + " = EXCLUDED." + c + ", ")
		}
		set.WriteString("synced_at = now()")
		_, err = tx.Exec(ctx, `INSERT INTO cluster_instances (`+strings.Join(instancesTable.columns, ", ")+`)
			VALUES (`+ph.String()+`) ON CONFLICT (cluster_id, name) DO UPDATE SET `+set.String(), r.values...)
		if err != nil {
			return 0, err
		}
		_, err = tx.Exec(ctx, `UPDATE cluster_sync SET
			instance_count = (SELECT count(*) FROM cluster_instances WHERE cluster_id = $1),
			running_count = (SELECT count(*) FROM cluster_instances WHERE cluster_id = $1 AND oper_state)
			WHERE cluster_id = $1`, in.ClusterID)
		return 1, err
	})
	if err != nil {
		return false, mapErr("put cached instance", err)
	}
	return changed, nil
}

// DeleteCachedInstance removes one instance from a cluster's cache (it is
// gone from the cluster) and bumps the data version when it was there.
func (s *Store) DeleteCachedInstance(ctx context.Context, clusterID int64, name string) (bool, error) {
	changed, err := s.inClusterTx(ctx, clusterID, func(tx pgx.Tx) (int, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM cluster_instances WHERE cluster_id = $1 AND name = $2`, clusterID, name)
		if err != nil || tag.RowsAffected() == 0 {
			return 0, err
		}
		_, err = tx.Exec(ctx, `UPDATE cluster_sync SET
			instance_count = (SELECT count(*) FROM cluster_instances WHERE cluster_id = $1),
			running_count = (SELECT count(*) FROM cluster_instances WHERE cluster_id = $1 AND oper_state)
			WHERE cluster_id = $1`, clusterID)
		return 1, err
	})
	if err != nil {
		return false, mapErr("delete cached instance", err)
	}
	return changed, nil
}

// inClusterTx runs fn in a transaction holding the cluster's cluster_sync
// row lock, which serializes every writer of one cluster's cache (a full
// sync and targeted refreshes from any replica). When fn reports changes,
// the data version is bumped before commit.
func (s *Store) inClusterTx(ctx context.Context, clusterID int64, fn func(pgx.Tx) (int, error)) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	if err := lockClusterSync(ctx, tx, clusterID); err != nil {
		return false, err
	}
	n, err := fn(tx)
	if err != nil {
		return false, err
	}
	if n > 0 {
		if _, err := tx.Exec(ctx, `UPDATE cluster_sync SET data_version = nextval('cluster_data_version_seq'),
			data_changed_at = now() WHERE cluster_id = $1`, clusterID); err != nil {
			return false, err
		}
	}
	return n > 0, tx.Commit(ctx)
}

// lockClusterSync creates the cluster's status row if needed and locks it
// for the rest of the transaction. A deleted cluster gives ErrNotFound.
func lockClusterSync(ctx context.Context, tx pgx.Tx, clusterID int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO cluster_sync (cluster_id) VALUES ($1) ON CONFLICT DO NOTHING`, clusterID); err != nil {
		return err
	}
	var id int64
	return tx.QueryRow(ctx, `SELECT cluster_id FROM cluster_sync WHERE cluster_id = $1 FOR UPDATE`, clusterID).Scan(&id)
}

// InstanceSort names a sort order of the instance list. Every order ends
// with the instance name and the cluster id, which makes it total (needed
// for keyset pagination).
type InstanceSort string

// Instance list orders.
const (
	SortByName    InstanceSort = "name"
	SortByCluster InstanceSort = "cluster"
	SortByStatus  InstanceSort = "status"
	SortByMemory  InstanceSort = "memory"
	SortByVCPUs   InstanceSort = "vcpus"
	SortByNode    InstanceSort = "node"
)

// sortKey returns the SQL expression of a sort's leading key ("" for name)
// and whether it is an integer.
func (o InstanceSort) sortKey() (expr string, numeric bool, ok bool) {
	switch o {
	case SortByName, "":
		return "", false, true
	case SortByCluster:
		return "c.slug", false, true
	case SortByStatus:
		return "i.status", false, true
	case SortByMemory:
		return "i.memory_mb", true, true
	case SortByVCPUs:
		return "i.vcpus", true, true
	case SortByNode:
		return "i.pnode", false, true
	}
	return "", false, false
}

// InstanceQuery selects a page of the instances a user may see.
type InstanceQuery struct {
	// UserID is the user asking. Without All, only instances whose owner
	// users hold the user's username, or whose owner groups meet the
	// groups the user belongs to, are returned.
	UserID int64
	// All returns every instance; the caller sets it after checking
	// auth.ViewInstances (superusers hold every permission).
	All bool
	// ClusterIDs restricts to these clusters (none: all).
	ClusterIDs []int64
	// Statuses restricts to these Ganeti statuses (none: all).
	Statuses []string
	// Search keeps instances where every whitespace-separated term is a
	// case-insensitive substring of the name, an IP or MAC address, an
	// owner user or group, a node, or the cluster slug.
	Search string
	// Sort and Desc give the order (default by name, ascending).
	Sort InstanceSort
	Desc bool
	// After is the Next cursor of the previous page ("" for the first).
	After string
	// Limit is the page size (default 50, at most 1000).
	Limit int
	// KeysOnly fills only what identifies, orders and groups each row
	// (cluster id and slug, name, status, primary node, node group, memory,
	// vCPUs and ContentHash): for pages that keep rendered rows by content
	// hash and load the full rows (InstancesByKey) only for those they
	// have not rendered yet.
	KeysOnly bool
	// IncludeDisabled also returns instances of disabled clusters.
	IncludeDisabled bool
}

// InstancePage is one page of instances. Next is the cursor of the next
// page, "" on the last.
type InstancePage struct {
	Instances []*CachedInstance
	Next      string
}

// instanceCursor is the position after the last row of a page.
type instanceCursor struct {
	Sort    InstanceSort `json:"s"`
	Desc    bool         `json:"d,omitempty"`
	Key     string       `json:"k,omitempty"`
	Num     int64        `json:"n,omitempty"`
	Name    string       `json:"i"`
	Cluster int64        `json:"c"`
}

func (c instanceCursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and numbers always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeInstanceCursor(s string) (instanceCursor, error) {
	var c instanceCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 {
		return c, fmt.Errorf("store: invalid page cursor")
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("store: invalid page cursor")
	}
	return c, nil
}

// escapeLike escapes LIKE's wildcards and its escape character.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// maxSearchTerms bounds the terms of InstanceQuery.Search.
const maxSearchTerms = 8

// VisibleInstances returns one page of the instances q.UserID may see,
// filtered, searched and sorted in SQL, with keyset pagination (no OFFSET:
// each page costs the same, and rows changing between pages neither repeat
// nor vanish except for the changed ones). An invalid Sort gives an error,
// and so does a cursor of another sort.
func (s *Store) VisibleInstances(ctx context.Context, q InstanceQuery) (*InstancePage, error) {
	if q.Sort == "" {
		q.Sort = SortByName
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	sql, args, err := visibleInstancesSQL(q, limit)
	if err != nil {
		return nil, err
	}

	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr("visible instances", err)
	}
	defer rows.Close()
	scan := scanInstance
	if q.KeysOnly {
		scan = scanInstanceKey
	}
	page := &InstancePage{Instances: make([]*CachedInstance, 0, limit)}
	for rows.Next() {
		in, err := scan(rows)
		if err != nil {
			return nil, mapErr("visible instances", err)
		}
		page.Instances = append(page.Instances, in)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("visible instances", err)
	}
	if len(page.Instances) > limit {
		page.Instances = page.Instances[:limit]
		page.Next = InstanceCursor(page.Instances[limit-1], q.Sort, q.Desc)
	}
	return page, nil
}

// visibleClause is the visibility predicate for the user whose id is the
// SQL parameter uid: instances tagged for the user, or for a group the user
// belongs to; an inactive user sees nothing. The scalar subqueries become
// init plans, so their values are known when the GIN indexes on the owner
// arrays are searched.
func visibleClause(uid string) string {
	return `(i.owner_users @> ARRAY[(SELECT username FROM users WHERE id = ` + uid + ` AND is_active)]
		OR i.owner_groups && ARRAY(SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id
			JOIN users u ON u.id = m.user_id WHERE m.user_id = ` + uid + ` AND u.is_active))`
}

// visibleInstancesSQL builds VisibleInstances' query for a page of limit
// rows. Only fixed fragments enter the SQL text; every value is a
// parameter.
func visibleInstancesSQL(q InstanceQuery, limit int) (string, []any, error) {
	keyExpr, numeric, ok := q.Sort.sortKey()
	if !ok {
		return "", nil, fmt.Errorf("store: unknown instance sort %q", q.Sort)
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.IncludeDisabled {
		where = append(where, "NOT c.disabled")
	}
	if !q.All {
		where = append(where, visibleClause(arg(q.UserID)))
	}
	if len(q.ClusterIDs) > 0 {
		where = append(where, "i.cluster_id = ANY("+arg(q.ClusterIDs)+")")
	}
	if len(q.Statuses) > 0 {
		where = append(where, "i.status = ANY("+arg(q.Statuses)+")")
	}
	terms := strings.Fields(strings.ToLower(q.Search))
	if len(terms) > maxSearchTerms {
		terms = terms[:maxSearchTerms]
	}
	for _, t := range terms {
		p := arg("%" + escapeLike(t) + "%")
		where = append(where, "(i.search_text LIKE "+p+" OR c.slug LIKE "+p+")")
	}

	dir, cmp := "", ">"
	if q.Desc {
		dir, cmp = " DESC", "<"
	}
	order := "i.name" + dir + ", i.cluster_id" + dir
	if keyExpr != "" {
		order = keyExpr + dir + ", " + order
	}
	if q.After != "" {
		cur, err := decodeInstanceCursor(q.After)
		if err != nil {
			return "", nil, err
		}
		if cur.Sort != q.Sort || cur.Desc != q.Desc {
			return "", nil, fmt.Errorf("store: page cursor of another order")
		}
		var tuple string
		switch {
		case keyExpr == "":
			tuple = "(i.name, i.cluster_id) " + cmp + " (" + arg(cur.Name) + ", " + arg(cur.Cluster) + ")"
		case numeric:
			k := arg(cur.Num)
			tuple = "(" + keyExpr + ", i.name, i.cluster_id) " + cmp + " (" + k + ", " + arg(cur.Name) + ", " + arg(cur.Cluster) + ")"
		default:
			k := arg(cur.Key)
			tuple = "(" + keyExpr + ", i.name, i.cluster_id) " + cmp + " (" + k + ", " + arg(cur.Name) + ", " + arg(cur.Cluster) + ")"
		}
		where = append(where, tuple)
	}
	sel := instanceSelect
	if q.KeysOnly {
		sel = instanceKeySelect
	}
	sql := `SELECT ` + sel + ` FROM cluster_instances i JOIN clusters c ON c.id = i.cluster_id`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	// One row more than the page tells whether there is a next page.
	sql += " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit+1)
	return sql, args, nil
}
