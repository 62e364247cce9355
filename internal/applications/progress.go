package applications

import (
	"context"
	"errors"
	"time"

	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// TrackedKind is the kind of the tracked instance job that stands for an
// application's creation job (instanceops.Create): while it runs, the
// application's page shows the Ganeti job's progress live, and the new
// instance's actions wait for it.
const TrackedKind = "create"

// tracker records the progress of one creation job in its tracked
// instance job (table instance_jobs). Tracking is for display only: when
// it fails, the creation goes on and the failure is logged.
type tracker struct {
	s  *Service
	a  *store.Application
	id int64 // 0: not tracked
}

// track returns the tracker of the creation job jobID of a's current
// attempt on cluster c, claiming its tracked job, or taking over the one
// an earlier run of this attempt claimed.
func (s *Service) track(ctx context.Context, a *store.Application, c *store.Cluster, jobID rapi.JobID) *tracker {
	t := &tracker{s: s, a: a}
	claim := func() (*store.InstanceJob, error) {
		return s.st.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: c.ID, Instance: a.Hostname,
			Kind: TrackedKind, UserID: a.ApplicantID, Username: a.ApplicantUsername, ApplicationID: a.ID})
	}
	j, err := s.st.ActiveInstanceJob(ctx, c.ID, a.Hostname)
	switch {
	case errors.Is(err, store.ErrNotFound):
		j, err = claim()
	case err == nil && j.ApplicationID != a.ID:
		// Another job runs on the name: not this creation's to show.
		return t
	case err == nil && j.JobID != 0 && j.JobID != int64(jobID):
		// An earlier attempt's row left unfinished: close it first.
		(&tracker{s: s, a: a, id: j.ID}).finish(ctx, store.JobLost, "")
		j, err = claim()
	}
	if err == nil && j.JobID == 0 {
		j, err = s.st.SetInstanceJobID(ctx, j.ID, int64(jobID))
	}
	if err != nil {
		s.log.WarnContext(ctx, "tracking the creation job failed", "application", a.ID, "error", err)
		return t
	}
	t.id = j.ID
	return t
}

// log records one new line of the job's log (the job runs).
func (t *tracker) log(ctx context.Context, e rapi.LogEntry) {
	if t.id == 0 {
		return
	}
	line := store.JobLogLine{Serial: e.Serial, Time: e.Time.Time, Type: e.Type, Message: e.Message}
	if err := t.s.st.UpdateInstanceJob(ctx, t.id, "running", []store.JobLogLine{line}); err != nil &&
		!errors.Is(err, store.ErrJobFinished) {
		t.s.log.WarnContext(ctx, "recording the creation job's progress failed", "application", t.a.ID, "error", err)
	}
}

// finish ends the tracked job with a final status and Ganeti's message.
func (t *tracker) finish(ctx context.Context, status, msg string) {
	if t.id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := t.s.st.FinishInstanceJob(ctx, t.id, status, msg, nil); err != nil &&
		!errors.Is(err, store.ErrJobFinished) {
		t.s.log.WarnContext(ctx, "finishing the creation job's tracking failed", "application", t.a.ID, "error", err)
	}
}

// finishTracked ends the unfinished tracked creation job of a, if any
// (the application was settled without following its job to the end).
func (s *Service) finishTracked(ctx context.Context, a *store.Application, status, msg string) {
	j, err := s.st.LatestApplicationJob(ctx, a.ID)
	if err != nil || j.Finished() {
		return
	}
	(&tracker{s: s, a: a, id: j.ID}).finish(ctx, status, msg)
}
