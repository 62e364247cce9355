package applications

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/mail"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Queue is the river queue the submission jobs run in.
const Queue = "applications"

// DefaultMaxAttempts bounds the runs of a submission job that end in an
// error (an unreachable cluster); after the last one the application is
// failed. With the default backoff that is about seven hours.
const DefaultMaxAttempts = 20

// SubmitArgs is the river job that creates the VM of one submission
// attempt of an application (see the package documentation).
type SubmitArgs struct {
	ApplicationID int64 `json:"application_id"`
	Attempt       int   `json:"attempt"`
}

// Kind returns the job kind, "applications.submit".
func (SubmitArgs) Kind() string { return "applications.submit" }

// InsertOpts puts the job in the applications queue, unique per
// application and attempt (inserting it twice is harmless).
func (SubmitArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: DefaultMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// WorkerOptions configure a SubmitWorker; the zero value takes the
// defaults.
type WorkerOptions struct {
	// Timeout bounds one run; 0 means 5 minutes. It must exceed the
	// Service's FollowTimeout and stay below the queue's
	// RescueStuckJobsAfter.
	Timeout time.Duration
	// RetryBase is the delay after the first failed run, doubling up to
	// RetryMax; 0 means 30 seconds and 30 minutes.
	RetryBase time.Duration
	RetryMax  time.Duration
	// Snooze is the pause before following a still running Ganeti job
	// again; 0 means 5 seconds.
	Snooze time.Duration
}

// SubmitWorker is the river worker of SubmitArgs. It is registered with
// the queue before the Service exists (the Service needs the queue's
// client), and bound to it with Bind before the queue starts.
type SubmitWorker struct {
	river.WorkerDefaults[SubmitArgs]
	svc  atomic.Pointer[Service]
	opts WorkerOptions
}

// NewSubmitWorker returns an unbound worker.
func NewSubmitWorker(o WorkerOptions) *SubmitWorker {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Minute
	}
	if o.Snooze <= 0 {
		o.Snooze = 5 * time.Second
	}
	o.RetryMax = max(o.RetryMax, o.RetryBase)
	return &SubmitWorker{opts: o}
}

// Bind gives the worker the Service it works for.
func (w *SubmitWorker) Bind(s *Service) { w.svc.Store(s) }

// Timeout bounds one run (WorkerOptions.Timeout).
func (w *SubmitWorker) Timeout(*river.Job[SubmitArgs]) time.Duration { return w.opts.Timeout }

// NextRetry schedules the run after a failed one: RetryBase doubled per
// failure, at most RetryMax, less up to 10% jitter.
func (w *SubmitWorker) NextRetry(job *river.Job[SubmitArgs]) time.Time {
	d := w.opts.RetryBase
	for i := 1; i < job.Attempt && d < w.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.opts.RetryMax)
	return time.Now().Add(d - time.Duration(rand.Int64N(int64(d)/10+1)))
}

// Work runs one submission job.
func (w *SubmitWorker) Work(ctx context.Context, job *river.Job[SubmitArgs]) error {
	s := w.svc.Load()
	if s == nil {
		return errors.New("applications: submission worker not bound to a service")
	}
	return s.submit(ctx, job.Args, job.Attempt >= job.MaxAttempts, w.opts.Snooze)
}

// submit runs one submission job: it ends when the application is settled
// (created or failed), snoozes while the Ganeti job runs, and returns an
// error (retried with backoff) while the cluster cannot be reached. On the
// last allowed run such an error fails the application.
func (s *Service) submit(ctx context.Context, args SubmitArgs, last bool, snooze time.Duration) error {
	a, err := s.st.Application(ctx, args.ApplicationID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("applications: application %d does not exist", args.ApplicationID))
	}
	if err != nil {
		return err
	}
	if a.Status != store.AppSubmitted || a.SubmitAttempt != args.Attempt {
		// Settled already, or superseded by a newer submission.
		s.log.DebugContext(ctx, "submission job has nothing to do", "application", a.ID, "status", a.Status,
			"attempt", args.Attempt, "current_attempt", a.SubmitAttempt)
		return nil
	}
	log := s.log.With("application", a.ID, "hostname", a.Hostname, "attempt", a.SubmitAttempt)
	err = s.run(ctx, a, snooze)
	var snoozed *river.JobSnoozeError
	switch {
	case err == nil, errors.As(err, &snoozed):
		return err
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// Shutting down: resume at once in the next process, without
		// counting this run.
		return river.JobSnooze(0)
	case last:
		log.ErrorContext(ctx, "creating the VM failed on the last attempt; giving up", "error", err)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		return s.settleFailed(dctx, a, 0, "The cluster could not be reached: "+err.Error())
	}
	log.WarnContext(ctx, "creating the VM: will retry", "error", err)
	return err
}

