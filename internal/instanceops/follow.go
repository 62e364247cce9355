package instanceops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Queue is the river queue the follow jobs run in.
const Queue = "instance_jobs"

// Follow timing.
const (
	// followTimeout bounds one run of a follow job (below the queue's
	// RescueStuckJobsAfter).
	followTimeout = 5 * time.Minute
	// followSlice is how long one run follows a Ganeti job before it hands
	// over to a new run, which resumes at once after the follow jobs
	// waiting meanwhile: a few workers follow any number of jobs.
	followSlice = 30 * time.Second
	// unreachableSnooze is the pause after the cluster could not be
	// reached.
	unreachableSnooze = 15 * time.Second
	// followMaxAttempts bounds the runs that end in an error (a database
	// failure); pauses for an unreachable cluster do not count.
	followMaxAttempts = 25
)

// pollSchedule is the interval sequence of following a job by polling
// when the job wait resource is refused (as ganetimgr's watcher).
var pollSchedule = []time.Duration{500 * time.Millisecond, time.Second, time.Second, 2 * time.Second,
	2 * time.Second, 2 * time.Second, 5 * time.Second}

// FollowArgs is the river job that follows one tracked job until it ends.
type FollowArgs struct {
	TrackedID int64 `json:"tracked_id"`
}

// Kind returns the job kind, "instance_job_follow".
func (FollowArgs) Kind() string { return "instance_job_follow" }

// InsertOpts puts the job in the Queue queue.
func (FollowArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: followMaxAttempts}
}

// FollowWorker is the river worker of FollowArgs. It follows the Ganeti
// job (long-polling the job wait resource, or polling the job with the
// intervals 0.5, 1, 1, 2, 2, 2, 5, 5 ... s when the wait is refused),
// stores its status and log lines in the tracked row as they come, and
// when the job ends refreshes the instance in the cluster cache at once
// (for a rename the old and the new name), clears needsreboot after a
// successful reboot, finishes the row and audits InstanceJobEnd (ok or
// failed, with Ganeti's message). A row left "submitting" is resolved by
// looking for its reason marker among the cluster's jobs; when none turns
// up within the grace period the row is finished as lost.
//
// The worker is registered with the queue before the Service exists (the
// Service needs the queue's client); Bind gives it the Service before the
// queue starts.
type FollowWorker struct {
	river.WorkerDefaults[FollowArgs]
	svc atomic.Pointer[Service]
}

// NewFollowWorker returns the worker of s (nil: bind it later).
func NewFollowWorker(s *Service) *FollowWorker {
	w := &FollowWorker{}
	if s != nil {
		w.svc.Store(s)
	}
	return w
}

// Bind gives the worker the Service it works for.
func (w *FollowWorker) Bind(s *Service) { w.svc.Store(s) }

// Timeout bounds one run.
func (w *FollowWorker) Timeout(*river.Job[FollowArgs]) time.Duration { return followTimeout }

// Work runs one follow job.
func (w *FollowWorker) Work(ctx context.Context, job *river.Job[FollowArgs]) error {
	s := w.svc.Load()
	if s == nil {
		return errors.New("instanceops: follow worker not bound to a service")
	}
	err := s.follow(ctx, job.Args.TrackedID)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// Shutting down: resume at once in the next process.
		return river.JobSnooze(0)
	}
	return err
}

// followTx inserts, inside the caller's transaction, the follow job of a
// tracked job, to run at at (zero: now).
func (s *Service) followTx(id int64, at time.Time) store.TxFunc {
	return func(ctx context.Context, tx pgx.Tx) error {
		opts := FollowArgs{}.InsertOpts()
		opts.ScheduledAt = at
		if _, err := s.queue.InsertTx(ctx, tx, FollowArgs{TrackedID: id}, &opts); err != nil {
			return fmt.Errorf("instanceops: queue the follow job: %w", err)
		}
		return nil
	}
}

// follow is one run of a follow job.
func (s *Service) follow(ctx context.Context, id int64) error {
	j, err := s.st.InstanceJobByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // purged, or dropped before its call
	}
	if err != nil {
		return err
	}
	if j.Finished() {
		return nil
	}
	c, err := s.st.ClusterByID(ctx, j.ClusterID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the cluster is gone, and its rows with it
	}
	if err != nil {
		return err
	}
	cl, err := s.clients.RAPI(c)
	if err != nil {
		s.log.ErrorContext(ctx, "no RAPI client to follow a job", "cluster", c.Slug, "tracked", j.ID, "error", err)
		if s.now().Sub(j.UpdatedAt) > 30*s.grace {
			return s.finish(ctx, j, store.JobLost, "The cluster's RAPI client could not be built to follow the job.", nil)
		}
		return river.JobSnooze(time.Minute)
	}
	if j.JobID == 0 {
		if j, err = s.resolve(ctx, j, cl); err != nil || j == nil {
			return err
		}
	}
	return s.followJob(ctx, j, cl)
}

