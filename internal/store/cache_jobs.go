package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Bounds of the recent jobs kept per cluster.
const (
	// MaxCachedJobs is the number of most recent jobs kept per cluster.
	MaxCachedJobs = 500
	// CachedJobsMaxAge is the age after which finished jobs are dropped.
	CachedJobsMaxAge = 7 * 24 * time.Hour
	// MaxJobLogEntries is the number of log entries kept per job (the
	// last ones).
	MaxJobLogEntries = 200
	// MaxJobLogBytes bounds the total size of the messages kept per job.
	MaxJobLogBytes = 64 << 10
)

// JobLogEntry is one log line of a job (an entry of Ganeti's oplog).
// Message is the text of a "message" entry, the JSON of the payload for
// other types.
type JobLogEntry struct {
	Serial  int64     `json:"serial"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Message string    `json:"message"`
}

// CachedJob is one recent Ganeti job of a cluster (table cluster_jobs).
type CachedJob struct {
	ClusterID int64
	ID        int64
	Status    string
	Summary   []string
	OpIDs     []string
	OpStatus  []string
	Instances []string // instances the opcodes act on
	Ops       []byte   // JSON list of opcodes (bounded), may be nil
	OpResult  []byte   // JSON list of opcode results, may be nil
	Error     string   // the failure of an "error" job
	// Log is the job's log, oldest first, bounded by the syncer (the last
	// MaxJobLogEntries entries, MaxJobLogBytes of messages). Only
	// CachedJobBySlug loads it.
	Log        []JobLogEntry
	ReceivedAt time.Time
	StartedAt  time.Time
	EndedAt    time.Time
}

var jobsTable = cacheTable{
	name: "cluster_jobs", key: "job_id", keepVanished: true,
	columns: []string{"cluster_id", "job_id", "status", "summary", "op_ids", "op_status", "instances", "ops",
		"op_result", "error", "received_at", "started_at", "ended_at", "log", "content_hash"},
}

func (j *CachedJob) row(clusterID int64) cacheRow {
	h := newHasher()
	h.i64(j.ID)
	h.str(j.Status)
	h.strs(j.Summary)
	h.strs(j.OpIDs)
	h.strs(j.OpStatus)
	h.strs(j.Instances)
	h.bytes(j.Ops)
	h.bytes(j.OpResult)
	h.str(j.Error)
	var logJSON []byte
	if len(j.Log) > 0 {
		logJSON, _ = json.Marshal(j.Log) // plain data: cannot fail
	}
	h.bytes(logJSON)
	h.time(j.ReceivedAt)
	h.time(j.StartedAt)
	h.time(j.EndedAt)
	sum := h.sum()
	return cacheRow{key: strconv.FormatInt(j.ID, 10), hash: sum, values: []any{clusterID, j.ID, j.Status,
		nonNil(j.Summary), nonNil(j.OpIDs), nonNil(j.OpStatus), nonNil(j.Instances), nullJSON(j.Ops),
		nullJSON(j.OpResult), j.Error, nullTime(j.ReceivedAt), nullTime(j.StartedAt), nullTime(j.EndedAt), nullJSON(logJSON), sum}}
}

// pruneJobs keeps the newest MaxCachedJobs jobs of a cluster and drops
// finished jobs older than CachedJobsMaxAge.
func pruneJobs(ctx context.Context, tx pgx.Tx, clusterID int64) (int, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM cluster_jobs j WHERE j.cluster_id = $1 AND (
		j.job_id < (SELECT job_id FROM cluster_jobs WHERE cluster_id = $1 ORDER BY job_id DESC OFFSET $2 - 1 LIMIT 1)
		OR (j.status IN ('success', 'error', 'canceled')
			AND coalesce(j.ended_at, j.received_at) < now() - make_interval(secs => $3)))`,
		clusterID, MaxCachedJobs, CachedJobsMaxAge.Seconds())
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// CachedJobs returns a cluster's cached jobs (all clusters when clusterID
// is 0), newest first, at most limit (default 100).
func (s *Store) CachedJobs(ctx context.Context, clusterID int64, limit int) ([]*CachedJob, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT cluster_id, job_id, status, summary, op_ids, op_status, instances,
		coalesce(ops::text, ''), coalesce(op_result::text, ''), error, received_at, started_at, ended_at
		FROM cluster_jobs WHERE $1 = 0 OR cluster_id = $1
		ORDER BY received_at DESC NULLS LAST, cluster_id, job_id DESC LIMIT $2`, clusterID, limit)
	if err != nil {
		return nil, mapErr("cached jobs", err)
	}
	defer rows.Close()
	var out []*CachedJob
	for rows.Next() {
		j := &CachedJob{}
		var ops, res string
		var recv, start, end *time.Time
		if err := rows.Scan(&j.ClusterID, &j.ID, &j.Status, &j.Summary, &j.OpIDs, &j.OpStatus, &j.Instances,
			&ops, &res, &j.Error, &recv, &start, &end); err != nil {
			return nil, mapErr("cached jobs", err)
		}
		if ops != "" {
			j.Ops = []byte(ops)
		}
		if res != "" {
			j.OpResult = []byte(res)
		}
		j.ReceivedAt, j.StartedAt, j.EndedAt = scanTime(recv), scanTime(start), scanTime(end)
		out = append(out, j)
	}
	return out, mapErr("cached jobs", rows.Err())
}
