package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClusterInfo is a cluster's /2/info as cached in cluster_sync.
type ClusterInfo struct {
	Name                 string
	UUID                 string
	SoftwareVersion      string
	DefaultHypervisor    string
	EnabledHypervisors   []string
	EnabledDiskTemplates []string
	IPolicy              []byte // JSON
	DefaultIAllocator    string
	MasterNode           string
	CTime                time.Time
	MTime                time.Time
	Tags                 []string
}

func (ci *ClusterInfo) hash() int64 {
	h := newHasher()
	for _, s := range []string{ci.Name, ci.UUID, ci.SoftwareVersion, ci.DefaultHypervisor, ci.DefaultIAllocator, ci.MasterNode} {
		h.str(s)
	}
	h.strs(ci.EnabledHypervisors)
	h.strs(ci.EnabledDiskTemplates)
	h.bytes(ci.IPolicy)
	h.time(ci.CTime)
	h.time(ci.MTime)
	h.strs(ci.Tags)
	return h.sum()
}

// ClusterSnapshot is everything one sync read from a cluster. Info and
// Instances are always present; a resource named in Skipped could not be
// read this time, and its cached rows are kept as they are.
type ClusterSnapshot struct {
	ClusterID int64
	Info      ClusterInfo
	Instances []CachedInstance
	Nodes     []CachedNode
	Groups    []CachedNodeGroup
	Networks  []CachedNetwork
	Jobs      []CachedJob
	// Skipped names resources ("nodes", "groups", "networks", "jobs")
	// that were not read; Warning says why (recorded as the last error).
	Skipped []string
	Warning string
	// StartedAt is when the sync began, Duration how long reading took,
	// SyncedBy names the replica.
	StartedAt time.Time
	Duration  time.Duration
	SyncedBy  string
}

func (snap *ClusterSnapshot) skipped(resource string) bool {
	for _, s := range snap.Skipped {
		if s == resource {
			return true
		}
	}
	return false
}

// SaveResult tells what SaveClusterSnapshot changed.
type SaveResult struct {
	// Changed is the number of rows inserted, updated or deleted (plus one
	// when the cluster info changed).
	Changed int
	// DataVersion is the cluster's data version after the save.
	DataVersion int64
}

// SaveClusterSnapshot stores one sync's result in a single transaction:
// each cached table of the cluster is brought in line with the snapshot
// (unchanged rows are not written), the data version is bumped only when
// something changed, and the sync is recorded as a success. A deleted
// cluster gives ErrNotFound.
func (s *Store) SaveClusterSnapshot(ctx context.Context, snap *ClusterSnapshot) (SaveResult, error) {
	var res SaveResult
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, mapErr("save cluster snapshot", err)
	}
	defer tx.Rollback(ctx)
	if err := lockClusterSync(ctx, tx, snap.ClusterID); err != nil {
		return res, mapErr("save cluster snapshot", err)
	}
	id := snap.ClusterID
	n, err := saveSnapshotRows(ctx, tx, snap)
	if err != nil {
		return res, mapErr("save cluster snapshot", err)
	}
	info := &snap.Info
	infoHash := info.hash()
	tag, err := tx.Exec(ctx, `UPDATE cluster_sync SET cluster_name = $2, cluster_uuid = $3, software_version = $4,
		default_hypervisor = $5, enabled_hypervisors = $6, enabled_disk_templates = $7, ipolicy = $8,
		default_iallocator = $9, master_node = $10, cluster_ctime = $11, cluster_mtime = $12, cluster_tags = $13,
		info_hash = $14
		WHERE cluster_id = $1 AND info_hash <> $14`,
		id, info.Name, info.UUID, info.SoftwareVersion, info.DefaultHypervisor, nonNil(info.EnabledHypervisors),
		nonNil(info.EnabledDiskTemplates), nullJSON(info.IPolicy), info.DefaultIAllocator, info.MasterNode,
		nullTime(info.CTime), nullTime(info.MTime), nonNil(info.Tags), infoHash)
	if err != nil {
		return res, mapErr("save cluster snapshot", err)
	}
	n += int(tag.RowsAffected())

	running := 0
	for i := range snap.Instances {
		if snap.Instances[i].OperState {
			running++
		}
	}
	nodeCount := -1
	if !snap.skipped("nodes") {
		nodeCount = len(snap.Nodes)
	}
	err = tx.QueryRow(ctx, `UPDATE cluster_sync SET
			data_version = CASE WHEN $2 THEN nextval('cluster_data_version_seq') ELSE data_version END,
			data_changed_at = CASE WHEN $2 THEN now() ELSE data_changed_at END,
			last_attempt_at = $3, last_success_at = $3, last_error = $4,
			last_error_at = CASE WHEN $4 = '' THEN last_error_at ELSE $3 END,
			consecutive_failures = 0, last_duration_ms = $5, synced_by = $6,
			instance_count = $7, running_count = $8,
			node_count = CASE WHEN $9 < 0 THEN node_count ELSE $9 END
		WHERE cluster_id = $1 RETURNING data_version`,
		id, n > 0, snap.StartedAt, truncateText(snap.Warning, maxErrorText), snap.Duration.Milliseconds(),
		snap.SyncedBy, len(snap.Instances), running, nodeCount).Scan(&res.DataVersion)
	if err != nil {
		return res, mapErr("save cluster snapshot", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, mapErr("save cluster snapshot", err)
	}
	res.Changed = n
	return res, nil
}

