package instanceops

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/i18n"
	"github.com/ganetimgr/ganetimgr/internal/rapi"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// Marker is the reason an action's RAPI call carries into the Ganeti
// job's reason trail, "ganetimgr:<username>:<kind>:<tracked id>" ("-" for
// the system), by which a job whose id was never recorded is found again.
func Marker(username string, k Kind, tracked int64) string {
	if username == "" {
		username = "-"
	}
	return "ganetimgr:" + username + ":" + string(k) + ":" + strconv.FormatInt(tracked, 10)
}

// auditAction is the audited action of a kind (for the kinds whose code
// does not depend on what is done).
func auditAction(k Kind) audit.Action {
	switch k {
	case Start:
		return audit.InstanceStart
	case Shutdown:
		return audit.InstanceShutdown
	case Reboot:
		return audit.InstanceReboot
	case Reinstall:
		return audit.InstanceReinstall
	case Rename:
		return audit.InstanceRename
	case Destroy:
		return audit.InstanceDestroy
	case Configure:
		return audit.InstanceConfigure
	case Owners:
		return audit.InstanceOwnerAdd
	case Lock:
		return audit.InstanceLock
	case Isolate:
		return audit.InstanceIsolate
	case AllowFrom:
		return audit.InstanceAllowFrom
	}
	return audit.InstanceJobEnd
}

// action is one action as runAction carries it out.
type action struct {
	kind Kind
	// audit is the audited action (auditAction(kind) unless it depends on
	// what is done, as for owners, locks and isolation).
	audit audit.Action
	// detail says what changes, in plain words (the tracked job's Detail
	// and the audit entry's).
	detail string
	// check, when set, validates the action against the instance's fresh
	// state after Decide and before the instance is claimed.
	check func(st State) *Refusal
	// describe, when set, gives the detail once check has passed (when
	// what changes is known only from the fresh state).
	describe func(st State) string
	// call sends the change to the cluster and returns its Ganeti job. A
	// *Refusal it returns means nothing was sent.
	call func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error)
}

// target is an instance as an action finds it.
type target struct {
	slug, name string
	// cluster is nil when no cluster has the slug.
	cluster *store.Cluster
	// state.Instance is nil when the cluster cache lacks the instance.
	state State
}

// exists reports whether the instance is known.
func (t *target) exists() bool { return t.cluster != nil && t.state.Instance != nil }

// clusterID is the cluster's id, 0 when unknown.
func (t *target) clusterID() int64 {
	if t.cluster == nil {
		return 0
	}
	return t.cluster.ID
}