// resolve looks for the Ganeti job of a row left "submitting" by its
// reason marker. It returns the row with its job id once found, or nil
// and what the run returns: a pause while the grace period lasts, nil
// once the row is finished as lost.
func (s *Service) resolve(ctx context.Context, j *store.InstanceJob, cl RAPI) (*store.InstanceJob, error) {
	age := s.now().Sub(j.CreatedAt)
	marker := Marker(j.Username, Kind(j.Kind), j.ID)
	jobs, err := cl.JobsBulk(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if age > 30*s.grace {
			return nil, s.finish(ctx, j, store.JobLost, "The cluster could not be reached to find the job of this action.", nil)
		}
		s.log.WarnContext(ctx, "cannot list the cluster's jobs; will retry", "cluster", j.ClusterSlug, "tracked", j.ID, "error", err)
		return nil, river.JobSnooze(unreachableSnooze)
	}
	if found := findMarked(jobs, marker); found != 0 {
		s.log.InfoContext(ctx, "found the job of an unrecorded call", "tracked", j.ID, "job", found)
		out, err := s.st.SetInstanceJobID(ctx, j.ID, int64(found))
		if errors.Is(err, store.ErrJobFinished) {
			return nil, nil
		}
		return out, err
	}
	if age < s.grace {
		return nil, river.JobSnooze(min(s.grace-age, 10*time.Second) + 100*time.Millisecond)
	}
	return nil, s.finish(ctx, j, store.JobLost, "The cluster never started a job for this action.", nil)
}

// findMarked returns the newest job whose reason trail carries marker, 0
// when there is none.
func findMarked(jobs []rapi.Job, marker string) rapi.JobID {
	var found rapi.JobID
	for i := range jobs {
		j := &jobs[i]
		for _, op := range j.Ops {
			var o struct {
				Reason [][]json.RawMessage `json:"reason"`
			}
			if json.Unmarshal(op.Raw, &o) != nil {
				continue
			}
			if slices.ContainsFunc(o.Reason, func(r []json.RawMessage) bool {
				var text string
				return len(r) > 1 && json.Unmarshal(r[1], &text) == nil && text == marker
			}) && j.ID > found {
				found = j.ID
			}
		}
	}
	return found
}

// followJob follows the row's Ganeti job for at most followSlice.
func (s *Service) followJob(ctx context.Context, j *store.InstanceJob, cl RAPI) error {
	id := rapi.JobID(j.JobID)
	fctx, cancel := context.WithTimeout(ctx, followSlice)
	defer cancel()
	p := &progress{j: j, status: j.Status}
	for _, l := range j.Log {
		p.serial = max(p.serial, l.Serial)
	}
	var prev []json.RawMessage
	poll := false
	for i := 0; ; i++ {
		if poll {
			if err := sleep(fctx, pollSchedule[min(i, len(pollSchedule)-1)]); err != nil {
				return s.followErr(ctx, j, err)
			}
			job, err := cl.Job(fctx, id)
			if err != nil {
				return s.followErr(ctx, j, err)
			}
			if done, err := s.progressed(ctx, p, cl, job); done || err != nil {
				return err
			}
			continue
		}
		start := time.Now()
		ch, err := cl.WaitForJobChange(fctx, id, []string{"status"}, prev, p.serial)
		if err != nil {
			if waitRefused(err) {
				poll, i = true, -1
				continue
			}
			return s.followErr(ctx, j, err)
		}
		var st rapi.JobStatus
		if ch != nil {
			prev, st = ch.JobInfo, ch.Status()
			if err := s.store(ctx, p, string(st), p.fresh(ch.LogEntries)); err != nil {
				return err
			}
		}
		if ch == nil || st == "" || st.Finalized() {
			job, err := cl.Job(fctx, id)
			if err != nil {
				return s.followErr(ctx, j, err)
			}
			if done, err := s.progressed(ctx, p, cl, job); done || err != nil {
				return err
			}
		}
		// Guard against a server answering at once without a change.
		if time.Since(start) < 200*time.Millisecond {
			if err := sleep(fctx, 200*time.Millisecond); err != nil {
				return s.followErr(ctx, j, err)
			}
		}
	}
}

// progress is what a follow run has stored of its job.
type progress struct {
	j      *store.InstanceJob
	status string
	serial int64
}

// fresh converts the log entries newer than those stored.
func (p *progress) fresh(entries []rapi.LogEntry) []store.JobLogLine {
	var out []store.JobLogLine
	for _, e := range entries {
		if e.Serial <= p.serial {
			continue
		}
		p.serial = e.Serial
		out = append(out, store.JobLogLine{Serial: e.Serial, Time: e.Time.Time, Type: e.Type, Message: e.Message})
	}
	return out
}