// saveSnapshotRows replaces the rows of every resource the snapshot has.
func saveSnapshotRows(ctx context.Context, tx pgx.Tx, snap *ClusterSnapshot) (int, error) {
	id := snap.ClusterID
	total := 0
	add := func(what string, t cacheTable, rows []cacheRow) error {
		n, err := replaceRows(ctx, tx, t, id, rows)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		total += n
		return nil
	}
	if snap.skipped("nodes") || snap.skipped("groups") {
		// This sync could not place nodes in groups: take the instances'
		// groups from the cached nodes.
		groups := map[string]string{}
		r, err := tx.Query(ctx, `SELECT name, node_group FROM cluster_nodes WHERE cluster_id = $1`, id)
		if err != nil {
			return 0, err
		}
		for r.Next() {
			var n, g string
			if err := r.Scan(&n, &g); err != nil {
				r.Close()
				return 0, err
			}
			groups[n] = g
		}
		r.Close()
		if err := r.Err(); err != nil {
			return 0, err
		}
		for i := range snap.Instances {
			if in := &snap.Instances[i]; in.NodeGroup == "" {
				in.NodeGroup = groups[in.PNode]
			}
		}
	}
	rows := make([]cacheRow, 0, len(snap.Instances))
	for i := range snap.Instances {
		rows = append(rows, snap.Instances[i].row(id))
	}
	if err := add("instances", instancesTable, rows); err != nil {
		return 0, err
	}
	if !snap.skipped("nodes") {
		rows = rows[:0]
		for i := range snap.Nodes {
			rows = append(rows, snap.Nodes[i].row(id))
		}
		if err := add("nodes", nodesTable, rows); err != nil {
			return 0, err
		}
	}
	if !snap.skipped("groups") {
		rows = rows[:0]
		for i := range snap.Groups {
			rows = append(rows, snap.Groups[i].row(id))
		}
		if err := add("groups", groupsTable, rows); err != nil {
			return 0, err
		}
	}
	if !snap.skipped("networks") {
		rows = rows[:0]
		for i := range snap.Networks {
			rows = append(rows, snap.Networks[i].row(id))
		}
		if err := add("networks", networksTable, rows); err != nil {
			return 0, err
		}
	}
	if !snap.skipped("jobs") {
		rows = rows[:0]
		for i := range snap.Jobs {
			rows = append(rows, snap.Jobs[i].row(id))
		}
		if err := add("jobs", jobsTable, rows); err != nil {
			return 0, err
		}
		n, err := pruneJobs(ctx, tx, id)
		if err != nil {
			return 0, fmt.Errorf("prune jobs: %w", err)
		}
		total += n
	}
	return total, nil
}