// load reads an instance fresh from the cluster cache with its
// maintenance and pending state and p's groups. An unknown cluster or
// instance is no error (see target).
func (s *Service) load(ctx context.Context, p *auth.Principal, slug, name string) (*target, error) {
	t := &target{slug: slug, name: name}
	c, err := s.st.ClusterBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	t.cluster = c
	in, err := s.st.CachedInstance(ctx, c.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	t.state.Instance = in
	if in.NodeGroup != "" {
		if t.state.Maintenance, err = s.st.NodeGroupLocked(ctx, c.ID, in.NodeGroup); err != nil {
			return nil, fmt.Errorf("instanceops: %w", err)
		}
	}
	pending, err := s.st.ActiveInstanceJob(ctx, c.ID, name)
	switch {
	case err == nil:
		t.state.Pending = pending
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("instanceops: %w", err)
	}
	if p != nil && p.User != nil {
		groups, err := s.st.UserGroups(ctx, p.User.ID)
		if err != nil {
			return nil, fmt.Errorf("instanceops: %w", err)
		}
		for _, g := range groups {
			t.state.Groups = append(t.state.Groups, g.Name)
		}
	}
	return t, nil
}

// decide is Decide for a loaded target: an unknown instance is NotFound,
// and an allowed action on a disabled cluster is Unavailable.
func (s *Service) decide(p *auth.Principal, t *target, k Kind) *Refusal {
	if !t.exists() {
		return notFound()
	}
	if r := Decide(p, t.state, k); r != nil {
		return r
	}
	if t.cluster.Disabled {
		return refuse(Unavailable, i18n.M("instance_ops.refusal.cluster_disabled"))
	}
	return nil
}

// run carries out one action that changes an instance through the RAPI:
// it loads the instance fresh from the cache with its maintenance and
// pending state and Decides (a refusal is audited; one on an instance that
// exists but is not visible to the user also mails the administrators, at
// most once per user and instance per RefusalMailEvery), claims the
// instance (an unfinished job already there gives JobPending), calls call
// with rapi.WithReason(ctx, Marker(...)), and records the job id, the
// audit entry (outcome ok, job id) and the follow job in one transaction.
// A RAPI error finishes the job as error, audits outcome failed and
// returns Refusal Unavailable (Invalid when Ganeti said the request was
// bad, with Ganeti's message in Detail). call returning a *Refusal means
// it sent nothing: the refusal is audited and returned.
func (s *Service) run(ctx context.Context, req Request, slug, name string, k Kind, detail string,
	call func(ctx context.Context, c RAPI, in *store.CachedInstance) (rapi.JobID, error)) (*store.InstanceJob, error) {
	return s.runAction(ctx, req, slug, name, action{kind: k, audit: auditAction(k), detail: detail, call: call})
}

// runAction is run with an action's full description.
func (s *Service) runAction(ctx context.Context, req Request, slug, name string, a action) (*store.InstanceJob, error) {
	p := req.Principal
	t, err := s.load(ctx, p, slug, name)
	if err != nil {
		return nil, err
	}
	if r := s.decide(p, t, a.kind); r != nil {
		return nil, s.refused(ctx, req, t, &a, r)
	}
	if a.check != nil {
		if r := a.check(t.state); r != nil {
			return nil, s.refused(ctx, req, t, &a, r)
		}
	}
	if a.describe != nil {
		a.detail = a.describe(t.state)
	}
	cl, err := s.clients.RAPI(t.cluster)
	if err != nil {
		s.log.ErrorContext(ctx, "no RAPI client for the cluster", "cluster", t.slug, "error", err)
		s.record(ctx, s.entry(req, t, &a, audit.Failed, 0, "the cluster's RAPI client could not be built"))
		return nil, unavailable()
	}

	username := ""
	if p != nil && p.User != nil {
		username = p.User.Username
	}
	// The claim also schedules the follow job that resolves the row should
	// this process die before the job id is recorded.
	job, err := s.st.ClaimInstanceJob(ctx, store.InstanceJob{ClusterID: t.cluster.ID, Instance: name, Kind: string(a.kind),
		Detail: a.detail, UserID: req.userID(), Username: username},
		func(j *store.InstanceJob) store.TxFunc { return s.followTx(j.ID, s.now().Add(s.grace)) })
	if errors.Is(err, store.ErrConflict) {
		r := &Refusal{Code: JobPending, Msg: a.kind.Busy()}
		if pending, perr := s.st.ActiveInstanceJob(ctx, t.cluster.ID, name); perr == nil {
			r.Msg = Kind(pending.Kind).Busy()
		}
		return nil, s.refused(ctx, req, t, &a, r)
	}
	if err != nil {
		return nil, fmt.Errorf("instanceops: %w", err)
	}

	// The call and its recording go on when the asking request ends: a
	// job started is a job recorded.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.callTO)
	defer cancel()
	jobID, err := a.call(rapi.WithReason(cctx, Marker(username, a.kind, job.ID)), cl, t.state.Instance)
	if err == nil && jobID <= 0 {
		err = errors.New("instanceops: the action returned no job")
	}
	if err != nil {
		return nil, s.callFailed(cctx, req, t, &a, job, err)
	}
	if s.afterCall != nil {
		if err := s.afterCall(cctx, job.ID, jobID); err != nil {
			return nil, err
		}
	}
	out, err := s.st.SetInstanceJobID(cctx, job.ID, int64(jobID),
		s.audit.Then(s.entry(req, t, &a, audit.OK, int64(jobID), a.detail)),
		s.followTx(job.ID, time.Time{}))
	if err != nil {
		// The job runs; the follow job scheduled by the claim finds it by
		// its marker.
		return nil, fmt.Errorf("instanceops: record job %d of %s: %w", jobID, name, err)
	}
	s.log.InfoContext(ctx, "instance job submitted", "cluster", t.slug, "instance", name, "kind", a.kind,
		"tracked", out.ID, "job", jobID, "user", username)
	return out, nil
}

// userID is the asking user's id, 0 for none.
func (r Request) userID() int64 {
	if r.Principal == nil || r.Principal.User == nil {
		return 0
	}
	return r.Principal.User.ID
}

// entry is the audit entry of an action on t.
func (s *Service) entry(req Request, t *target, a *action, outcome audit.Outcome, jobID int64, detail string) audit.Entry {
	return audit.Entry{Actor: audit.ActorOf(req.Principal, req.Addr), Action: a.audit, Outcome: outcome,
		ClusterID: t.clusterID(), ClusterSlug: t.slug, Instance: t.name, JobID: jobID, Detail: detail}
}

// record writes an audit entry on its own; a failure is logged (the
// action's outcome stands).
func (s *Service) record(ctx context.Context, e audit.Entry) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.audit.Record(wctx, e); err != nil {
		s.log.ErrorContext(ctx, "writing an audit entry failed", "action", e.Action, "instance", e.Instance, "error", err)
	}
}

// refusalDetail is the audit detail of a refusal.
func refusalDetail(r *Refusal, detail string) string {
	d := string(r.Code)
	if r.Field != "" {
		d += " (" + r.Field + ")"
	}
	if detail != "" {
		d += ": " + detail
	}
	if r.Detail != "" {
		d += " [" + r.Detail + "]"
	}
	return d
}