// run is one pass of the submission (see the package documentation for
// the exactly-once argument): find the job or the VM of this attempt if a
// previous pass created it, else create it; then follow the job.
func (s *Service) run(ctx context.Context, a *store.Application, snooze time.Duration) error {
	if a.ClusterID == 0 {
		return s.settleFailed(ctx, a, 0, "The cluster of the placement is no longer registered.")
	}
	c, err := s.st.ClusterByID(ctx, a.ClusterID)
	if errors.Is(err, store.ErrNotFound) {
		return s.settleFailed(ctx, a, 0, "The cluster of the placement is no longer registered.")
	}
	if err != nil {
		return err
	}
	if c.Disabled {
		return fmt.Errorf("cluster %s is disabled", c.Slug)
	}
	cl, err := s.clients.Client(c)
	if err != nil {
		return err
	}
	marker := Marker(a.ID, a.SubmitAttempt)
	jobID := rapi.JobID(a.JobID)
	if jobID == 0 {
		jobs, err := cl.JobsBulk(ctx)
		if err != nil {
			return err
		}
		if j := findCreateJob(jobs, a.Hostname, marker); j != nil {
			// A previous pass created the VM but did not record its job.
			jobID = j.ID
			s.log.InfoContext(ctx, "found the creation job of an earlier run", "application", a.ID, "job", jobID)
			if err := s.st.SetApplicationJob(ctx, a.ID, a.SubmitAttempt, int64(jobID)); err != nil {
				return settledOK(err)
			}
		} else {
			inst, err := cl.Instance(ctx, a.Hostname)
			switch {
			case err == nil && s.codec.Parse(inst.Tags).Application == a.ID:
				// Created by this application; its job has been archived.
				return s.settleCreated(ctx, a, c)
			case err == nil:
				return s.settleFailed(ctx, a, 0, fmt.Sprintf("An instance named %s already exists on cluster %s.", a.Hostname, c.Slug))
			case !rapi.IsNotFound(err):
				return err
			}
			if jobID, err = s.create(ctx, a, c, cl, marker); err != nil || jobID == 0 {
				return err
			}
		}
	}

	// The application's page shows the job's progress from its tracked
	// job, which records each log line as Ganeti writes it.
	tr := s.track(ctx, a, c, jobID)
	fctx, cancel := context.WithTimeout(ctx, s.follow)
	_, err = cl.WaitJobProgress(fctx, jobID, func(e rapi.LogEntry) { tr.log(ctx, e) })
	cancel()
	var je *rapi.JobError
	switch {
	case err == nil:
		return s.settleCreated(ctx, a, c)
	case errors.As(err, &je):
		return s.settleFailed(ctx, a, int64(jobID), je.Summary())
	case rapi.IsNotFound(err):
		// The job is gone (archived): the VM tells how it ended.
		inst, ierr := cl.Instance(ctx, a.Hostname)
		switch {
		case ierr == nil && s.codec.Parse(inst.Tags).Application == a.ID:
			return s.settleCreated(ctx, a, c)
		case ierr == nil || rapi.IsNotFound(ierr):
			return s.settleFailed(ctx, a, int64(jobID), fmt.Sprintf("Ganeti job %d is no longer known to the cluster and did not create the instance.", jobID))
		}
		return ierr
	case fctx.Err() != nil && ctx.Err() == nil:
		return river.JobSnooze(snooze)
	}
	return err
}