// store records a running job's new status and log lines, if any.
func (s *Service) store(ctx context.Context, p *progress, status string, lines []store.JobLogLine) error {
	if rapi.JobStatus(status).Finalized() || status == p.status {
		status = ""
	}
	if status == "" && len(lines) == 0 {
		return nil
	}
	err := s.st.UpdateInstanceJob(ctx, p.j.ID, status, lines)
	if errors.Is(err, store.ErrJobFinished) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err == nil && status != "" {
		p.status = status
	}
	return err
}

// progressed stores what the full job says and, when it has ended,
// finishes the row (done).
func (s *Service) progressed(ctx context.Context, p *progress, cl RAPI, job *rapi.Job) (bool, error) {
	lines := p.fresh(job.Log())
	if !job.Finalized() {
		return false, s.store(ctx, p, string(job.Status), lines)
	}
	msg := ""
	var je *rapi.JobError
	if errors.As(job.Err(), &je) {
		msg = je.Summary()
	}
	if job.Status == rapi.JobStatusSuccess && Kind(p.j.Kind) == Reboot {
		s.clearNeedsReboot(ctx, p.j, cl)
	}
	return true, s.finish(ctx, p.j, string(job.Status), msg, lines)
}

// followErr is what a follow run returns after a failed RAPI call.
func (s *Service) followErr(ctx context.Context, j *store.InstanceJob, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		// The run's slice is over: resume at once in a new run.
		return river.JobSnooze(0)
	case rapi.IsNotFound(err):
		return s.finish(ctx, j, store.JobLost, fmt.Sprintf("Ganeti job %d is no longer known to the cluster.", j.JobID), nil)
	case rapi.IsUnavailable(err):
		s.log.WarnContext(ctx, "cannot reach the cluster to follow a job; will retry", "cluster", j.ClusterSlug,
			"tracked", j.ID, "job", j.JobID, "error", err)
		return river.JobSnooze(unreachableSnooze)
	}
	return err
}

// waitRefused reports whether the job wait resource refused the call (a
// read-only RAPI user, an old or odd server): follow by polling instead.
func waitRefused(err error) bool {
	var ae *rapi.APIError
	if !errors.As(err, &ae) {
		return errors.Is(err, rapi.ErrTimeout)
	}
	switch ae.Code {
	case http.StatusForbidden, http.StatusNotImplemented, http.StatusMethodNotAllowed, http.StatusBadRequest,
		http.StatusInternalServerError:
		return true
	}
	return false
}

// finish ends a tracked job: it refreshes the instance in the cluster
// cache first (so that the finished row and the fresh state show
// together; for a rename also the new name), then finishes the row and
// audits InstanceJobEnd in one transaction. A row someone else finished is
// left alone.
func (s *Service) finish(ctx context.Context, j *store.InstanceJob, status, msg string, lines []store.JobLogLine) error {
	s.refreshInstance(ctx, j.ClusterID, j.Instance)
	if Kind(j.Kind) == Rename && j.Detail != "" && j.Detail != j.Instance {
		s.refreshInstance(ctx, j.ClusterID, j.Detail)
	}
	outcome := audit.OK
	if status != "success" {
		outcome = audit.Failed
	}
	detail := j.Kind + ": " + status
	if j.Detail != "" {
		detail += " (" + j.Detail + ")"
	}
	if msg != "" {
		detail += ": " + msg
	}
	e := audit.Entry{Actor: audit.Actor{UserID: j.UserID, Username: j.Username}, Action: audit.InstanceJobEnd,
		Outcome: outcome, ClusterID: j.ClusterID, ClusterSlug: j.ClusterSlug, Instance: j.Instance,
		ApplicationID: j.ApplicationID, JobID: j.JobID, Detail: detail}
	_, err := s.st.FinishInstanceJob(ctx, j.ID, status, msg, lines, s.audit.Then(e))
	if errors.Is(err, store.ErrJobFinished) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "instance job ended", "cluster", j.ClusterSlug, "instance", j.Instance, "kind", j.Kind,
		"tracked", j.ID, "job", j.JobID, "status", status, "message", msg)
	return nil
}

// clearNeedsReboot removes the needsreboot tag after a successful reboot
// and waits for that (short) job; a failure is logged.
func (s *Service) clearNeedsReboot(ctx context.Context, j *store.InstanceJob, cl RAPI) {
	tag := s.codec.NeedsReboot()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tags, err := cl.InstanceTags(cctx, j.Instance)
	if err == nil && !slices.Contains(tags, tag) {
		return
	}
	var id rapi.JobID
	if err == nil {
		id, err = cl.DeleteInstanceTags(rapi.WithReason(cctx, Marker(j.Username, Reboot, j.ID)), j.Instance, []string{tag})
	}
	if err == nil {
		_, err = cl.WaitJob(cctx, id)
	}
	if err != nil {
		s.log.WarnContext(ctx, "clearing needsreboot after the reboot failed", "instance", j.Instance, "error", err)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
