package applications

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ganetimgr/ganetimgr/internal/audit"
	"github.com/ganetimgr/ganetimgr/internal/auth"
	"github.com/ganetimgr/ganetimgr/internal/store"
)

// The audit log of the workflow (Deps.Audit; nothing is recorded without
// one). Every decision is written in the transaction of its status change,
// so an entry exists exactly when the change does:
//
//   - application.file: a user applied (ok);
//   - application.approve: a reviewer approved a pending application
//     (detail: the placement);
//   - application.submit: a reviewer submitted an approved application, or
//     submitted a failed one again (the review form's "re-submit");
//   - application.refuse (detail: the reason) and application.discard;
//   - application.fast_create: an administrator created a VM directly;
//   - application.create: the submission job's result, by the system
//     (ok: the VM exists; failed: Ganeti's message), with the job id.
//
// A reviewer's action tried without the permission to review is recorded
// on its own with the outcome refused (RecordRefusedReview).

// refusedReviewDetail explains a refused reviewer's action.
const refusedReviewDetail = "Not allowed: reviewing applications needs the change_application permission."

// auditApp returns the TxFunc recording action on application id by p (at
// the client address ctx carries) inside the change's transaction, with
// the application as the transaction left it, described by describe; id 0
// is the application CreateApplication just inserted; a jobID of 0 takes
// the application's. It is nil without an audit log (store functions skip
// nil TxFuncs).
func (s *Service) auditApp(ctx context.Context, p *auth.Principal, id int64, action audit.Action, outcome audit.Outcome,
	describe func(a *store.Application) string, jobID int64) store.TxFunc {
	if s.audit == nil {
		return nil
	}
	actor := audit.ActorIn(ctx, p)
	return func(ctx context.Context, tx pgx.Tx) error {
		if id == 0 {
			var err error
			if id, err = s.st.NewApplicationIDTx(ctx, tx); err != nil {
				return err
			}
		}
		a, err := s.st.ApplicationTx(ctx, tx, id)
		if err != nil {
			return err
		}
		detail := ""
		if describe != nil {
			detail = describe(a)
		}
		e := entryOf(a, actor, action, outcome, detail)
		if jobID != 0 {
			e.JobID = jobID
		}
		if err := s.audit.Then(e)(ctx, tx); err != nil {
			return fmt.Errorf("applications: audit %s: %w", action, err)
		}
		return nil
	}
}

// entryOf is the audit entry of an action on application a: its cluster
// (when placed), its hostname as the instance, its creation job.
func entryOf(a *store.Application, actor audit.Actor, action audit.Action, outcome audit.Outcome, detail string) audit.Entry {
	return audit.Entry{Actor: actor, Action: action, Outcome: outcome, ClusterID: a.ClusterID, ClusterSlug: a.ClusterSlug,
		Instance: a.Hostname, ApplicationID: a.ID, JobID: a.JobID, Detail: detail}
}

// says describes an entry with fixed words.
func says(detail string) func(*store.Application) string {
	return func(*store.Application) string { return detail }
}

// placed describes an entry with the application's placement and the
// reviewer's words.
func placed(before, comment string) func(*store.Application) string {
	return func(a *store.Application) string {
		return strings.TrimSpace(before + " " + placementDetail(a.Placement, a.ClusterSlug, comment))
	}
}

// placementDetail describes a placement and the reviewer's words.
func placementDetail(pl store.Placement, slug, comment string) string {
	var parts []string
	if slug != "" {
		parts = append(parts, "cluster "+slug)
	}
	if pl.NodeGroup != "" {
		parts = append(parts, "node group "+pl.NodeGroup)
	}
	if pl.NetworkName != "" {
		parts = append(parts, "network "+pl.NetworkName)
	} else if pl.NetworkLink != "" {
		parts = append(parts, "network link "+pl.NetworkLink)
	}
	if pl.DiskTemplate != "" {
		parts = append(parts, "disk template "+pl.DiskTemplate)
	}
	d := ""
	if len(parts) > 0 {
		d = "Placement: " + strings.Join(parts, ", ") + "."
	}
	if comment != "" {
		d = strings.TrimSpace(d + " Comment: " + comment)
	}
	return d
}

// reviewAction is the audited action of a reviewer moving an application
// to status to.
func reviewAction(to Status) audit.Action {
	switch to {
	case store.AppRefused:
		return audit.ApplicationRefuse
	case store.AppDiscarded:
		return audit.ApplicationDiscard
	case store.AppSubmitted:
		return audit.ApplicationSubmit
	default:
		return audit.ApplicationApprove
	}
}

// RecordRefusedReview records that p tried action (application.approve,
// .refuse, .discard or .submit) on application id without the permission
// to review: the web pages refuse such requests before they reach the
// Service, and call this. The entry is written on its own; a failure to
// write it is logged, never shown to the refused user.
func (s *Service) RecordRefusedReview(ctx context.Context, p *auth.Principal, action audit.Action, id int64) {
	s.recordRefused(ctx, p, action, id, refusedReviewDetail)
}

// recordRefused writes a refused attempt on its own.
func (s *Service) recordRefused(ctx context.Context, p *auth.Principal, action audit.Action, id int64, detail string) {
	if s.audit == nil {
		return
	}
	e := audit.Entry{Actor: audit.ActorIn(ctx, p), Action: action, Outcome: audit.Refused, ApplicationID: id, Detail: detail}
	// The application is named only to someone who may see it: the entry
	// is in the actor's own history, and a refusal must not reveal an
	// application the page answered "not found" for.
	if a, err := s.st.Application(ctx, id); err == nil && CanView(p, a) {
		e = entryOf(a, e.Actor, action, audit.Refused, detail)
	}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.WarnContext(ctx, "recording a refused attempt failed", "action", action, "application", id, "error", err)
	}
}