// refused audits a refused attempt (outcome refused) and, when the
// instance exists but is not visible to the user, mails the
// administrators (at most once per user and instance per
// RefusalMailEvery), in one transaction. It returns r.
func (s *Service) refused(ctx context.Context, req Request, t *target, a *action, r *Refusal) error {
	e := s.entry(req, t, a, audit.Refused, 0, refusalDetail(r, a.detail))
	notTheirs := r.Code == NotFound && t.exists() && req.userID() != 0
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := pgx.BeginFunc(wctx, s.st.Pool(), func(tx pgx.Tx) error {
		if err := s.audit.Then(e)(wctx, tx); err != nil {
			return err
		}
		if !notTheirs {
			return nil
		}
		return s.mailRefusalTx(wctx, tx, req, t, a)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "recording a refused attempt failed", "action", a.audit, "cluster", t.slug,
			"instance", t.name, "error", err)
	}
	return r
}

// callFailed handles an action's RAPI call that did not return a job.
func (s *Service) callFailed(ctx context.Context, req Request, t *target, a *action, job *store.InstanceJob, err error) error {
	var r *Refusal
	if errors.As(err, &r) {
		// Nothing was sent: the instance is free again.
		if derr := s.st.DropInstanceJob(ctx, job.ID); derr != nil {
			s.log.ErrorContext(ctx, "dropping a claimed job failed", "tracked", job.ID, "error", derr)
		}
		return s.refused(ctx, req, t, a, r)
	}
	log := s.log.With("cluster", t.slug, "instance", t.name, "kind", a.kind, "tracked", job.ID)
	if !certainlyNotSent(err) {
		// The cluster may have received the call: the follow job looks for
		// its job by the marker, and finishes the row as lost if none
		// turns up within the grace period.
		log.WarnContext(ctx, "the RAPI call's outcome is unknown; looking for its job", "error", err)
		s.record(ctx, s.entry(req, t, a, audit.Failed, 0, a.detail+" [no answer from the cluster: "+err.Error()+"]"))
		soon := s.followTx(job.ID, s.now().Add(5*time.Second))
		if ferr := pgx.BeginFunc(ctx, s.st.Pool(), func(tx pgx.Tx) error { return soon(ctx, tx) }); ferr != nil {
			log.ErrorContext(ctx, "scheduling the follow job failed", "error", ferr)
		}
		return &Refusal{Code: Unavailable, Msg: i18n.M("instance_ops.refusal.uncertain")}
	}

	msg := callErrorText(err)
	r = unavailable()
	var ae *rapi.APIError
	switch {
	case errors.As(err, &ae) && ae.Code == http.StatusBadRequest, errors.Is(err, rapi.ErrInvalidArgument):
		r = &Refusal{Code: Invalid, Msg: i18n.M("instance_ops.refusal.ganeti_refused")}
	case rapi.IsNotFound(err):
		r = &Refusal{Code: NotFound, Msg: i18n.M("instance_ops.refusal.gone")}
	}
	r.Detail = msg
	log.WarnContext(ctx, "the RAPI call failed", "error", err)
	_, ferr := s.st.FinishInstanceJob(ctx, job.ID, "error", msg, nil,
		s.audit.Then(s.entry(req, t, a, audit.Failed, 0, a.detail+" ["+msg+"]")))
	if ferr != nil {
		log.ErrorContext(ctx, "finishing a failed job failed", "error", ferr)
	}
	if r.Code == NotFound {
		s.refreshInstance(ctx, t.cluster.ID, t.name)
	}
	return r
}

// certainlyNotSent reports whether a RAPI call's error proves that the
// cluster started no job: it answered with an error, or the request was
// never sent (bad argument, no connection, certificate refused).
func certainlyNotSent(err error) bool {
	var ae *rapi.APIError
	var oe *net.OpError
	var pm *rapi.PinMismatchError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ae), errors.Is(err, rapi.ErrInvalidArgument), errors.As(err, &pm), errors.As(err, &ce):
		return true
	case errors.As(err, &oe) && oe.Op == "dial":
		return true
	}
	return false
}

// callErrorText is what a failed call's tracked job and audit entry keep:
// Ganeti's message for an API error, the error otherwise.
func callErrorText(err error) string {
	var ae *rapi.APIError
	if errors.As(err, &ae) {
		if ae.Message != "" {
			return ae.Message
		}
		return http.StatusText(ae.Code)
	}
	return err.Error()
}

// refreshInstance re-reads one instance into the cluster cache; a failure
// is logged (the next sync corrects the cache).
func (s *Service) refreshInstance(ctx context.Context, clusterID int64, name string) {
	if s.refresh == nil || name == "" {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.refresh(rctx, clusterID, name); err != nil {
		s.log.WarnContext(ctx, "refreshing the instance failed; the next sync shows it", "instance", name, "error", err)
	}
}
