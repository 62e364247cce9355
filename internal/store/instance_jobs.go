package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstanceJob is one tracked change of an instance: the Ganeti job an
// action started, followed in the background until it ends (table
// instance_jobs). At most one unfinished job exists per instance.
type InstanceJob struct {
	ID          int64
	ClusterID   int64
	ClusterSlug string // filled by the queries (join), read only
	Instance    string
	Kind        string // instanceops.Kind
	Detail      string // e.g. the new name, the OS image, the changed settings
	UserID      int64  // 0: the system
	Username    string
	// ApplicationID is set for the creation job of an application.
	ApplicationID int64
	// JobID is the Ganeti job id, 0 while the RAPI call is in flight.
	JobID int64
	// Status is JobSubmitting, then Ganeti's job status (queued, waiting,
	// running, canceling, success, error, canceled), or JobLost.
	Status string
	// Log holds the job's log lines as they arrive (the last
	// MaxInstanceJobLog).
	Log []JobLogLine
	// Error is Ganeti's error message when the job (or the call) failed.
	Error      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// JobLogLine is one log line of a Ganeti job.
type JobLogLine struct {
	Serial  int64     `json:"serial"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Message string    `json:"message"`
}

// Statuses of a tracked job besides Ganeti's own job statuses.
const (
	// JobSubmitting: the RAPI call that starts the job is in flight (or
	// its process died during it).
	JobSubmitting = "submitting"
	// JobLost: the call's job was never found on the cluster.
	JobLost = "lost"
)

// MaxInstanceJobLog bounds the log lines kept per tracked job.
const MaxInstanceJobLog = 200

// maxJobError bounds a stored error message, in characters.
const maxJobError = 8000

// Finished reports whether the job has ended (success, error, canceled or
// lost).
func (j *InstanceJob) Finished() bool { return j != nil && j.FinishedAt != nil }

// FinalJobStatus reports whether status ends a tracked job.
func FinalJobStatus(status string) bool {
	switch status {
	case "success", "error", "canceled", JobLost:
		return true
	}
	return false
}

// ErrJobFinished is returned when a tracked job that has already ended is
// changed. It matches ErrConflict.
var ErrJobFinished = fmt.Errorf("%w: the job has already finished", ErrConflict)

const instanceJobSelect = `SELECT j.id, j.cluster_id, c.slug, j.instance, j.kind, j.detail, coalesce(j.user_id, 0),
	j.username, coalesce(j.application_id, 0), coalesce(j.job_id, 0), j.status, j.log::text, j.error,
	j.created_at, j.updated_at, j.finished_at
	FROM instance_jobs j JOIN clusters c ON c.id = j.cluster_id`

func scanInstanceJob(row pgx.Row) (*InstanceJob, error) {
	j := &InstanceJob{}
	var log string
	err := row.Scan(&j.ID, &j.ClusterID, &j.ClusterSlug, &j.Instance, &j.Kind, &j.Detail, &j.UserID, &j.Username,
		&j.ApplicationID, &j.JobID, &j.Status, &log, &j.Error, &j.CreatedAt, &j.UpdatedAt, &j.FinishedAt)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(log), &j.Log); err != nil {
		return nil, fmt.Errorf("log of tracked job %d: %w", j.ID, err)
	}
	return j, nil
}

func collectInstanceJobs(op string, rows pgx.Rows, err error) ([]*InstanceJob, error) {
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []*InstanceJob
	for rows.Next() {
		j, err := scanInstanceJob(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, j)
	}
	return out, mapErr(op, rows.Err())
}

// ClaimInstanceJob records that an action is about to start a job on an
// instance: it inserts j (ClusterID, Instance, Kind, Detail, UserID,
// Username, ApplicationID) with status "submitting" and runs the work
// then builds for the new row in the same transaction. When the instance
// has an unfinished job already it gives ErrConflict and nothing is
// written.
func (s *Store) ClaimInstanceJob(ctx context.Context, j InstanceJob, then ...func(claimed *InstanceJob) TxFunc) (*InstanceJob, error) {
	var out *InstanceJob
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO instance_jobs (cluster_id, instance, kind, detail, user_id, username,
			application_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			j.ClusterID, j.Instance, j.Kind, j.Detail, nullID(j.UserID), j.Username, nullID(j.ApplicationID)).Scan(&id)
		if err != nil {
			return err
		}
		if out, err = scanInstanceJob(tx.QueryRow(ctx, instanceJobSelect+` WHERE j.id = $1`, id)); err != nil {
			return err
		}
		for _, fn := range then {
			if err := runTx(ctx, tx, []TxFunc{fn(out)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, instanceJobErr("claim instance job", err)
	}
	return out, nil
}

// instanceJobErr is mapErr passing the package's sentinel errors through.
func instanceJobErr(op string, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return mapErr(op, err)
}

// DropInstanceJob deletes a claimed job whose RAPI call was never made
// (status "submitting", no Ganeti job id), so the instance is free again.
// Any other row gives ErrNotFound.
func (s *Store) DropInstanceJob(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM instance_jobs WHERE id = $1 AND status = 'submitting' AND job_id IS NULL`, id)
	if err != nil {
		return mapErr("drop instance job", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetInstanceJobID records the Ganeti job of a claimed job (status
// "queued" unless Ganeti's status is already known) and runs then in the
// same transaction: the audit entry and the follower's queue job. A job
// that has finished gives ErrJobFinished; one that already has another
// job id gives ErrConflict.
func (s *Store) SetInstanceJobID(ctx context.Context, id, jobID int64, then ...TxFunc) (*InstanceJob, error) {
	var out *InstanceJob
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var finished bool
		var cur int64
		err := tx.QueryRow(ctx, `SELECT finished_at IS NOT NULL, coalesce(job_id, 0) FROM instance_jobs
			WHERE id = $1 FOR UPDATE`, id).Scan(&finished, &cur)
		switch {
		case err != nil:
			return err
		case finished:
			return ErrJobFinished
		case cur != 0 && cur != jobID:
			return fmt.Errorf("%w: tracked job %d already follows Ganeti job %d", ErrConflict, id, cur)
		}
		if _, err := tx.Exec(ctx, `UPDATE instance_jobs SET job_id = $2, updated_at = now(),
			status = CASE WHEN status = 'submitting' THEN 'queued' ELSE status END WHERE id = $1`, id, jobID); err != nil {
			return err
		}
		if out, err = scanInstanceJob(tx.QueryRow(ctx, instanceJobSelect+` WHERE j.id = $1`, id)); err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	if err != nil {
		return nil, instanceJobErr("set instance job id", err)
	}
	return out, nil
}

// UpdateInstanceJob records the progress of an unfinished job: its
// Ganeti status (not a final one; "" keeps it) and new log lines, appended
// to the stored ones, of which the last MaxInstanceJobLog are kept. A job
// that has finished gives ErrJobFinished.
func (s *Store) UpdateInstanceJob(ctx context.Context, id int64, status string, lines []JobLogLine) error {
	if FinalJobStatus(status) {
		return fmt.Errorf("store: update instance job: %q is a final status (use FinishInstanceJob)", status)
	}
	if lines == nil {
		lines = []JobLogLine{}
	}
	b, err := json.Marshal(lines)
	if err != nil {
		return fmt.Errorf("store: update instance job: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE instance_jobs SET updated_at = now(),
		status = CASE WHEN $2 = '' THEN status ELSE $2 END,
		log = `+boundedLog+` WHERE id = $1 AND finished_at IS NULL`, id, status, string(b), MaxInstanceJobLog)
	if err != nil {
		return mapErr("update instance job", err)
	}
	if tag.RowsAffected() == 0 {
		return s.whyNotUnfinished(ctx, id)
	}
	return nil
}

// boundedLog is the stored log ($3 appended to log, the last $4 lines).
const boundedLog = `(SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
		SELECT e, n FROM jsonb_array_elements(log || $3::jsonb) WITH ORDINALITY AS t(e, n)
		ORDER BY n DESC LIMIT $4) AS last)`

// whyNotUnfinished tells why no unfinished row id exists.
func (s *Store) whyNotUnfinished(ctx context.Context, id int64) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instance_jobs WHERE id = $1)`, id).Scan(&exists); err != nil {
		return mapErr("instance job", err)
	}
	if exists {
		return ErrJobFinished
	}
	return ErrNotFound
}

// FinishInstanceJob ends an unfinished job with a final status (success,
// error, canceled, lost), Ganeti's error message and its last log lines,
// and runs then in the same transaction (the audit entry of its end). A
// job that has finished already gives ErrJobFinished, and then is not run:
// exactly one caller finishes a job.
func (s *Store) FinishInstanceJob(ctx context.Context, id int64, status, errMsg string, lines []JobLogLine, then ...TxFunc) (*InstanceJob, error) {
	if !FinalJobStatus(status) {
		return nil, fmt.Errorf("store: finish instance job: %q is not a final status", status)
	}
	if r := []rune(errMsg); len(r) > maxJobError {
		errMsg = string(r[:maxJobError-1]) + "…"
	}
	if lines == nil {
		lines = []JobLogLine{}
	}
	b, err := json.Marshal(lines)
	if err != nil {
		return nil, fmt.Errorf("store: finish instance job: %w", err)
	}
	var out *InstanceJob
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE instance_jobs SET status = $2, error = $5, updated_at = now(),
			finished_at = now(), log = `+boundedLog+` WHERE id = $1 AND finished_at IS NULL`,
			id, status, string(b), MaxInstanceJobLog, errMsg)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM instance_jobs WHERE id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return ErrJobFinished
			}
			return ErrNotFound
		}
		if out, err = scanInstanceJob(tx.QueryRow(ctx, instanceJobSelect+` WHERE j.id = $1`, id)); err != nil {
			return err
		}
		return runTx(ctx, tx, then)
	})
	if err != nil {
		return nil, instanceJobErr("finish instance job", err)
	}
	return out, nil
}

// InstanceJobByID returns one tracked job.
func (s *Store) InstanceJobByID(ctx context.Context, id int64) (*InstanceJob, error) {
	j, err := scanInstanceJob(s.pool.QueryRow(ctx, instanceJobSelect+` WHERE j.id = $1`, id))
	return j, mapErr("instance job", err)
}

// LatestInstanceJob returns the most recent tracked job of an instance
// (running or finished); ErrNotFound when it never had one. Since a job
// can only be claimed while none is unfinished, an unfinished job is
// always the latest.
func (s *Store) LatestInstanceJob(ctx context.Context, clusterID int64, instance string) (*InstanceJob, error) {
	j, err := scanInstanceJob(s.pool.QueryRow(ctx, instanceJobSelect+`
		WHERE j.cluster_id = $1 AND j.instance = $2 ORDER BY j.id DESC LIMIT 1`, clusterID, instance))
	return j, mapErr("latest instance job", err)
}

// ActiveInstanceJob returns the unfinished job of an instance;
// ErrNotFound when there is none.
func (s *Store) ActiveInstanceJob(ctx context.Context, clusterID int64, instance string) (*InstanceJob, error) {
	j, err := scanInstanceJob(s.pool.QueryRow(ctx, instanceJobSelect+`
		WHERE j.cluster_id = $1 AND j.instance = $2 AND j.finished_at IS NULL`, clusterID, instance))
	return j, mapErr("active instance job", err)
}

// ActiveInstanceJobs returns every unfinished job (of every cluster when
// clusterID is 0), oldest first, for the lists' "action pending" labels.
func (s *Store) ActiveInstanceJobs(ctx context.Context, clusterID int64) ([]*InstanceJob, error) {
	rows, err := s.pool.Query(ctx, instanceJobSelect+`
		WHERE j.finished_at IS NULL AND ($1 = 0 OR j.cluster_id = $1) ORDER BY j.id`, clusterID)
	return collectInstanceJobs("active instance jobs", rows, err)
}

// InstanceJobsOf returns the newest tracked jobs of an instance (at most
// limit, default 20, at most 200), newest first.
func (s *Store) InstanceJobsOf(ctx context.Context, clusterID int64, instance string, limit int) ([]*InstanceJob, error) {
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	rows, err := s.pool.Query(ctx, instanceJobSelect+`
		WHERE j.cluster_id = $1 AND j.instance = $2 ORDER BY j.id DESC LIMIT $3`, clusterID, instance, limit)
	return collectInstanceJobs("instance jobs", rows, err)
}

// PurgeInstanceJobs deletes the jobs that finished before before and
// returns how many.
func (s *Store) PurgeInstanceJobs(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM instance_jobs WHERE finished_at < $1`, before)
	if err != nil {
		return 0, mapErr("purge instance jobs", err)
	}
	return tag.RowsAffected(), nil
}

// NodeGroupLocked reports whether a cluster's node group is tagged
// "locked" (maintenance); an unknown group is not.
func (s *Store) NodeGroupLocked(ctx context.Context, clusterID int64, group string) (bool, error) {
	var locked bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cluster_node_groups
		WHERE cluster_id = $1 AND name = $2 AND locked)`, clusterID, group).Scan(&locked)
	return locked, mapErr("node group locked", err)
}

// ClaimRefusalMailTx reports, inside tx, whether the administrators may be
// mailed now about a refused attempt of a user on an instance: true at
// most once per every for one user and instance (the time is recorded).
func ClaimRefusalMailTx(ctx context.Context, tx pgx.Tx, userID, clusterID int64, instance string, every time.Duration) (bool, error) {
	var at time.Time
	err := tx.QueryRow(ctx, `INSERT INTO instance_refusal_mails (user_id, cluster_id, instance) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, cluster_id, instance) DO UPDATE SET mailed_at = now()
		WHERE instance_refusal_mails.mailed_at <= now() - make_interval(secs => $4)
		RETURNING mailed_at`, userID, clusterID, instance, every.Seconds()).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapErr("claim refusal mail", err)
	}
	return true, nil
}

// LatestApplicationJob returns the most recent tracked creation job of an
// application (running or finished); ErrNotFound when it has none.
func (s *Store) LatestApplicationJob(ctx context.Context, applicationID int64) (*InstanceJob, error) {
	j, err := scanInstanceJob(s.pool.QueryRow(ctx, instanceJobSelect+`
		WHERE j.application_id = $1 ORDER BY j.id DESC LIMIT 1`, applicationID))
	return j, mapErr("latest application job", err)
}