// create sends the creation request of this attempt and records its job.
// It returns 0 and nil when the application was settled instead (a request
// Ganeti refuses for good).
func (s *Service) create(ctx context.Context, a *store.Application, c *store.Cluster, cl RAPI, marker string) (rapi.JobID, error) {
	req, token, err := s.buildRequest(ctx, a, c)
	var perm *permanentError
	if errors.As(err, &perm) {
		return 0, s.settleFailed(ctx, a, 0, perm.msg)
	}
	if err != nil {
		return 0, err
	}
	if token != "" {
		sum := sha256Sum(token)
		if err := s.st.SetApplicationKeyToken(ctx, a.ID, a.SubmitAttempt, sum, time.Now().Add(s.keyTTL)); err != nil {
			return 0, settledOK(err)
		}
	}
	jobID, err := cl.CreateInstance(rapi.WithReason(ctx, marker), req)
	if err != nil {
		if permanentRAPI(err) {
			return 0, s.settleFailed(ctx, a, 0, err.Error())
		}
		return 0, err
	}
	// From here until the job id is recorded a crash leaves a job the next
	// run finds by its marker.
	if s.afterCreate != nil {
		if err := s.afterCreate(ctx, a.ID, jobID); err != nil {
			return 0, err
		}
	}
	s.log.InfoContext(ctx, "creation job submitted", "application", a.ID, "cluster", c.Slug, "job", jobID)
	if err := s.st.SetApplicationJob(ctx, a.ID, a.SubmitAttempt, int64(jobID)); err != nil {
		return 0, settledOK(err)
	}
	return jobID, nil
}

// settledOK turns "someone else settled the application" into success.
func settledOK(err error) error {
	if errors.Is(err, store.ErrStatusChanged) {
		return nil
	}
	return err
}

// permanentError is a problem a retry cannot fix.
type permanentError struct{ msg string }

// Error returns the message stored as the failure.
func (e *permanentError) Error() string { return e.msg }

// permanentRAPI reports whether a creation request failed for good: Ganeti
// refused its parameters (400), the RAPI user may not write (403), or the
// cluster lacks a needed feature.
func permanentRAPI(err error) bool {
	var ae *rapi.APIError
	if errors.As(err, &ae) && (ae.Code == http.StatusBadRequest || ae.Code == http.StatusForbidden ||
		ae.Code == http.StatusUnsupportedMediaType) {
		return true
	}
	return errors.Is(err, rapi.ErrUnsupported) || errors.Is(err, rapi.ErrInvalidArgument)
}

// buildRequest gathers what the creation request needs and builds it. It
// returns the token of the SSH-key URL when the image takes one.
func (s *Service) buildRequest(ctx context.Context, a *store.Application, c *store.Cluster) (rapi.InstanceCreate, string, error) {
	u, err := s.st.UserByID(ctx, a.ApplicantID)
	if err != nil {
		return rapi.InstanceCreate{}, "", err
	}
	in := CreateInput{App: a, Applicant: u.Username, Codec: s.codec, Start: s.start}
	if a.OrganizationID != 0 {
		o, err := s.st.OrganizationByID(ctx, a.OrganizationID)
		switch {
		case err == nil:
			in.OrgTag = o.Tag
		case !errors.Is(err, store.ErrNotFound):
			return rapi.InstanceCreate{}, "", err
		}
	}
	token := ""
	if a.OSImage != "" {
		im, err := s.st.OSImage(ctx, a.OSImage)
		if err != nil {
			return rapi.InstanceCreate{}, "", err
		}
		in.Image = im
		if in.SecretParams, err = s.openSecrets(im.SecretParams); err != nil {
			return rapi.InstanceCreate{}, "", &permanentError{msg: err.Error()}
		}
		keys, err := s.st.SSHKeysOfUsers(ctx, []int64{a.ApplicantID})
		if err != nil {
			return rapi.InstanceCreate{}, "", err
		}
		for _, k := range keys {
			in.SSHKeys = append(in.SSHKeys, k.Line)
		}
		if im.SSHKeyParam != "" {
			var err error
			if token, _, err = newKeyToken(); err != nil {
				return rapi.InstanceCreate{}, "", err
			}
			in.KeyURL = s.base + KeysPath(token)
		}
	}
	nodes, err := s.st.CachedNodes(ctx, c.ID)
	if err != nil {
		return rapi.InstanceCreate{}, "", err
	}
	in.PNode, in.SNode = pickNodes(nodes, a.NodeGroup, a.DiskTemplate)
	req, err := BuildCreate(in)
	if err != nil {
		return rapi.InstanceCreate{}, "", &permanentError{msg: err.Error()}
	}
	return req, token, nil
}