// maxErrorText bounds the recorded error text.
const maxErrorText = 2000

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// RecordSyncFailure records a failed sync of a cluster: the attempt time,
// the error text (the caller makes sure it holds no secret) and one more
// consecutive failure. Cached data and its version stay as they are. A
// deleted cluster gives ErrNotFound.
func (s *Store) RecordSyncFailure(ctx context.Context, clusterID int64, at time.Time, duration time.Duration, by, errText string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO cluster_sync (cluster_id, last_attempt_at, last_error, last_error_at,
			consecutive_failures, last_duration_ms, synced_by)
		VALUES ($1, $2, $3, $2, 1, $4, $5)
		ON CONFLICT (cluster_id) DO UPDATE SET last_attempt_at = $2, last_error = $3, last_error_at = $2,
			consecutive_failures = cluster_sync.consecutive_failures + 1, last_duration_ms = $4, synced_by = $5`,
		clusterID, at, truncateText(errText, maxErrorText), duration.Milliseconds(), by)
	return mapErr("record sync failure", err)
}

// SyncStatus is the sync state and cached info of one registered cluster.
// A cluster no syncer has looked at yet has zero times and Since set to
// the cluster's creation time.
type SyncStatus struct {
	ClusterID           int64
	Slug                string
	Disabled            bool
	Demo                bool
	Since               time.Time
	LastAttemptAt       time.Time
	LastSuccessAt       time.Time
	LastError           string
	LastErrorAt         time.Time
	ConsecutiveFailures int
	LastDuration        time.Duration
	SyncedBy            string
	DataVersion         int64
	DataChangedAt       time.Time
	Info                ClusterInfo
	InstanceCount       int
	RunningCount        int
	NodeCount           int
}

const syncStatusSelect = `c.id, c.slug, c.disabled, c.demo, coalesce(s.since, c.created_at), s.last_attempt_at,
	s.last_success_at, coalesce(s.last_error, ''), s.last_error_at, coalesce(s.consecutive_failures, 0),
	coalesce(s.last_duration_ms, 0), coalesce(s.synced_by, ''), coalesce(s.data_version, 0), s.data_changed_at,
	coalesce(s.cluster_name, ''), coalesce(s.cluster_uuid, ''), coalesce(s.software_version, ''),
	coalesce(s.default_hypervisor, ''), coalesce(s.enabled_hypervisors, '{}'), coalesce(s.enabled_disk_templates, '{}'),
	coalesce(s.ipolicy::text, ''), coalesce(s.default_iallocator, ''), coalesce(s.master_node, ''),
	s.cluster_ctime, s.cluster_mtime, coalesce(s.cluster_tags, '{}'), coalesce(s.instance_count, 0),
	coalesce(s.running_count, 0), coalesce(s.node_count, 0)
	FROM clusters c LEFT JOIN cluster_sync s ON s.cluster_id = c.id`

func scanSyncStatus(row pgx.Row) (*SyncStatus, error) {
	st := &SyncStatus{}
	var attempt, success, errAt, changed, ctime, mtime *time.Time
	var ms int64
	var ipolicy string
	err := row.Scan(&st.ClusterID, &st.Slug, &st.Disabled, &st.Demo, &st.Since, &attempt, &success, &st.LastError,
		&errAt, &st.ConsecutiveFailures, &ms, &st.SyncedBy, &st.DataVersion, &changed,
		&st.Info.Name, &st.Info.UUID, &st.Info.SoftwareVersion, &st.Info.DefaultHypervisor,
		&st.Info.EnabledHypervisors, &st.Info.EnabledDiskTemplates, &ipolicy, &st.Info.DefaultIAllocator,
		&st.Info.MasterNode, &ctime, &mtime, &st.Info.Tags, &st.InstanceCount, &st.RunningCount, &st.NodeCount)
	if err != nil {
		return nil, err
	}
	st.LastAttemptAt, st.LastSuccessAt, st.LastErrorAt = scanTime(attempt), scanTime(success), scanTime(errAt)
	st.DataChangedAt, st.Info.CTime, st.Info.MTime = scanTime(changed), scanTime(ctime), scanTime(mtime)
	st.Since = st.Since.UTC()
	st.LastDuration = time.Duration(ms) * time.Millisecond
	if ipolicy != "" {
		st.Info.IPolicy = []byte(ipolicy)
	}
	return st, nil
}

// ClusterSyncStatuses returns the sync status of every registered cluster,
// ordered by slug.
func (s *Store) ClusterSyncStatuses(ctx context.Context) ([]*SyncStatus, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+syncStatusSelect+` ORDER BY c.slug`)
	if err != nil {
		return nil, mapErr("cluster sync statuses", err)
	}
	defer rows.Close()
	var out []*SyncStatus
	for rows.Next() {
		st, err := scanSyncStatus(rows)
		if err != nil {
			return nil, mapErr("cluster sync statuses", err)
		}
		out = append(out, st)
	}
	return out, mapErr("cluster sync statuses", rows.Err())
}

// ClusterSyncStatus returns the sync status of one cluster.
func (s *Store) ClusterSyncStatus(ctx context.Context, clusterID int64) (*SyncStatus, error) {
	st, err := scanSyncStatus(s.pool.QueryRow(ctx, `SELECT `+syncStatusSelect+` WHERE c.id = $1`, clusterID))
	return st, mapErr("cluster sync status", err)
}

// CacheVersion identifies the state of the whole cluster cache: it changes
// whenever any cluster's cached data changes, a cluster row is edited, or a
// cluster is added or deleted. Pages showing several clusters can key
// cached output by it.
type CacheVersion struct {
	MaxDataVersion int64
	Clusters       int
	MaxClusterID   int64
}

// String formats the version for use in a cache key.
func (v CacheVersion) String() string {
	return fmt.Sprintf("%d.%d.%d", v.MaxDataVersion, v.Clusters, v.MaxClusterID)
}

// ClusterCacheVersion returns the current CacheVersion (one cheap query).
func (s *Store) ClusterCacheVersion(ctx context.Context) (CacheVersion, error) {
	var v CacheVersion
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(s.data_version), 0), count(*), coalesce(max(c.id), 0)
		FROM clusters c LEFT JOIN cluster_sync s ON s.cluster_id = c.id`).Scan(&v.MaxDataVersion, &v.Clusters, &v.MaxClusterID)
	return v, mapErr("cluster cache version", err)
}