// findCreateJob returns the creation job (not a dry run) of name whose
// reason trail carries marker; nil when there is none.
func findCreateJob(jobs []rapi.Job, name, marker string) *rapi.Job {
	var found *rapi.Job
	for i := range jobs {
		j := &jobs[i]
		if len(j.Ops) == 0 || j.Ops[0].ID != "OP_INSTANCE_CREATE" || j.Ops[0].InstanceName != name {
			continue
		}
		var op struct {
			DryRun bool                `json:"dry_run"`
			Reason [][]json.RawMessage `json:"reason"`
		}
		if json.Unmarshal(j.Ops[0].Raw, &op) != nil || op.DryRun {
			continue
		}
		for _, r := range op.Reason {
			var text string
			if len(r) > 1 && json.Unmarshal(r[1], &text) == nil && text == marker {
				if found == nil || j.ID > found.ID {
					found = j
				}
				break
			}
		}
	}
	return found
}

// maxBackendMessage bounds a stored failure message (in bytes, cut at a
// character boundary).
const maxBackendMessage = 8000

func boundMessage(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "The creation failed without a message."
	}
	if len(s) <= maxBackendMessage {
		return s
	}
	cut := maxBackendMessage - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// settleFailed fails the submission with msg, mails the administrators and
// records the failure in the audit log (by the system, with the job), in
// one transaction. A submission settled by someone else is left alone.
func (s *Service) settleFailed(ctx context.Context, a *store.Application, jobID int64, msg string) error {
	msg = boundMessage(msg)
	s.finishTracked(ctx, a, "error", msg)
	_, err := s.st.TransitionApplication(ctx, store.ApplicationTransition{ID: a.ID, From: store.AppSubmitted,
		To: store.AppFailed, Attempt: a.SubmitAttempt, BackendMessage: msg, Comment: msg},
		func(ctx context.Context, tx pgx.Tx) error {
			if jobID == 0 {
				jobID = a.JobID
			}
			_, err := s.mail.EnqueueAdminsTx(ctx, tx, mail.ApplicationFailed{ID: a.ID, Hostname: a.Hostname,
				Cluster: a.ClusterSlug, JobID: jobID, Message: msg, Path: ApplicationPath(a.ID)})
			return err
		}, s.auditApp(ctx, nil, a.ID, audit.ApplicationCreate, audit.Failed, says(msg), jobID))
	if err != nil {
		return settledOK(err)
	}
	s.log.WarnContext(ctx, "creating the VM failed", "application", a.ID, "hostname", a.Hostname,
		"cluster", a.ClusterSlug, "job", jobID, "message", msg)
	return nil
}

// settleCreated refreshes the new instance in the cluster cache, then
// marks the application created, mails the applicant and the
// administrators and records the creation in the audit log (by the
// system, with the job) in one transaction. The refresh comes first so
// that whoever sees the application created (its page, the mail) finds
// the instance in the lists at once.
func (s *Service) settleCreated(ctx context.Context, a *store.Application, c *store.Cluster) error {
	// The tracked job ends after the refresh, so the page it leads to
	// (the new instance's) finds the instance in the cache.
	defer s.finishTracked(ctx, a, "success", "")
	if s.refresh != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := s.refresh(rctx, c.ID, a.Hostname)
		cancel()
		if err != nil {
			s.log.WarnContext(ctx, "refreshing the new instance failed; the next sync shows it", "application", a.ID, "error", err)
		}
	}
	_, err := s.st.TransitionApplication(ctx, store.ApplicationTransition{ID: a.ID, From: store.AppSubmitted,
		To: store.AppCreated, Attempt: a.SubmitAttempt},
		func(ctx context.Context, tx pgx.Tx) error {
			u, err := s.st.UserByID(ctx, a.ApplicantID)
			if err != nil {
				return err
			}
			m := mail.ApplicationCreated{ID: a.ID, Hostname: a.Hostname, Cluster: c.Slug, Comments: a.AdminComments,
				Path: InstancePath(c.Slug, a.Hostname)}
			if _, err := s.mail.EnqueueTx(ctx, tx, recipientOf(u), m); err != nil {
				return err
			}
			m.ApprovedBy = a.ReviewerUsername
			if m.ApprovedBy == "" {
				m.ApprovedBy = "-"
			}
			_, err = s.mail.EnqueueAdminsTx(ctx, tx, m)
			return err
		}, s.auditApp(ctx, nil, a.ID, audit.ApplicationCreate, audit.OK, says("The virtual machine was created."), 0))
	if err != nil {
		return settledOK(err)
	}
	s.log.InfoContext(ctx, "VM created", "application", a.ID, "hostname", a.Hostname, "cluster", c.Slug)
	return nil
}

// sha256Sum is the stored form of an SSH-key URL token.
func sha256Sum(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
